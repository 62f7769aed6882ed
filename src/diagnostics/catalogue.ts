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

  // --- NFP microcode ---
  NC6001: row('input', 'NFP instruction word {word} cannot be decoded: {reason}'),
  NC6002: row('input', 'cannot assemble NFP instruction "{text}": {reason}'),
  NC6003: row('internal', 'cannot encode NFP {format} instruction: {reason}'),

  // --- TLS ---
  NC7001: row('input', 'malformed key log line {line}: {reason}'),
  NC7002: row('input', 'malformed TLS {what} in {flow}: {reason}'),
  NC7003: row('input', 'unsupported TLS cipher suite {suite} in {flow}'),
  NC7004: row('input', 'no key log entry for client random {random} ({flow})'),
  NC7005: row('input', 'TLS record {record} of {flow} failed authentication'),
  NC7006: row('input', 'TCP stream {flow} stops at a hole at byte {offset}; {after} captured bytes after it are not reassembled'),

  // --- usage ---
  NC8001: row('usage', '{reason}'),

  // --- internal ---
  NC9001: row('internal', 'internal error: {reason}'),
} as const satisfies Record<string, CatalogueEntry>;

export type DiagnosticCode = keyof typeof CATALOGUE;
