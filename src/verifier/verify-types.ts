/**
 * The verifier's contract with its callers (CLI, oracle harness, mutation
 * fuzzer, NFP target checks, compiler): what goes in, what comes out.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { MapDef, ProgramType, SourceLine } from '../ebpf/bpf-object.js';
import type { Insn } from '../ebpf/insn.js';

/** What the verifier needs of a program; built from a loaded object or a corpus case (program-input.ts). */
export interface VerifyInput {
  name: string;
  type: ProgramType;
  /** Slot-indexed, linked instructions (ld_imm64 followed by its filler). ld_imm64 src 1/2 carry the map index in imm. */
  insns: Insn[];
  /** Maps by index, as ld_imm64 references them. initialValue: loads from a frozen read-only map (.rodata) at a constant offset read it, as the kernel does. */
  maps: readonly Pick<MapDef, 'name' | 'type' | 'keySize' | 'valueSize' | 'maxEntries' | 'flags' | 'readOnly' | 'inner' | 'initialValue'>[];
  license: string;
  /** Source line per instruction index, where BTF line info has one. */
  lineInfo: readonly (SourceLine | undefined)[];
  /** For messages: the object file the program came from. */
  file?: string;
  /**
   * Entry instructions of global (non-static) functions, from BTF func_info
   * linkage. The kernel verifies each of those once, on its own, against its
   * BTF prototype; nicoff does not model that and refuses calls into them.
   */
  globalFunctions?: readonly number[];
}

export type VerifyTarget = 'host' | 'nfp';

export interface VerifyOptions {
  /** Default 'host': the kernel's rules for privileged loading. 'nfp' adds the NFP offload's refusals. */
  target?: VerifyTarget;
  /** 0: none; 1: the path that failed (kernel log level 1); 2: every instruction with its state (level 2). */
  logLevel?: 0 | 1 | 2;
  /** Default 1,000,000 processed instructions, the kernel's BPF_COMPLEXITY_LIMIT_INSNS. */
  insnLimit?: number;
  /** Apply the unprivileged rules (pointer leaks refused, uninitialised stack reads refused ...). Default false. */
  unprivileged?: boolean;
  /** BPF_F_STRICT_ALIGNMENT. Default false (the nfp target implies its own alignment rules). */
  strictAlignment?: boolean;
  /** Target 'nfp': the firmware's capabilities (default: the public nic-firmware's, NIC_FIRMWARE_CAPS). */
  nfpCaps?: import('./nfp-target.js').NfpFirmwareCaps;
}

export interface VerifyStats {
  /** Instructions processed over all explored paths (the kernel's "processed N insns"). */
  processedInsns: number;
  /** States saved at prune points ("total_states"). */
  totalStates: number;
  /** Highest number of saved states alive at once ("peak_states"). */
  peakStates: number;
  maxStatesPerInsn: number;
  /** Wall time of verification in nanoseconds. */
  timeNs: number;
  /** Stack bytes used per subprogram, in function order (the kernel's "stack depth" line). */
  stackDepth: number[];
}

export type VerifyResult =
  | { ok: true; stats: VerifyStats; facts: ProgramFacts; log: string[] }
  | {
      ok: false;
      /** Code NC4xxx (invalid) or NC5xxx (unsupported on the NFP); location.insn and, where BTF has it, location.source are set. */
      error: Diagnostic;
      /** The same refusal in the kernel's own words where one exists ("R1 invalid mem access 'scalar'"), for the log and the oracle. */
      kernelStyle: string;
      stats: VerifyStats;
      log: string[];
    };

// ---------------------------------------------------------------------------
// Facts for the compiler: per instruction, merged over every verified path.
// Names follow the keys of ../shared/nfp-golden (README "verifier facts").
// bigint fields are printed as 0x-hex strings in JSON (facts-json.ts).
// ---------------------------------------------------------------------------

export type PointerKind =
  | 'ctx'
  | 'packet'
  | 'packet_meta'
  | 'packet_end'
  | 'stack'
  | 'map_value'
  | 'map_ptr'
  | 'map_key'
  | 'scalar'
  | 'null';

