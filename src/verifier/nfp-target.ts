/**
 * `--target nfp`: what the Netronome NFP offload refuses, checked after the
 * host rules have passed, on the facts merged over every verified path.
 *
 * The rules are those of the kernel's nfp driver (its verifier hook, map
 * allocation and JIT) and of the firmware capabilities it reads, as listed in
 * shared/docs/nfp-microcode.md section D (with A.5 for the packet buffer and
 * C.2 for the stack). Each refusal has its own NC50xx code, names the feature
 * and the instruction, and is "unsupported on the NFP", not invalid.
 * kernelStyle is the driver's own message where it has one.
 *
 * Where the merged facts cannot tell what the driver would see path by path,
 * the check refuses (a program nicoff passes must offload): a stack argument
 * whose offset differs between paths, an exit whose R0 is not the same
 * constant on every path, perf_event_output flags that are not one constant.
 */
import { makeDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { DiagnosticCode } from '../diagnostics/catalogue.js';
import { MAP_TYPE } from '../ebpf/bpf-object.js';
import { helperById } from '../ebpf/helpers.js';
import type { Insn } from '../ebpf/insn.js';
import {
  BPF_ADD,
  BPF_ALU64,
  BPF_CALL,
  BPF_DIV,
  BPF_FETCH,
  BPF_HELPER_CALL,
  BPF_JMP,
  BPF_MOD,
  BPF_MUL,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_MAP_VALUE,
  BPF_TO_LE,
  BPF_X,
  isLdImm64,
  isMovSx,
  isSignedDivMod,
  opcodeInfo,
} from '../ebpf/opcodes.js';
import type { CallArgFacts, InsnFacts, MemoryFacts, PointerKind, ProgramFacts, VerifyInput } from './verify-types.js';

/** The firmware's offload capabilities (D.7 TLVs and vNIC BAR fields) that decide what the NFP refuses. */
export interface NfpFirmwareCaps {
  /** FUNC entries: helper id -> firmware code address. A helper with capability 'func' needs one. */
  helperAddresses: Readonly<Record<number, number>>;
  /** ADJUST_HEAD; absent when the firmware cannot move the packet start. */
  adjustHead?: {
    /** Flag bit 0: the firmware keeps no metadata before the packet, so the driver need not shift it. */
    noMeta: boolean;
    /** Bounds of the packet start offset inside the buffer. */
    offMin: number;
    offMax: number;
    /** Deltas the firmware always has room for (the unchecked fast path). */
    guaranteedSub: number;
    guaranteedAdd: number;
  };
  random: boolean;
  queueSelect: boolean;
  adjustTail: boolean;
  /** MAPS; absent when the firmware holds no maps. */
  maps?: {
    /** Kernel map type numbers the firmware allocates. */
    types: readonly number[];
    maxMaps: number;
    /** Entries over all maps. */
    maxEntries: number;
    maxKeySize: number;
    maxValueSize: number;
    /** round_up(key, 8) + round_up(value, 8). */
    maxElemSize: number;
  };
  /** BPF ABI version (control-message slot layout). */
  abiVersion: 2 | 3;
  /** NFP instructions per vNIC slot (NFP_NET_CFG_BPF_MAX_LEN). */
  maxProgramLength: number;
  /** Stack per thread (NFP_NET_CFG_BPF_STACK_SZ x 64). */
  stackBytes: number;
  /** Packet bytes kept in CTM, the only ones a program can address (NFP_NET_CFG_BPF_INL_MTU x 64 - 32). */
  inlinePacketBytes: number;
}

/** What Netronome's public nic-firmware advertises; the golden vectors assume it (shared/nfp-golden/README.md). */
export const NIC_FIRMWARE_CAPS: NfpFirmwareCaps = {
  // The addresses are the golden vectors' placeholders; real ones come from the FUNC TLVs.
  helperAddresses: { 1: 0x200, 2: 0x300, 3: 0x400, 25: 0x500 },
  adjustHead: { noMeta: true, offMin: 44, offMax: 248, guaranteedSub: 84, guaranteedAdd: 112 },
  random: true,
  queueSelect: true,
  adjustTail: true,
  maps: {
    types: [MAP_TYPE.hash, MAP_TYPE.array],
    maxMaps: 128,
    maxEntries: 2_048_000,
    maxKeySize: 56,
    maxValueSize: 56,
    maxElemSize: 64,
  },
  abiVersion: 2,
  maxProgramLength: 2560,
  stackBytes: 8 * 64,
  inlinePacketBytes: 30 * 64 - 32,
};

export type NfpTargetResult = { ok: true } | { ok: false; error: Diagnostic; kernelStyle: string };

const U32_MAX = 0xffff_ffffn;
/** BPF_F_CURRENT_CPU, and BPF_F_INDEX_MASK: the bits of perf_event_output's flags that pick the CPU. */
const CURRENT_CPU = 0xffff_ffffn;
/** STACK_FRAME_ALIGN in the driver's stack accounting. */
const NFP_FRAME_ALIGN = 64;
/** Each bpf-to-bpf callee frame holds its return address... */
const RETURN_ADDRESS_BYTES = 4;
/** ...and, if the callee writes R6-R9, their saved values. */
const SAVED_REGS_BYTES = 4 * 8;

/**
 * Fixed NFP instructions around any program (prologue and outro), from the
 * golden vectors: xdp_drop is 26 words of which 3 come from its two eBPF
 * instructions; tc_shot is 31 with the same 3.
 */
const FIXED_NFP_WORDS: Record<string, number> = { xdp: 23, sched_cls: 28 };

/** The kernel's enum bpf_reg_type numbers, which the driver prints (and perf_event_output's firmware ABI reuses). */
const KERNEL_REG_TYPE: Record<PointerKind, number> = {
  scalar: 1,
  null: 1,
  ctx: 2,
  map_ptr: 3,
  map_value: 4,
  map_key: 5,
  stack: 6,
  packet_meta: 7,
  packet: 8,
  packet_end: 9,
};

const POINTER_NAME: Record<PointerKind, string> = {
  scalar: 'a scalar',
  null: 'NULL',
  ctx: 'the context',
  map_ptr: 'a map pointer',
  map_value: 'a map value',
  map_key: 'a map key',
  stack: 'the stack',
  packet_meta: 'packet metadata',
  packet: 'packet data',
  packet_end: 'the packet end pointer',
};

/** The memory the NFP can address through a pointer (D.6). */
const NFP_MEMORY: ReadonlySet<PointerKind> = new Set(['ctx', 'stack', 'map_value', 'packet']);

/** Readable context fields, offset -> name; every one is a 4-byte read (D.3). */
const CTX_READS: Partial<Record<string, ReadonlyMap<number, string>>> = {
  xdp: new Map([
    [0, 'data'],
    [4, 'data_end'],
  ]),
  sched_cls: new Map([
    [0, 'len'],
    [76, 'data'],
    [80, 'data_end'],
  ]),
};
/** struct xdp_md rx_queue_index: the one writable context field (with QUEUE_SELECT). */
const XDP_RX_QUEUE_INDEX = 16;

const TC_ACTIONS: Record<string, string> = {
  '0': 'TC_ACT_OK',
  '1': 'TC_ACT_RECLASSIFY',
  '3': 'TC_ACT_PIPE',
  '6': 'TC_ACT_REPEAT',
  '7': 'TC_ACT_REDIRECT',
};

const ATOMIC_NAMES: Record<number, string> = {
  [BPF_ADD | BPF_FETCH]: 'fetch-and-add',
  0x40: 'or',
  0x41: 'fetch-and-or',
  0x50: 'and',
  0x51: 'fetch-and-and',
  0xa0: 'xor',
  0xa1: 'fetch-and-xor',
  0xe1: 'exchange',
  0xf1: 'compare-and-exchange',
  0x100: 'load-acquire',
  0x110: 'store-release',
};

const hex = (v: bigint | number): string => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;
const roundUp = (v: number, to: number): number => Math.ceil(v / to) * to;
const mod4 = (v: number): number => ((v % 4) + 4) % 4;

function mapTypeName(type: number): string {
  for (const [name, value] of Object.entries(MAP_TYPE)) if (value === type) return name;
  return `type ${type}`;
}

function describeKinds(kinds: readonly PointerKind[]): string {
  return kinds.map((k) => POINTER_NAME[k]).join(' or ');
}

/** Scalar and NULL are the same register type to the driver. */
function driverTypes(kinds: readonly PointerKind[]): number[] {
  return [...new Set(kinds.map((k) => KERNEL_REG_TYPE[k]))];
}

class Refusal {
  constructor(
    readonly code: DiagnosticCode,
    readonly args: Record<string, string | number | bigint>,
    readonly insn: number | undefined,
    readonly kernelStyle: string,
  ) {}
}

/** Per map, per 4-byte value word: how the program uses it (the driver forbids mixing reads and atomic adds). */
type WordUse = 'read' | 'atomic';

export function checkNfpTarget(input: VerifyInput, facts: ProgramFacts, caps: NfpFirmwareCaps = NIC_FIRMWARE_CAPS): NfpTargetResult {
  const refusal = firstRefusal(input, facts, caps);
  if (!refusal) return { ok: true };
  const source = refusal.insn !== undefined ? input.lineInfo[refusal.insn] : undefined;
  const error = makeDiagnostic(refusal.code, refusal.insn !== undefined ? { insn: refusal.insn, ...refusal.args } : refusal.args, {
    ...(input.file !== undefined ? { file: input.file } : {}),
    ...(refusal.insn !== undefined ? { insn: refusal.insn } : {}),
    ...(source ? { source } : {}),
  });
  return { ok: false, error, kernelStyle: refusal.kernelStyle };
}

function firstRefusal(input: VerifyInput, facts: ProgramFacts, caps: NfpFirmwareCaps): Refusal | undefined {
  return (
    checkProgramType(input) ??
    checkMaps(input, caps) ??
    checkInstructions(input, facts, caps) ??
    checkStack(input, facts, caps) ??
    checkLength(input, facts, caps)
  );
}

// --- D.1 -------------------------------------------------------------------

function checkProgramType(input: VerifyInput): Refusal | undefined {
  // The kernel binds only these two types to a device (EINVAL, no log).
  if (input.type === 'xdp' || input.type === 'sched_cls') return undefined;
  if (input.type === 'sched_act') return new Refusal('NC5001', {}, undefined, 'offload supports only XDP and cls_bpf (sched_cls) programs');
  return new Refusal('NC5002', { type: input.type }, undefined, 'offload supports only XDP and cls_bpf (sched_cls) programs');
}

// --- D.5 -------------------------------------------------------------------

function checkMaps(input: VerifyInput, caps: NfpFirmwareCaps): Refusal | undefined {
  // The maps the program references, each at its first reference (where its source line is).
  const firstUse = new Map<number, number>();
  input.insns.forEach((insn, i) => {
    if (isLdImm64(insn) && (insn.src === BPF_PSEUDO_MAP_FD || insn.src === BPF_PSEUDO_MAP_VALUE) && !firstUse.has(insn.imm)) {
      firstUse.set(insn.imm, i);
    }
  });
  let deviceMaps = 0;
  let deviceEntries = 0;
  for (const [index, at] of firstUse) {
    const map = input.maps[index];
    if (!map) continue; // the host checks refused it already
    // A perf event array stays on the host; the card sends it events.
    if (map.type === MAP_TYPE.perf_event_array) continue;
    const allowed = caps.maps?.types ?? [];
    const name = map.name;
    const typeRefusal = new Refusal('NC5030', { map: name, mapType: mapTypeName(map.type), allowed: allowed.map(mapTypeName).join(' and ') || 'no maps' }, at,
      'map type not supported');
    if (!caps.maps) return typeRefusal;
    const limits = caps.maps;
    // The driver's order: flags, type, count, entries, element size, key, value.
    if (map.flags !== 0) return new Refusal('NC5034', { map: name, flags: map.flags.toString(16) }, at, 'map flags are not supported');
    if (!allowed.includes(map.type)) return typeRefusal;
    deviceMaps++;
    if (deviceMaps > limits.maxMaps) return new Refusal('NC5035', { count: deviceMaps, max: limits.maxMaps }, at, 'too many maps for a device');
    deviceEntries += map.maxEntries;
    if (deviceEntries > limits.maxEntries) {
      return new Refusal('NC5036', { count: deviceEntries, max: limits.maxEntries }, at,
        `map with too many elements: ${map.maxEntries}, left: ${Math.max(0, limits.maxEntries - (deviceEntries - map.maxEntries))}`);
    }
    const elem = roundUp(map.keySize, 8) + roundUp(map.valueSize, 8);
    if (elem > limits.maxElemSize) {
      return new Refusal('NC5033', { map: name, size: elem, max: limits.maxElemSize }, at,
        `map elements too large: ${elem}, FW max element size (key+value): ${limits.maxElemSize}`);
    }
    if (map.keySize > limits.maxKeySize) {
      return new Refusal('NC5031', { map: name, size: map.keySize, max: limits.maxKeySize }, at, `map key size ${map.keySize}, FW max is ${limits.maxKeySize}`);
    }
    if (map.valueSize > limits.maxValueSize) {
      return new Refusal('NC5032', { map: name, size: map.valueSize, max: limits.maxValueSize }, at,
        `map value size ${map.valueSize}, FW max is ${limits.maxValueSize}`);
    }
  }
  return undefined;
}

// --- D.2, D.3, D.4, D.6: instruction by instruction --------------------------

function checkInstructions(input: VerifyInput, facts: ProgramFacts, caps: NfpFirmwareCaps): Refusal | undefined {
  const wordUse = new Map<number, Map<number, WordUse>>();
  for (let i = 0; i < input.insns.length; i++) {
    const f = facts.insns[i];
    // Code the verifier never reached is removed before the JIT sees it.
    if (!f) continue;
    const refusal = checkInstruction(input, i, input.insns[i], f, caps, wordUse);
    if (refusal) return refusal;
  }
  return checkAtomicCounterUpdates(input, facts);
}

/**
 * D.4: the card keeps value words used by atomic adds big-endian; a value
 * the program writes with map_update_elem is copied as it is, so an atomic
 * word must be written as known zero (the kernel hook's STACK_ZERO test).
 * The kernel checks in verification order; over the whole program this
 * refuses the same programs in either order.
 */
function checkAtomicCounterUpdates(input: VerifyInput, facts: ProgramFacts): Refusal | undefined {
  const atomic = new Map<number, Set<number>>();
  for (const f of facts.insns) {
    const m = f?.mem;
    if (m?.access !== 'atomic' || m.mapIndex === undefined) continue;
    const words = atomic.get(m.mapIndex) ?? new Set<number>();
    // An atomic add whose offset varies could hit any word: count every word of the value.
    const size = input.maps[m.mapIndex]?.valueSize ?? 0;
    if (m.accessOffset === undefined) for (let w = 0; w < size / 4; w++) words.add(w);
    else for (let w = 0; w < m.size / 4; w++) words.add(Math.floor(m.accessOffset / 4) + w);
    atomic.set(m.mapIndex, words);
  }
  for (let i = 0; i < facts.insns.length; i++) {
    const u = facts.insns[i]?.updateNonZeroWords;
    const words = u ? atomic.get(u.mapIndex) : undefined;
    const word = u?.words.find((w) => words?.has(w));
    if (u && word !== undefined) {
      return new Refusal('NC5057', { word, map: input.maps[u.mapIndex]?.name ?? `#${u.mapIndex}` }, i,
        `value at offset ${word * 4} may be non-zero, bpf_map_update_elem() is required to initialize atomic counters to zero to avoid offload endian issues`);
    }
  }
  return undefined;
}

function checkInstruction(
  input: VerifyInput,
  i: number,
  insn: Insn,
  f: InsnFacts,
  caps: NfpFirmwareCaps,
  wordUse: Map<number, Map<number, WordUse>>,
): Refusal | undefined {
  const info = opcodeInfo(insn.code);
  if (!info) return undefined;
  const notSupported = `instruction 0x${insn.code.toString(16)} not supported`;
  switch (info.kind) {
    case 'alu64':
    case 'alu32': {
      // The driver dispatches on the opcode byte alone, so the cpu-v4 variants sharing one would be mistranslated.
      if (isSignedDivMod(insn)) {
        return new Refusal('NC5007', { what: info.op === BPF_DIV ? 'division (sdiv)' : 'modulo (smod)' }, i, `${notSupported} (signed, off 1)`);
      }
      if (isMovSx(insn)) return new Refusal('NC5006', { off: insn.off }, i, `${notSupported} (sign extension, off ${insn.off})`);
      if (info.op === BPF_MOD) return new Refusal('NC5003', { name: info.name }, i, notSupported);
      if (info.op === BPF_MUL) return checkMultiply(i, insn, info.cls, f);
      if (info.op === BPF_DIV) return checkDivide(i, insn, f);
      return undefined;
    }
    case 'bswap':
      return new Refusal('NC5004', { name: `bswap${insn.imm}` }, i, notSupported);
    case 'endian':
      return info.source === BPF_TO_LE ? new Refusal('NC5005', { name: `le${insn.imm}` }, i, notSupported) : undefined;
    case 'ld_imm64': {
      if (insn.src === 0 || insn.src === BPF_PSEUDO_MAP_FD) return undefined;
      const what =
        insn.src === BPF_PSEUDO_MAP_VALUE ? 'a map value address' :
        insn.src === BPF_PSEUDO_BTF_ID ? 'a kernel BTF object' :
        insn.src === BPF_PSEUDO_FUNC ? 'a function address' : 'a map through fd_array';
      return new Refusal('NC5020', { what, src: insn.src }, i, `ld_imm64 with pseudo source ${insn.src} is not meaningful on the device`);
    }
    case 'ld_abs': {
      const end = insn.imm + (info.size ?? 0);
      if (insn.imm >= 0 && end > caps.inlinePacketBytes) {
        return new Refusal('NC5039', { start: insn.imm, end: end - 1, max: caps.inlinePacketBytes }, i,
          'BPF offload active, potential packet access beyond HW packet split boundary');
      }
      return undefined;
    }
    case 'ld_ind':
      return undefined;
    case 'load_sx':
      return new Refusal('NC5008', { size: (info.size ?? 0) * 8 }, i, notSupported);
    case 'load':
      return f.mem ? checkMemory(input, i, insn, f.mem, 'read', caps, wordUse) : undefined;
    case 'store_imm': {
      const base = f.mem?.base ?? [];
      const other = base.filter((k) => k !== 'packet');
      // The JIT has an immediate-store path for packet data only (translation fails for the rest).
      if (other.length) return new Refusal('NC5009', { memory: describeKinds(other) }, i, 'immediate store (BPF_ST) to this memory is not supported by the JIT');
      return f.mem ? checkPacketWindow(i, f.mem, caps) : undefined;
    }
    case 'store':
      return f.mem ? checkStore(input, i, insn, f.mem, caps, wordUse) : undefined;
    case 'atomic':
      return checkAtomic(i, insn, f, wordUse);
    case 'gotol':
      return new Refusal('NC5016', {}, i, notSupported);
    case 'may_goto':
      return new Refusal('NC5019', {}, i, notSupported);
    case 'call':
      if (insn.src === BPF_PSEUDO_CALL) return undefined;
      if (insn.src !== BPF_HELPER_CALL) return new Refusal('NC5017', {}, i, `unsupported function id: ${insn.imm}`);
      return checkHelperCall(i, insn, f, caps);
    case 'exit':
      // Every TC exit, function returns included, as the driver checks them; XDP exits are not checked.
      return input.type === 'sched_cls' ? checkTcExit(i, f) : undefined;
    case 'jmp':
    case 'jmp32':
    case 'ja':
      return undefined;
  }
  return undefined;
}

// --- ALU: MUL and DIV operand ranges (C.3, D.6) -----------------------------

function checkMultiply(i: number, insn: Insn, cls: number, f: InsnFacts): Refusal | undefined {
  const alu = f.alu;
  if (alu && alu.umaxDst > U32_MAX) {
    return new Refusal('NC5047', { which: `multiplier r${insn.dst}`, max: hex(alu.umaxDst) }, i, 'multiplier is not within u32 value range');
  }
  if (insn.code & BPF_X) {
    if (alu?.umaxSrc !== undefined && alu.umaxSrc > U32_MAX) {
      return new Refusal('NC5047', { which: `multiplicand r${insn.src}`, max: hex(alu.umaxSrc) }, i, 'multiplicand is not within u32 value range');
    }
  } else if (cls === BPF_ALU64 && insn.imm < 0) {
    // ALU64 sign-extends K to 64 bits, which the NFP's 32-bit multiplier cannot take.
    return new Refusal('NC5048', { imm: insn.imm }, i, "sign extended multiplicand won't be within u32 value range");
  }
  return undefined;
}

function checkDivide(i: number, insn: Insn, f: InsnFacts): Refusal | undefined {
  const alu = f.alu;
  if (alu && alu.umaxDst > U32_MAX) return new Refusal('NC5049', { max: hex(alu.umaxDst) }, i, 'dividend is not within u32 value range');
  if (insn.code & BPF_X) {
    // The NFP divides by reciprocal multiplication: the divisor must be one known constant.
    if (!alu || alu.uminSrc === undefined || alu.umaxSrc === undefined || alu.uminSrc !== alu.umaxSrc) {
      return new Refusal('NC5050', { min: alu?.uminSrc !== undefined ? hex(alu.uminSrc) : '?', max: alu?.umaxSrc !== undefined ? hex(alu.umaxSrc) : '?' }, i,
        'divisor is not constant');
    }
    if (alu.umaxSrc > U32_MAX) return new Refusal('NC5051', { divisor: hex(alu.umaxSrc) }, i, 'divisor is not within u32 value range');
  } else if (insn.imm < 0) {
    return new Refusal('NC5052', { imm: insn.imm }, i, 'divide by negative constant is not supported');
  }
  return undefined;
}

// --- memory operands --------------------------------------------------------

/** The driver's pointer checks for loads, stores and atomics (nfp_bpf_check_ptr). */
function checkPointer(
  i: number,
  mem: MemoryFacts,
  use: WordUse | 'write',
  wordUse: Map<number, Map<number, WordUse>>,
): Refusal | undefined {
  const unsupported = mem.base.find((k) => !NFP_MEMORY.has(k));
  if (unsupported) {
    return new Refusal('NC5042', { kind: POINTER_NAME[unsupported] }, i, `unsupported ptr type: ${KERNEL_REG_TYPE[unsupported]}`);
  }
  if (mem.base.includes('stack')) {
    if (mem.varOffset) return new Refusal('NC5043', {}, i, 'variable ptr stack access');
    // Constant offsets that differ between paths are fine while they keep the same alignment mod 4.
    if (mem.accessOffset === undefined && mem.stack && mod4(mem.stack.min) !== mod4(mem.stack.max)) {
      return new Refusal('NC5044', { min: mem.stack.min, max: mem.stack.max }, i, `stack access changed location was:${mem.stack.min} is:${mem.stack.max}`);
    }
  }
  if (mem.base.includes('map_value')) {
    if (mem.varOffset) return new Refusal('NC5045', {}, i, 'map value offset is variable');
    if (use === 'write') return new Refusal('NC5010', {}, i, 'map writes not supported');
    if (mem.mapIndex !== undefined && mem.accessOffset !== undefined) {
      const words = wordUse.get(mem.mapIndex) ?? new Map<number, WordUse>();
      wordUse.set(mem.mapIndex, words);
      const start = mem.accessOffset;
      for (let at = start; at < start + mem.size; at = (Math.floor(at / 4) + 1) * 4) {
        const word = Math.floor(at / 4);
        const was = words.get(word);
        if (was !== undefined && was !== use) {
          return new Refusal('NC5046', { map: mem.mapIndex, off: at, was, now: use }, i, `map value use type conflict ${was} vs ${use} off: ${at}`);
        }
        words.set(word, use);
      }
    }
  }
  const types = driverTypes(mem.base);
  if (types.length > 1) {
    return new Refusal('NC5041', { kinds: describeKinds(mem.base) }, i, `ptr type changed for instruction ${types[0]} -> ${types[1]}`);
  }
  return undefined;
}

/** A constant packet offset past the inline buffer can never be served (A.5). */
function checkPacketWindow(i: number, mem: MemoryFacts, caps: NfpFirmwareCaps): Refusal | undefined {
  if (!mem.base.includes('packet') || mem.varOffset || mem.accessOffset === undefined) return undefined;
  const end = mem.accessOffset + mem.size;
  if (end <= caps.inlinePacketBytes) return undefined;
  return new Refusal('NC5039', { start: mem.accessOffset, end: end - 1, max: caps.inlinePacketBytes }, i,
    'BPF offload active, potential packet access beyond HW packet split boundary');
}

function checkMemory(
  input: VerifyInput,
  i: number,
  insn: Insn,
  mem: MemoryFacts,
  use: WordUse,
  caps: NfpFirmwareCaps,
  wordUse: Map<number, Map<number, WordUse>>,
): Refusal | undefined {
  const refused = checkPointer(i, mem, use, wordUse) ?? checkPacketWindow(i, mem, caps);
  if (refused) return refused;
  if (mem.base.includes('ctx')) {
    const fields = CTX_READS[input.type];
    const off = mem.accessOffset ?? insn.off;
    if (!fields?.has(off) || mem.size !== 4) {
      const list = fields ? [...fields].map(([o, n]) => `${n} (offset ${o})`).join(', ') + ', 4 bytes each' : 'nothing';
      return new Refusal('NC5040', { off, size: mem.size, fields: list }, i, 'unsupported context field read');
    }
  }
  return undefined;
}

function checkStore(
  input: VerifyInput,
  i: number,
  insn: Insn,
  mem: MemoryFacts,
  caps: NfpFirmwareCaps,
  wordUse: Map<number, Map<number, WordUse>>,
): Refusal | undefined {
  if (mem.base.includes('ctx')) {
    const off = mem.accessOffset ?? insn.off;
    if (input.type === 'xdp' && off === XDP_RX_QUEUE_INDEX && mem.size === 4) {
      if (!caps.queueSelect) return new Refusal('NC5012', {}, i, 'queue selection not supported by FW');
    } else {
      return new Refusal('NC5011', { off, size: mem.size }, i, 'unsupported store to context field');
    }
  }
  return checkPointer(i, mem, 'write', wordUse) ?? checkPacketWindow(i, mem, caps);
}

function checkAtomic(i: number, insn: Insn, f: InsnFacts, wordUse: Map<number, Map<number, WordUse>>): Refusal | undefined {
  if (insn.imm !== BPF_ADD) {
    return new Refusal('NC5013', { op: ATOMIC_NAMES[insn.imm] ?? `op ${hex(insn.imm)}` }, i, `atomic op not implemented: ${insn.imm}`);
  }
  const mem = f.mem;
  if (!mem) return undefined;
  const notMap = mem.base.filter((k) => k !== 'map_value');
  if (notMap.length) {
    return new Refusal('NC5014', { memory: describeKinds(notMap) }, i, `atomic add not to a map value pointer: ${KERNEL_REG_TYPE[notMap[0]]}`);
  }
  const pointerAddend = mem.srcKinds?.find((k) => k !== 'scalar' && k !== 'null');
  if (pointerAddend) {
    return new Refusal('NC5015', { kind: POINTER_NAME[pointerAddend].replace(/^(a|the) /, '') + ' pointer' }, i,
      `atomic add not of a scalar: ${KERNEL_REG_TYPE[pointerAddend]}`);
  }
  return checkPointer(i, mem, 'atomic', wordUse);
}

// --- helpers (D.4) ----------------------------------------------------------

function checkHelperCall(i: number, insn: Insn, f: InsnFacts, caps: NfpFirmwareCaps): Refusal | undefined {
  const id = f.call?.func ?? insn.imm;
  const proto = helperById(id);
  const name = proto ? `bpf_${proto.name}` : `#${id}`;
  if (id === 12) return new Refusal('NC5018', {}, i, `unsupported function id: ${id}`);
  const nfp = proto?.nfp;
  if (!nfp) return new Refusal('NC5021', { helper: name, id }, i, `unsupported function id: ${id}`);

  switch (nfp.capability) {
    case 'func':
      if (caps.helperAddresses[id] === undefined) {
        return new Refusal('NC5022', { helper: name, capability: `FUNC (helper ${id})` }, i, `${nfp.driverName}: not supported by FW`);
      }
      break;
    case 'random':
      if (!caps.random) {
        return new Refusal('NC5022', { helper: name, capability: 'RANDOM' }, i, "bpf_get_prandom_u32(): FW doesn't support random number generation");
      }
      break;
    case 'adjust_head':
      if (!caps.adjustHead || caps.adjustHead.offMax === 0) {
        return new Refusal('NC5022', { helper: name, capability: 'ADJUST_HEAD' }, i, 'adjust_head not supported by FW');
      }
      if (!caps.adjustHead.noMeta) return new Refusal('NC5023', {}, i, 'adjust_head: FW requires shifting metadata, not supported by the driver');
      break;
    case 'adjust_tail':
      if (!caps.adjustTail) return new Refusal('NC5022', { helper: name, capability: 'ADJUST_TAIL' }, i, 'adjust_tail not supported by FW');
      break;
    case 'queue_select':
      if (!caps.queueSelect) return new Refusal('NC5022', { helper: name, capability: 'QUEUE_SELECT' }, i, 'queue selection not supported by FW');
      break;
  }

  const args = f.call?.args ?? [];
  for (const reg of nfp.stackArgs ?? []) {
    const refused = checkStackArgument(i, name, nfp.driverName, reg, args[reg - 1]);
    if (refused) return refused;
  }

  if (id === 25) return checkPerfEventOutput(i, name, args);
  if (id === 44) {
    const delta = args[1]?.constValue;
    const window = caps.adjustHead!;
    if (delta !== undefined) {
      // The helper takes an int: only the low 32 bits count.
      const d = Number(BigInt.asIntN(32, delta));
      if (Math.abs(d) > window.offMax - window.offMin) {
        return new Refusal('NC5056', { delta: d, min: window.offMin, max: window.offMax }, i, 'adjust_head delta outside the firmware window always fails');
      }
    }
  }
  if (id === 65) {
    const delta = args[1]?.constValue;
    if (delta !== undefined && BigInt.asIntN(32, delta) > 0n) {
      return new Refusal('NC5055', { delta: BigInt.asIntN(32, delta) }, i, 'adjust_tail can only shrink the packet on the NFP');
    }
  }
  return undefined;
}

function checkStackArgument(i: number, helper: string, driverName: string, reg: number, arg: CallArgFacts | undefined): Refusal | undefined {
  const kinds = arg?.kinds ?? [];
  if (kinds.length !== 1 || kinds[0] !== 'stack') {
    const other = kinds.find((k) => k !== 'stack') ?? 'scalar';
    return new Refusal('NC5027', { helper, arg: reg, kinds: describeKinds(kinds.length ? kinds : ['scalar']) }, i,
      `${driverName}: unsupported ptr type ${KERNEL_REG_TYPE[other]}`);
  }
  // Offsets that differ between paths may each be aligned, but the merged facts cannot show it.
  if (arg!.stackOff === undefined) return new Refusal('NC5028', { helper, arg: reg }, i, `${driverName}: variable pointer`);
  if (mod4(-arg!.stackOff) !== 0) {
    return new Refusal('NC5029', { helper, arg: reg, off: arg!.stackOff }, i, `${driverName}: unaligned stack pointer ${-arg!.stackOff}`);
  }
  return undefined;
}

function checkPerfEventOutput(i: number, helper: string, args: readonly CallArgFacts[]): Refusal | undefined {
  const flags = args[2]?.constValue;
  // The CPU-index bits must be known and say "this CPU": events are reported from wherever the firmware's message arrives.
  if (flags === undefined || (BigInt.asUintN(64, flags) & CURRENT_CPU) !== CURRENT_CPU) {
    return new Refusal('NC5024', { flags: flags === undefined ? 'not a constant' : hex(flags) }, i,
      `event_output: must use BPF_F_CURRENT_CPU, var_off: ${flags === undefined ? 'unknown' : hex(flags)}`);
  }
  const data = args[3];
  const kinds = data?.kinds ?? [];
  const unsupported = kinds.find((k) => k !== 'scalar' && k !== 'null' && k !== 'stack' && k !== 'map_value' && k !== 'packet');
  if (unsupported) {
    return new Refusal('NC5025', { kind: POINTER_NAME[unsupported] }, i, `event_output: unsupported ptr type: ${KERNEL_REG_TYPE[unsupported]}`);
  }
  if (kinds.includes('stack') && kinds.length === 1) {
    const refused = checkStackArgument(i, helper, 'event_output', 4, data);
    if (refused) return refused;
  }
  const types = driverTypes(kinds);
  if (types.length > 1) {
    return new Refusal('NC5026', { kinds: describeKinds(kinds) }, i, `event_output: ptr type changed: ${types[0]} ${types[1]}`);
  }
  return undefined;
}

// --- TC exit codes (D.6) ----------------------------------------------------

function checkTcExit(i: number, f: InsnFacts): Refusal | undefined {
  const exit = f.exit;
  if (exit?.r0Const === undefined) {
    const min = exit ? hex(exit.r0Umin) : '?';
    const max = exit ? hex(exit.r0Umax) : '?';
    return new Refusal('NC5053', { min, max }, i, `unsupported exit state: R0 not a known constant (${min}..${max})`);
  }
  const value = BigInt.asUintN(64, exit.r0Const);
  const action = TC_ACTIONS[value.toString()];
  if (action) return new Refusal('NC5054', { value: value.toString(), action }, i, `unsupported exit state: 1, imm: ${value.toString(16)}`);
  return undefined;
}

// --- C.2 stack --------------------------------------------------------------

function checkStack(input: VerifyInput, facts: ProgramFacts, caps: NfpFirmwareCaps): Refusal | undefined {
  const starts = facts.subprogStarts.length ? facts.subprogStarts : [0];
  const n = input.insns.length;
  const subprogOf = (insn: number): number => {
    let k = 0;
    while (k + 1 < starts.length && starts[k + 1] <= insn) k++;
    return k;
  };
  // Frame per function: its verifier depth, plus the return address and saved R6-R9 for callees, rounded to 64.
  const frames = starts.map((start, k) => {
    const end = k + 1 < starts.length ? starts[k + 1] : n;
    let depth = facts.subprogStackDepth[k] ?? (k === 0 ? facts.stackDepth : 0);
    if (k > 0) {
      depth += RETURN_ADDRESS_BYTES;
      let writesCalleeSaved = false;
      for (let i = start; i < end; i++) {
        const dst = input.insns[i].dst;
        if (facts.insns[i] && dst >= 6 && dst <= 9) writesCalleeSaved = true;
      }
      if (writesCalleeSaved) depth += SAVED_REGS_BYTES;
    }
    return roundUp(depth, NFP_FRAME_ALIGN);
  });
  const callees = starts.map(() => [] as number[]);
  input.insns.forEach((insn, i) => {
    if (facts.insns[i] && insn.code === (BPF_JMP | BPF_CALL) && insn.src === BPF_PSEUDO_CALL) {
      callees[subprogOf(i)].push(subprogOf(i + insn.imm + 1));
    }
  });
  const deepest = (k: number, seen: Set<number>): number => {
    if (seen.has(k)) return 0; // the host refuses recursion; do not loop on it
    seen.add(k);
    const below = Math.max(0, ...callees[k].map((c) => deepest(c, seen)));
    seen.delete(k);
    return frames[k] + below;
  };
  const needed = deepest(0, new Set());
  if (needed > caps.stackBytes) {
    return new Refusal('NC5037', { size: needed, max: caps.stackBytes }, undefined, `stack too large: program ${needed}B > FW stack ${caps.stackBytes}B`);
  }
  return undefined;
}

// --- program length ---------------------------------------------------------

/**
 * Only what is certainly too long: a lower bound of one NFP word per exit,
 * call and two-way branch plus the fixed prologue and outro. The exact length
 * is the compiler's to check, after lowering.
 */
function checkLength(input: VerifyInput, facts: ProgramFacts, caps: NfpFirmwareCaps): Refusal | undefined {
  let words = FIXED_NFP_WORDS[input.type] ?? 0;
  input.insns.forEach((insn, i) => {
    const f = facts.insns[i];
    if (!f) return;
    const kind = opcodeInfo(insn.code)?.kind;
    if (kind === 'exit' || kind === 'call') words++;
    else if ((kind === 'jmp' || kind === 'jmp32') && (f.branch ?? 'both') === 'both') words++;
  });
  if (words > caps.maxProgramLength) {
    return new Refusal('NC5038', { count: words, max: caps.maxProgramLength }, undefined, `program too long: at least ${words} NFP instructions > ${caps.maxProgramLength}`);
  }
  return undefined;
}
