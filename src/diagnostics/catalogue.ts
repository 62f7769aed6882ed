/**
 * The diagnostic catalogue: one row per problem nicoff can report.
 *
 * Codes are stable: tests and users' scripts match on them, so a code is never
 * reused for a different meaning. Ranges:
 *   NC1xxx  object files (ELF, BTF, relocations, maps)
 *   NC2xxx  captures (pcap, pcapng, link layers)
 *   NC3xxx  execution (reference interpreter, kernel oracle)
 *   NC4xxx  verifier (invalid programs)            -- issue 3
 *   NC5xxx  unsupported on the NFP                  -- issue 3/5
 *   NC6xxx  NFP microcode (decode, encode, assemble)
 *   NC7xxx  TLS (key logs, records, decryption)     -- TLS offload issue
 *   NC8xxx  usage (command line)
 *   NC9xxx  internal errors
 *
 * Category decides the exit status (diagnostic.ts, EXIT).
 */
export type DiagnosticCategory = 'input' | 'usage' | 'invalid' | 'unsupported-nfp' | 'internal';

interface CatalogueEntry {
  category: DiagnosticCategory;
  message: string;
}

function row(category: DiagnosticCategory, message: string): CatalogueEntry {
  return { category, message };
}

export const CATALOGUE = {
  // --- object files ---
  NC1001: row('input', 'cannot read file: {reason}'),
  NC1002: row('input', 'not an ELF file (magic {magic})'),
  NC1003: row('input', 'unsupported ELF class {cls}: only ELF64 is read'),
  NC1004: row('input', 'unsupported ELF data encoding {enc}'),
  NC1005: row('input', 'ELF machine is {machine}, not EM_BPF (247)'),
  NC1006: row('input', 'ELF type is {type}, not a relocatable object (ET_REL)'),
  NC1007: row('input', 'file truncated: {what} needs bytes {start}..{end} but the file has {size}'),
  NC1008: row('input', 'malformed ELF header: {reason}'),
  NC1009: row('input', 'malformed section header {index}: {reason}'),
  NC1010: row('input', 'malformed string table: {reason}'),
  NC1011: row('input', 'malformed symbol table: {reason}'),
  NC1012: row('input', 'malformed relocation {index} in {section}: {reason}'),
  NC1013: row('input', 'relocation {index} in {section} refers to missing symbol {symbol}'),
  NC1014: row('input', 'unsupported relocation type {type} in {section}'),
  NC1015: row('input', 'program section {section} has size {size}, not a multiple of 8'),
  NC1016: row('input', 'unknown program section name {section}: nicoff does not guess a program type'),
  NC1017: row('input', 'malformed map definition {map}: {reason}'),
  NC1018: row('input', 'malformed BTF: {reason}'),
  NC1019: row('input', 'malformed BTF.ext: {reason}'),
  NC1020: row('input', 'bad instruction at {section}+{offset}: {reason}'),
  NC1021: row('input', 'call at instruction {insn} of {section} targets {target}, outside any function'),
  NC1022: row('input', 'no program named {name} (programs: {known})'),
  NC1023: row('input', 'the object contains no programs'),
  NC1024: row('input', 'malformed license or version section: {reason}'),
  NC1025: row('input', 'ld_imm64 at instruction {insn} of {section} is relocated against {symbol} in section {target}, which is neither a map nor global data'),
  NC1026: row('input', 'cannot assemble line {line}: {reason}'),

  // --- captures ---
  NC2001: row('input', 'not a pcap or pcapng file (magic {magic})'),
  NC2002: row('input', 'capture truncated at byte {offset}: {what}; {packets} packets before the cut were read'),
  NC2003: row('input', 'unsupported link type {linktype} ({name})'),
  NC2004: row('input', 'malformed capture: {reason}'),

  // --- execution ---
  NC3001: row('invalid', 'runtime fault at instruction {insn}: {reason}'),
  NC3002: row('invalid', 'instruction budget of {limit} exhausted'),
  NC3003: row('unsupported-nfp', 'helper {helper} is not simulated by the reference interpreter'),
  NC3004: row('input', 'packet {packet} is {len} bytes; {what} needs at least {min}'),
  NC3005: row('input', 'unsupported program type {type} for this engine'),
  NC3010: row('internal', 'the running kernel is not available as an oracle: {reason}'),
  NC3011: row('invalid', 'the kernel refused to load the program: {reason}'),
  NC3012: row('internal', 'the kernel runner failed: {reason}'),
  NC3013: row('input', 'no kernel attach type is known for {attach} (program type {type})'),

  // --- verifier: control flow and instruction validity (src/verifier/control-flow.ts), NC4001-NC4049 ---
  NC4001: row('invalid', 'the program has no instructions'),
  NC4002: row('invalid', 'the program has {count} instructions; the kernel loads at most {limit}'),
  NC4003: row('invalid', 'instruction {insn} calls instruction {target}, outside the program (0..{last})'),
  NC4004: row('invalid', 'instruction {insn} starts subprogram number {count}; the kernel allows at most {limit}'),
  NC4005: row('invalid', 'instruction {insn} calls a kernel function, which needs a GPL-compatible license (this one is "{license}")'),
  NC4006: row('invalid', 'instruction {insn} calls a kernel function in module BTF slot {slot}; nicoff passes no module BTF (fd_array)'),
  NC4007: row('invalid', 'instruction {insn} calls kernel function BTF id {id}; nicoff has no kernel BTF to check kfunc calls against'),
  NC4008: row('invalid', 'jump at instruction {insn} goes to {target}, outside its function (instructions {start}..{last})'),
  NC4009: row('invalid', 'instruction {insn}, the last of the function starting at {start}, is not exit or an unconditional jump: control would fall into {next}'),
  NC4010: row('invalid', 'load at instruction {insn} uses reserved fields ({reason})'),
  NC4011: row('invalid', 'ld_imm64 at instruction {insn} has no valid second slot ({reason})'),
  NC4012: row('invalid', 'ld_imm64 at instruction {insn} has an unknown pseudo source {src} or a non-zero upper half for it'),
  NC4013: row('invalid', 'ld_imm64 at instruction {insn} loads kernel BTF object {id} (src 3); nicoff has no kernel BTF to resolve it'),
  NC4014: row('invalid', 'ld_imm64 at instruction {insn} uses map slot {index} of an fd_array (src {src}); nicoff passes no fd_array'),
  NC4015: row('invalid', 'ld_imm64 at instruction {insn} refers to map {index}, but the program has {count} maps'),
  NC4016: row('invalid', 'ld_imm64 at instruction {insn} points {off} bytes into map {map}, beyond the largest direct offset ({limit})'),
  NC4017: row('invalid', 'ld_imm64 at instruction {insn} takes the address of a value of map {map}, but {mapType} maps have no directly addressable values'),
  NC4018: row('invalid', 'ld_imm64 at instruction {insn} takes the address of byte {off} of map {map} (value size {valueSize}, {entries} entries); only single-entry arrays, inside the value, can be addressed'),
  NC4019: row('invalid', 'instruction {insn} uses a map beyond the kernel limit of {limit} maps per program'),
  NC4020: row('invalid', 'instruction {insn} has unknown opcode 0x{code}'),
  NC4021: row('invalid', 'instruction {insn} can never be reached'),
  NC4022: row('invalid', 'a jump goes into the middle of the ld_imm64 at instruction {insn}'),
  NC4023: row('invalid', 'instruction {insn} uses reserved fields: {reason}'),
  // (end of control-flow block)

  // --- verifier: abstract interpretation (src/verifier/ core), NC4050-NC4199 ---
  NC4050: row('invalid', 'instruction {insn} reads R{reg}, which holds no value on this path'),
  NC4051: row('invalid', 'instruction {insn} writes R10, the read-only frame pointer'),
  NC4052: row('invalid', 'instruction {insn} uses register R{reg}; only R0-R10 exist'),
  NC4053: row('invalid', 'instruction {insn} accesses memory through R{reg}, which holds {kind}, not a pointer to memory it may {access}'),
  NC4054: row('invalid', 'instruction {insn} dereferences R{reg}, which may be NULL ({kind}): compare it with 0 first'),
  NC4055: row('invalid', 'instruction {insn} accesses packet bytes {start}..{end} through R{reg}, but no data_end comparison on this path proves them present'),
  NC4056: row('invalid', 'instruction {insn} accesses memory through R{reg}, whose variable offset may be negative'),
  NC4057: row('invalid', 'instruction {insn} accesses bytes {start}..{end} of map {map}, whose values are {valueSize} bytes'),
  NC4058: row('invalid', 'instruction {insn} accesses memory through R{reg}, whose variable offset has no upper bound'),
  NC4059: row('invalid', 'instruction {insn} accesses the stack at offset {off}, {size} bytes, through R{reg}: outside the 512-byte frame'),
  NC4060: row('invalid', 'instruction {insn} makes a misaligned {what} access ({detail})'),
  NC4061: row('invalid', 'instruction {insn} reads stack bytes that hold no value a program may read ({detail})'),
  NC4062: row('invalid', 'instruction {insn} spills or fills a pointer with a {size}-byte access; pointers are spilled whole'),
  NC4063: row('invalid', 'instruction {insn} {access}s {size} bytes at offset {off} of the {type} context, which the kernel does not allow'),
  NC4064: row('invalid', 'instruction {insn} dereferences R{reg} ({kind}) after it was moved: {detail}'),
  NC4065: row('invalid', 'instruction {insn}: {detail}'),
  NC4066: row('invalid', 'instruction {insn} combines two pointers (R{reg} {op} pointer); only subtraction is allowed'),
  NC4067: row('invalid', 'instruction {insn} does 32-bit arithmetic on pointer R{reg}'),
  NC4068: row('invalid', 'instruction {insn} does arithmetic on R{reg}, which may be NULL ({kind}): compare it with 0 first'),
  NC4069: row('invalid', 'instruction {insn} moves pointer R{reg} ({kind}) too far: {detail}'),
  NC4070: row('invalid', 'instruction {insn} calls helper {helper}#{id}, which {type} programs may not use'),
  NC4071: row('invalid', 'instruction {insn} calls helper #{id}, which does not exist'),
  NC4072: row('invalid', 'instruction {insn} passes R{reg} ({kind}) to {helper}; the argument must be {expected}'),
  NC4073: row('invalid', 'instruction {insn} calls GPL-only helper {helper} from a program licensed "{license}"'),
  NC4074: row('invalid', 'instruction {insn} passes a size in R{reg} to {helper} that is {detail}'),
  NC4075: row('invalid', 'instruction {insn} passes a packet pointer (R{reg}) to {helper}, which may not read the packet'),
  NC4076: row('invalid', 'instruction {insn} passes map {map} ({mapType}) to {helper}, which does not take that kind of map'),
  NC4077: row('invalid', 'instruction {insn}: at exit R0 is {value}, outside what {type} programs may return ({expected})'),
  NC4078: row('invalid', 'the program is too complex: {processed} instructions processed, the limit is {limit}'),
  NC4079: row('invalid', 'the program is too complex: {count} branches pending at once at instruction {insn}, the limit is {limit}'),
  NC4080: row('invalid', 'instruction {insn} calls a function {frames} frames deep; the kernel allows {limit}'),
  NC4081: row('invalid', 'a chain of {calls} calls uses {bytes} bytes of stack; the kernel allows 512'),
  NC4082: row('invalid', 'instruction {insn} divides by the constant 0'),
  NC4083: row('invalid', 'instruction {insn} shifts by {amount}, not below the operand width {width}'),
  NC4084: row('invalid', 'instruction {insn} writes into map {map}, which is read-only for programs'),
  NC4085: row('invalid', 'instruction {insn} loops forever: the state at this instruction repeats exactly'),
  NC4086: row('invalid', 'program type {type} is not verified by nicoff (it verifies xdp, sched_cls, sched_act and socket_filter)'),
  NC4087: row('invalid', 'instruction {insn} exits while holding reference {id} acquired at instruction {alloc}'),
  NC4088: row('invalid', 'instruction {insn} does an atomic operation on R{reg} ({kind}); atomics work on stack and map values only'),
  NC4089: row('invalid', 'instruction {insn} uses ld_abs/ld_ind, which {type} programs may not use'),
  NC4090: row('invalid', 'instruction {insn} uses ld_abs/ld_ind, but R6 is {kind}, not the context pointer'),
  NC4091: row('invalid', 'instruction {insn} writes into the packet, which {type} programs may not do'),
  NC4092: row('invalid', 'instruction {insn} is reached with R{reg} pointing to {kind} on one path and {other} on another; a load or store must use one kind of pointer'),
  NC4093: row('invalid', 'instruction {insn}: {what} is not modelled by nicoff, so the program is refused'),
  NC4094: row('invalid', 'instruction {insn} returns a pointer to its own stack to the caller'),
  NC4095: row('invalid', 'instruction {insn} accesses the stack through R{reg} at a variable offset with no usable bounds ({detail})'),
  NC4096: row('invalid', 'instruction {insn} accesses bytes {start}..{end} of a {memSize}-byte ring buffer record through R{reg}'),
  NC4097: row('invalid', 'instruction {insn} reads R0 of a subprogram that ends without setting it, as a {detail}'),
  NC4098: row('invalid', 'instruction {insn}: {detail}'),
  NC4099: row('invalid', 'instruction {insn} ends a subprogram with R0 holding {kind}; subprograms return scalars'),
  NC4100: row('invalid', 'instruction {insn} calls helper {helper}, which may sleep, from a program that may not'),
  // (end of abstract-interpretation block)

  // --- unsupported on the NFP (src/verifier/nfp-target.ts), NC5001-NC5099 ---
  NC5001: row('unsupported-nfp', 'program type sched_act (a legacy TC action) is not supported on the NFP: offload takes cls_bpf in direct-action mode (sched_cls) or XDP'),
  NC5002: row('unsupported-nfp', 'program type {type} is not supported on the NFP: only xdp and sched_cls programs can be offloaded'),
  NC5003: row('unsupported-nfp', 'instruction {insn}: modulo ({name}) is not supported on the NFP'),
  NC5004: row('unsupported-nfp', 'instruction {insn}: unconditional byte swap ({name}, ALU64 END) is not supported on the NFP'),
  NC5005: row('unsupported-nfp', 'instruction {insn}: conversion to little endian ({name}) is not supported on the NFP; only be16/be32/be64 are'),
  NC5006: row('unsupported-nfp', 'instruction {insn}: sign-extending move (movsx, off {off}) is not supported on the NFP'),
  NC5007: row('unsupported-nfp', 'instruction {insn}: signed {what} (off 1) is not supported on the NFP'),
  NC5008: row('unsupported-nfp', 'instruction {insn}: sign-extending load (ldxs{size}) is not supported on the NFP'),
  NC5009: row('unsupported-nfp', 'instruction {insn}: immediate store (BPF_ST) to {memory} is not supported on the NFP; only packet data takes immediate stores'),
  NC5010: row('unsupported-nfp', 'instruction {insn}: store to a map value is not supported on the NFP (map writes are not supported)'),
  NC5011: row('unsupported-nfp', 'instruction {insn}: store to context field at offset {off} ({size} bytes) is not supported on the NFP; only XDP rx_queue_index (4 bytes) is writable'),
  NC5012: row('unsupported-nfp', 'instruction {insn}: store to XDP rx_queue_index is not supported on the NFP without the firmware QUEUE_SELECT capability'),
  NC5013: row('unsupported-nfp', 'instruction {insn}: atomic {op} is not supported on the NFP; only atomic add without fetch is'),
  NC5014: row('unsupported-nfp', 'instruction {insn}: atomic add to {memory} is not supported on the NFP; only map values take atomic adds'),
  NC5015: row('unsupported-nfp', 'instruction {insn}: atomic add of a {kind} is not supported on the NFP; the addend must be a scalar'),
  NC5016: row('unsupported-nfp', 'instruction {insn}: gotol (JMP32 JA) is not supported on the NFP'),
  NC5017: row('unsupported-nfp', 'instruction {insn}: kernel function calls (kfuncs) are not supported on the NFP'),
  NC5018: row('unsupported-nfp', 'instruction {insn}: tail calls (bpf_tail_call) are not supported on the NFP'),
  NC5019: row('unsupported-nfp', 'instruction {insn}: may_goto is not supported on the NFP'),
  NC5020: row('unsupported-nfp', 'instruction {insn}: ld_imm64 of {what} (src {src}) is not supported on the NFP; only map references are'),
  NC5021: row('unsupported-nfp', 'instruction {insn}: helper {helper} (id {id}) is not supported on the NFP'),
  NC5022: row('unsupported-nfp', 'instruction {insn}: helper {helper} is not supported by this NFP firmware (it lacks the {capability} capability)'),
  NC5023: row('unsupported-nfp', 'instruction {insn}: bpf_xdp_adjust_head is not supported on this NFP firmware: it requires shifting metadata, which the driver does not do'),
  NC5024: row('unsupported-nfp', 'instruction {insn}: bpf_perf_event_output flags must be the constant BPF_F_CURRENT_CPU on the NFP ({flags})'),
  NC5025: row('unsupported-nfp', 'instruction {insn}: bpf_perf_event_output data from {kind} is not supported on the NFP; it takes the stack, a map value, packet data or NULL'),
  NC5026: row('unsupported-nfp', 'instruction {insn}: bpf_perf_event_output data pointer is {kinds} on different paths; the NFP needs one pointer type'),
  NC5027: row('unsupported-nfp', 'instruction {insn}: {helper} argument R{arg} is {kinds}; on the NFP it must point into the stack'),
  NC5028: row('unsupported-nfp', 'instruction {insn}: {helper} argument R{arg} points into the stack at a non-constant offset, which the NFP does not support'),
  NC5029: row('unsupported-nfp', 'instruction {insn}: {helper} argument R{arg} points to stack offset {off}, not 4-byte aligned, which the NFP does not support'),
  NC5030: row('unsupported-nfp', 'map {map}: {mapType} maps are not supported on the NFP (firmware offers {allowed})'),
  NC5031: row('unsupported-nfp', 'map {map}: key size {size} is larger than the NFP firmware maximum of {max} bytes'),
  NC5032: row('unsupported-nfp', 'map {map}: value size {size} is larger than the NFP firmware maximum of {max} bytes'),
  NC5033: row('unsupported-nfp', 'map {map}: element of {size} bytes (key and value each rounded up to 8) is larger than the NFP firmware maximum of {max}'),
  NC5034: row('unsupported-nfp', 'map {map}: map flags 0x{flags} are not supported on the NFP'),
  NC5035: row('unsupported-nfp', 'the program uses {count} maps; the NFP firmware holds at most {max}'),
  NC5036: row('unsupported-nfp', 'the program\'s maps hold {count} entries in all; the NFP firmware holds at most {max}'),
  NC5037: row('unsupported-nfp', 'the program needs {size} bytes of NFP stack (frames rounded to 64 bytes along the deepest call chain); the firmware gives {max}'),
  NC5038: row('unsupported-nfp', 'the program needs at least {count} NFP instructions; the firmware takes at most {max}'),
  NC5039: row('unsupported-nfp', 'instruction {insn}: packet access at bytes {start}..{end} is beyond the {max} bytes the NFP keeps inline (CTM)'),
  NC5040: row('unsupported-nfp', 'instruction {insn}: reading context field at offset {off} ({size} bytes) is not supported on the NFP; it reads only {fields}'),
  NC5041: row('unsupported-nfp', 'instruction {insn}: the memory operand is {kinds} on different paths; the NFP needs one pointer type per instruction'),
  NC5042: row('unsupported-nfp', 'instruction {insn}: memory access through {kind} is not supported on the NFP; it accesses context, stack, map values and packet data'),
  NC5043: row('unsupported-nfp', 'instruction {insn}: stack access at a variable offset is not supported on the NFP'),
  NC5044: row('unsupported-nfp', 'instruction {insn}: stack access moves between offsets {min} and {max} with different 4-byte alignment on different paths, which the NFP does not support'),
  NC5045: row('unsupported-nfp', 'instruction {insn}: map value access at a variable offset is not supported on the NFP'),
  NC5046: row('unsupported-nfp', 'instruction {insn}: map {map} value word at offset {off} is used both for {was} and {now}, which the NFP does not support'),
  NC5047: row('unsupported-nfp', 'instruction {insn}: multiplication operand ({which}, up to {max}) above 32 bits is not supported on the NFP'),
  NC5048: row('unsupported-nfp', 'instruction {insn}: 64-bit multiplication by the negative constant {imm} is not supported on the NFP'),
  NC5049: row('unsupported-nfp', 'instruction {insn}: division of a value above 32 bits (up to {max}) is not supported on the NFP'),
  NC5050: row('unsupported-nfp', 'instruction {insn}: division by a non-constant divisor ({min}..{max}) is not supported on the NFP'),
  NC5051: row('unsupported-nfp', 'instruction {insn}: division by {divisor}, above 32 bits, is not supported on the NFP'),
  NC5052: row('unsupported-nfp', 'instruction {insn}: division by the negative constant {imm} is not supported on the NFP'),
  NC5053: row('unsupported-nfp', 'instruction {insn}: TC exit with R0 not a known constant ({min}..{max}) is not supported on the NFP'),
  NC5054: row('unsupported-nfp', 'instruction {insn}: TC exit with R0 = {value} ({action}) is not supported on the NFP; it takes TC_ACT_SHOT, STOLEN, QUEUED or values above 7'),
  NC5055: row('unsupported-nfp', 'instruction {insn}: bpf_xdp_adjust_tail by +{delta} grows the packet, which the NFP does not support (it only shrinks)'),
  NC5056: row('unsupported-nfp', 'instruction {insn}: bpf_xdp_adjust_head by {delta} can never succeed on the NFP: the firmware keeps packet data between offsets {min} and {max}'),
  NC5057: row('unsupported-nfp', 'instruction {insn}: bpf_map_update_elem may write a non-zero value into word {word} of map {map}, which the program also adds to atomically; the NFP keeps atomic counters big-endian, so they must be initialised to zero'),
  // (end of nfp block)
  // --- the compiler (src/compiler), NC5100-NC5199 ---
  NC5100: row('unsupported-nfp', 'instruction {insn}: nicoff does not lower this to NFP code yet ({reason})'),
  NC5101: row('unsupported-nfp', 'the compiled program is {count} NFP instructions ({mode} mode); the firmware slot takes at most {max}'),

  // --- NFP microcode ---
  NC6001: row('input', 'NFP instruction word {word} cannot be decoded: {reason}'),
  NC6002: row('input', 'cannot assemble NFP instruction "{text}": {reason}'),
  NC6003: row('internal', 'cannot encode NFP {format} instruction: {reason}'),
  NC6004: row('input', 'raw NFP JIT word {word} (relocation type {type}): {reason}'),
  // software NFP (src/nfp-backend/sim), NC6040-NC6059: faults of one packet's run, map and fragment misuse
  NC6040: row('input', 'NFP pc {pc}: instruction word {word} cannot be executed: {reason}'),
  NC6041: row('input', 'NFP pc {pc}: {insn} is not simulated: {reason}'),
  NC6042: row('input', 'NFP pc {pc}: branch to {target}, outside the code store (0..{last})'),
  NC6043: row('input', 'NFP pc {pc}: control passes to {target}, which holds no program word (program {first}..{last}) and is no firmware entry'),
  NC6044: row('input', 'NFP pc {pc}: watchdog: the packet has run {cycles} cycles, above the limit of {limit}'),
  NC6045: row('input', 'NFP pc {pc}: {command} of {bytes} bytes at address {address} is outside simulated memory: {reason}'),
  NC6046: row('input', 'NFP pc {pc}: LM pointer {pointer} used {cycles} cycle(s) after its local_csr_wr; the new address takes effect after 3'),
  NC6047: row('input', 'NFP pc {pc}: done with action byte {byte} in A0[23:16], which the firmware does not know (0x11 pass, 0x22 drop, 0x44 tx, 0x82 abort, 0x02 silent drop)'),
  NC6048: row('input', 'NFP pc {pc}: {what} takes {needs} from the immediately preceding ALU instruction, but {why}'),
  NC6049: row('input', 'NFP pc {pc}: local_csr_rd must be followed by immed[dst, 0], which receives the CSR value; {why}'),
  NC6050: row('input', 'NFP pc {pc}: mul_step sequence broken: {reason}'),
  NC6051: row('input', 'NFP pc {pc}: {what} in the defer slot of pc {branch} is undefined and not simulated'),
  NC6052: row('input', 'NFP pc {pc}: local CSR 0x{csr} is not simulated ({access})'),
  NC6053: row('input', 'NFP pc {pc}: indirect_ref override word {value} is not simulated: {reason}'),
  NC6054: row('input', 'NFP pc {pc}: LM access {operand} at address {address} leaves the 16-word window of its pointer; the hardware carry is not simulated'),
  NC6055: row('input', 'NFP pc {pc}: firmware helper {helper}: {reason}'),
  NC6056: row('input', 'NFP fragment at {first}..{last} ran {count} instructions without leaving its range'),
  NC6057: row('input', 'packet: {reason}'),
  NC6058: row('input', 'software NFP map {map}: {reason}'),
  NC6059: row('input', 'software NFP map table {table}: {reason}'),
  NC6060: row('input', 'the image computes array-map value addresses for a layout ({assumed}) the software NFP does not use ({actual}); compile it again for this firmware'),
  // NFP firmware image (src/nfp-backend/image), NC6020-NC6039
  NC6020: row('input', 'not an nicoff NFP image: {reason}'),
  NC6021: row('input', 'ELF machine is {machine}, not EM_NFP (250): not an NFP firmware image'),
  NC6022: row('input', 'image section {section}: {reason}'),
  NC6023: row('input', 'image section {section} is truncated or mis-sized: {reason}'),
  NC6024: row('input', 'code section {section} has size {size}, not a multiple of 8 (one little-endian u64 per instruction)'),
  NC6025: row('input', 'code word at pc {pc} ({word}) has bits 63:52 set ({bits}): a loaded word has no relocation byte and bits 55:52 are zero'),
  NC6026: row('input', 'code word at pc {pc} ({word}) has ECC 0x{ecc}, but its instruction bits need 0x{expected}'),
  NC6027: row('input', 'code does not fit its load slot: {reason}'),
  NC6028: row('input', 'relocation {index} (pc {pc}, {kind}): {reason}'),
  NC6029: row('input', 'map table entry {index}: {reason}'),
  NC6030: row('input', 'malformed image metadata: {reason}'),
  NC6031: row('input', 'image metadata version {version} is not known (this nicoff reads version {known})'),
  NC6032: row('input', 'eBPF-to-NFP address map, eBPF instruction {insn}: {reason}'),
  NC6033: row('input', 'eBPF instructions of the image: {reason}'),
  NC6034: row('input', 'source line entry {index}: {reason}'),
  NC6035: row('input', 'malformed NFP listing header: {reason}'),
  NC6036: row('input', 'malformed NFP listing word row: {reason}'),
  NC6037: row('input', 'NFP listing pc {pc}: loaded word {loaded} is not the raw word {raw} relocated ({expected}): {reason}'),
  NC6038: row('input', 'malformed NFP listing eBPF instruction: {reason}'),
  NC6039: row('input', 'NFP listing pc {pc}: the disassembly column reads "{text}" but the loaded word disassembles to "{actual}"'),

  // --- TLS ---
  NC7001: row('input', 'malformed key log line {line}: {reason}'),
  NC7002: row('input', 'malformed TLS {what} in {flow}: {reason}'),
  NC7003: row('input', 'unsupported TLS cipher suite {suite} in {flow}'),
  NC7004: row('input', 'no key log entry for client random {random} ({flow})'),
  NC7005: row('input', 'TLS record {record} of {flow} failed authentication'),
  NC7006: row('input', 'TCP stream {flow} stops at a hole at byte {offset}; {after} captured bytes after it are not reassembled'),
  NC7007: row('input', 'TLS records in {flow} but no handshake in the capture: its keys cannot be found'),
  NC7008: row('internal', 'TLS replay of {flow}, record at stream offset {offset} (TCP seq {seq}): {reason}'),
  NC7009: row('input', 'NIC offload of {flow} cannot start: {reason}'),
  NC7020: row('input', 'no TLS connections in the capture ({connections} TCP connections, {packets} packets)'),
  NC7021: row('input', 'cannot write the plaintext to {dir}: {reason}'),

  // --- usage ---
  NC8001: row('usage', '{reason}'),

  // --- internal ---
  NC9001: row('internal', 'internal error: {reason}'),
} as const satisfies Record<string, CatalogueEntry>;

export type DiagnosticCode = keyof typeof CATALOGUE;