export interface MemoryFacts {
  /** Access kind of the instruction. */
  access: 'read' | 'write' | 'atomic';
  size: 1 | 2 | 4 | 8;
  /** Every pointer kind the base register had on some path, sorted (the nfp needs exactly one). */
  base: PointerKind[];
  /** Pointer id when it was the same on every path (packet pointers: drives the packet cache). */
  id?: number;
  /** Fixed offset of the base register (reg.off) when it was the same on every path. */
  off?: number;
  /** The insn's own off field plus the base's fixed offset: the byte offset accessed, when constant on every path. */
  accessOffset?: number;
  /** Some path had a variable offset in the base register. */
  varOffset: boolean;
  /** Stack accesses: the frame-relative offsets seen (min and max over paths) and whether some path reached a caller's frame. */
  stack?: { min: number; max: number; callerFrame: boolean };
  /** Map value accesses: the map index when the same on every path. */
  mapIndex?: number;
  /** Packet accesses: on every path the access lay inside the range proven by an earlier data_end comparison. */
  packetCovered?: boolean;
  /** Atomic adds: the addend may fit in 16 bits / may exceed 16 bits on some path (golden xadd16 / xaddbig). */
  xadd16?: boolean;
  xaddbig?: boolean;
  /** STX and atomics: pointer kinds the source register had over paths (the NFP takes only scalar addends). */
  srcKinds?: PointerKind[];
}

export interface AluFacts {
  /** Min of the mins and max of the maxes over paths, of the operands before the operation (golden umin_dst ...). */
  uminDst: bigint;
  umaxDst: bigint;
  uminSrc?: bigint;
  umaxSrc?: bigint;
  /** Result value when it was the same constant on every path. */
  constResult?: bigint;
  /** The destination was a packet pointer (data/data_end) plus or minus a scalar on every path. */
  packetPointer?: boolean;
}

export interface CallArgFacts {
  /** Pointer kinds R1..R5 had at the call (per argument, over paths). */
  kinds: PointerKind[];
  /** Stack offset (frame-relative, negative) when the argument is a stack pointer with one constant offset on every path. */
  stackOff?: number;
  /** Stack pointer argument whose offset differed between paths. */
  stackOffVaries?: boolean;
  /** Scalar argument that was the same constant on every path. */
  constValue?: bigint;
}

export interface CallFacts {
  kind: 'helper' | 'subprog';
  /** Helper id, or the called subprogram's first instruction. */
  func: number;
  /** R1..R5. */
  args: CallArgFacts[];
  /** Map helpers: the map R1 pointed to, when the same on every path. */
  mapIndex?: number;
}

export interface InsnFacts {
  insn: number;
  /** Times the verifier processed this instruction over all paths. */
  visits: number;
  mem?: MemoryFacts;
  alu?: AluFacts;
  /** 32-bit definitions (ALU32, narrow loads): the upper half of the result is read as 64 bits on some path (golden `zext`). */
  zext?: boolean;
  call?: CallFacts;
  /** ld_imm64 of a map (golden `mapidx`). */
  mapIndex?: number;
  /** Conditional jumps: which way the verified paths went. 'both' unless the verifier proved one direction. */
  branch?: 'taken' | 'fallthrough' | 'both';
  /** Conditional jumps: the largest unsigned value of each operand over paths (pointers: U64_MAX). */
  compare?: { umaxDst: bigint; umaxSrc?: bigint; packetPointers: boolean };
  /** bpf_map_update_elem: the map and the value words the stack may hold non-zero on some path. */
  updateNonZeroWords?: { mapIndex: number; words: number[] };
  /** Exits: R0 over the paths that reached it (the NFP's TC exit rule needs a known constant). */
  exit?: { r0Const?: bigint; r0Umin: bigint; r0Umax: bigint };
}

export interface ProgramFacts {
  /** Indexed by instruction; undefined for filler slots and never-reached code. */
  insns: (InsnFacts | undefined)[];
  /** Deepest combined stack of any call chain, in bytes. */
  stackDepth: number;
  /** Per subprogram (function order), bytes, like VerifyStats.stackDepth. */
  subprogStackDepth: number[];
  /** Subprogram entry instructions, entry first. */
  subprogStarts: number[];
  /** bpf_xdp_adjust_head: every call site passes this one constant (golden `adjust_head_opt` prerequisite). */
  adjustHeadConstant?: bigint;
}
