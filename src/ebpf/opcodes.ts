/**
 * The eBPF opcode table: the one place that says which opcode bytes exist,
 * what they are, which -mcpu level first produces them, and which fields the
 * kernel requires to be zero or to take one of a few values.
 *
 * The interpreter, verifier, disassembler and NFP lowering all key on
 * `OPCODES[code]`. Validity follows the kernel's checks in do_check /
 * check_alu_op / check_ld_abs / resolve_pseudo_ldimm64 (structure only: shift
 * ranges, division by a zero constant and writes to r10 are the verifier's
 * business, because the kernel reports them there too).
 *
 * CPU levels are LLVM's -mcpu: v1 base ISA; v2 adds JLT/JLE/JSLT/JSLE; v3
 * adds the JMP32 class, the 32-bit ALU class and 32-bit atomics other than
 * plain add; v4 adds sdiv/smod, movsx, sign-extending loads, bswap, gotol.
 */
import type { Insn } from './insn.js';

// --- instruction classes (code & 0x07) ---
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

// --- source operand (code & 0x08) for ALU and JMP classes ---
export const BPF_K = 0x00;
export const BPF_X = 0x08;

// --- ALU operations (code & 0xf0) ---
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
/** Unsigned; off=1 makes it signed (sdiv, cpu v4). */
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
/** Unsigned; off=1 makes it signed (smod, cpu v4). */
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
/** With BPF_X, off 8/16/32 sign-extends (movsx, cpu v4); ALU64 off=1 is addr_space_cast. */
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
/** Byte swap; imm is the width (16, 32, 64). */
export const BPF_END = 0xd0;
/** BPF_END in class ALU: the source bit picks the target byte order. */
export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;

// --- load/store sizes (code & 0x18) ---
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;

// --- load/store modes (code & 0xe0) ---
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;

// --- jump operations (code & 0xf0) ---
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;
/** may_goto (JMP|JCOND|K, src=BPF_MAY_GOTO); kernel 6.9. */
export const BPF_JCOND = 0xe0;
export const BPF_MAY_GOTO = 0;

// --- atomic operations (imm of a BPF_ATOMIC store) ---
export const BPF_FETCH = 0x01;
export const BPF_ATOMIC_ADD = BPF_ADD;
export const BPF_ATOMIC_OR = BPF_OR;
export const BPF_ATOMIC_AND = BPF_AND;
export const BPF_ATOMIC_XOR = BPF_XOR;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;
/** Every atomic imm the kernel accepts (load-acquire/store-release of 6.15 excluded: LLVM 19 has no spelling). */
export const ATOMIC_IMMS: readonly number[] = [
  BPF_ATOMIC_ADD,
  BPF_ATOMIC_ADD | BPF_FETCH,
  BPF_ATOMIC_OR,
  BPF_ATOMIC_OR | BPF_FETCH,
  BPF_ATOMIC_AND,
  BPF_ATOMIC_AND | BPF_FETCH,
  BPF_ATOMIC_XOR,
  BPF_ATOMIC_XOR | BPF_FETCH,
  BPF_XCHG,
  BPF_CMPXCHG,
];

// --- ld_imm64 pseudo sources (src field of code 0x18) ---
export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_PSEUDO_MAP_VALUE = 2;
export const BPF_PSEUDO_BTF_ID = 3;
export const BPF_PSEUDO_FUNC = 4;
export const BPF_PSEUDO_MAP_IDX = 5;
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;

// --- call sources (src field of code 0x85) ---
export const BPF_HELPER_CALL = 0;
export const BPF_PSEUDO_CALL = 1;
export const BPF_PSEUDO_KFUNC_CALL = 2;

/** addr_space_cast imm values the kernel accepts (arena pointers, 6.9). */
export const ADDR_SPACE_CAST_IMMS: readonly number[] = [1, 1 << 16];

export const MAX_BPF_REG = 11;
export const BPF_REG_FP = 10;

export type CpuVersion = 1 | 2 | 3 | 4;

export type InsnKind =
  | 'alu64'
  | 'alu32'
  | 'endian' // le/be conversion, class ALU
  | 'bswap' // unconditional swap, class ALU64 (v4)
  | 'ld_imm64'
  | 'ld_abs'
  | 'ld_ind'
  | 'load' // LDX MEM
  | 'load_sx' // LDX MEMSX (v4)
  | 'store_imm' // ST MEM
  | 'store' // STX MEM
  | 'atomic' // STX ATOMIC
  | 'jmp' // conditional, 64-bit compare
  | 'jmp32' // conditional, 32-bit compare
  | 'ja' // goto off
  | 'gotol' // JMP32|JA: goto imm (v4)
  | 'may_goto'
  | 'call'
  | 'exit';

/**
 * What a field may hold: 'zero'; 'reg' (0..10); 'any' (any value the field
 * can encode); or a list of allowed values.
 */
export type FieldRule = 'zero' | 'reg' | 'any' | readonly number[];

export interface OpcodeInfo {
  code: number;
  /** uBPF/kernel-docs style name: add, add32, ldxw, stdw, jeq32, lddw, ... */
  name: string;
  kind: InsnKind;
  cls: number;
  /** ALU or jump operation (code & 0xf0); for loads/stores the mode (code & 0xe0). */
  op: number;
  /** BPF_K or BPF_X for ALU and jumps; undefined for loads and stores. */
  source?: number;
  /** Access width in bytes for loads, stores, atomics and ld_abs/ld_ind. */
  size?: 1 | 2 | 4 | 8;
  /** The lowest -mcpu at which LLVM emits the base form; see insnMinCpu for off/imm variants. */
  minCpu: CpuVersion;
  fields: { dst: FieldRule; src: FieldRule; off: FieldRule; imm: FieldRule };
}

const ALU_OPS: ReadonlyArray<[number, string]> = [
  [BPF_ADD, 'add'],
  [BPF_SUB, 'sub'],
  [BPF_MUL, 'mul'],
  [BPF_DIV, 'div'],
  [BPF_OR, 'or'],
  [BPF_AND, 'and'],
  [BPF_LSH, 'lsh'],
  [BPF_RSH, 'rsh'],
  [BPF_NEG, 'neg'],
  [BPF_MOD, 'mod'],
  [BPF_XOR, 'xor'],
  [BPF_MOV, 'mov'],
  [BPF_ARSH, 'arsh'],
];

const COND_JUMPS: ReadonlyArray<[number, string, CpuVersion]> = [
  [BPF_JEQ, 'jeq', 1],
  [BPF_JGT, 'jgt', 1],
  [BPF_JGE, 'jge', 1],
  [BPF_JSET, 'jset', 1],
  [BPF_JNE, 'jne', 1],
  [BPF_JSGT, 'jsgt', 1],
  [BPF_JSGE, 'jsge', 1],
  [BPF_JLT, 'jlt', 2],
  [BPF_JLE, 'jle', 2],
  [BPF_JSLT, 'jslt', 2],
  [BPF_JSLE, 'jsle', 2],
];

const SIZES: ReadonlyArray<[number, 1 | 2 | 4 | 8, string]> = [
  [BPF_B, 1, 'b'],
  [BPF_H, 2, 'h'],
  [BPF_W, 4, 'w'],
  [BPF_DW, 8, 'dw'],
];

function buildTable(): ReadonlyMap<number, OpcodeInfo> {
  const t = new Map<number, OpcodeInfo>();
  const add = (info: OpcodeInfo): void => {
    if (t.has(info.code)) throw new Error(`opcode table: duplicate 0x${info.code.toString(16)}`);
    t.set(info.code, info);
  };

  for (const cls of [BPF_ALU64, BPF_ALU]) {
    const wide = cls === BPF_ALU64;
    const suffix = wide ? '' : '32';
    const minCpu: CpuVersion = wide ? 1 : 3;
    for (const [op, base] of ALU_OPS) {
      const divLike = op === BPF_DIV || op === BPF_MOD;
      if (op === BPF_NEG) {
        // NEG has only the K form, with every operand field zero.
        add({ code: cls | op | BPF_K, name: base + suffix, kind: wide ? 'alu64' : 'alu32', cls, op, source: BPF_K, minCpu,
          fields: { dst: 'reg', src: 'zero', off: 'zero', imm: 'zero' } });
        continue;
      }
      const kOff: FieldRule = divLike ? [0, 1] : 'zero';
      let xOff: FieldRule = divLike ? [0, 1] : 'zero';
      if (op === BPF_MOV) xOff = wide ? [0, 1, 8, 16, 32] : [0, 8, 16];
      add({ code: cls | op | BPF_K, name: `${base}${suffix}_imm`, kind: wide ? 'alu64' : 'alu32', cls, op, source: BPF_K, minCpu,
        fields: { dst: 'reg', src: 'zero', off: kOff, imm: 'any' } });
      add({ code: cls | op | BPF_X, name: `${base}${suffix}_reg`, kind: wide ? 'alu64' : 'alu32', cls, op, source: BPF_X, minCpu,
        // imm is zero except for addr_space_cast (mov64 off=1), checked in validateOpcodeFields.
        fields: { dst: 'reg', src: 'reg', off: xOff, imm: op === BPF_MOV && wide ? 'any' : 'zero' } });
    }
  }
  const widths = [16, 32, 64] as const;
  add({ code: BPF_ALU | BPF_END | BPF_TO_LE, name: 'le', kind: 'endian', cls: BPF_ALU, op: BPF_END, source: BPF_TO_LE, minCpu: 1,
    fields: { dst: 'reg', src: 'zero', off: 'zero', imm: widths } });
  add({ code: BPF_ALU | BPF_END | BPF_TO_BE, name: 'be', kind: 'endian', cls: BPF_ALU, op: BPF_END, source: BPF_TO_BE, minCpu: 1,
    fields: { dst: 'reg', src: 'zero', off: 'zero', imm: widths } });
  add({ code: BPF_ALU64 | BPF_END | BPF_TO_LE, name: 'bswap', kind: 'bswap', cls: BPF_ALU64, op: BPF_END, source: BPF_TO_LE, minCpu: 4,
    fields: { dst: 'reg', src: 'zero', off: 'zero', imm: widths } });

  add({ code: BPF_LD | BPF_IMM | BPF_DW, name: 'lddw', kind: 'ld_imm64', cls: BPF_LD, op: BPF_IMM, size: 8, minCpu: 1,
    fields: { dst: 'reg', src: [0, 1, 2, 3, 4, 5, 6], off: 'zero', imm: 'any' } });
  for (const [sz, bytes, n] of SIZES) {
    if (bytes !== 8) {
      add({ code: BPF_LD | BPF_ABS | sz, name: `ldabs${n}`, kind: 'ld_abs', cls: BPF_LD, op: BPF_ABS, size: bytes, minCpu: 1,
        fields: { dst: 'zero', src: 'zero', off: 'zero', imm: 'any' } });
      add({ code: BPF_LD | BPF_IND | sz, name: `ldind${n}`, kind: 'ld_ind', cls: BPF_LD, op: BPF_IND, size: bytes, minCpu: 1,
        fields: { dst: 'zero', src: 'reg', off: 'zero', imm: 'any' } });
      add({ code: BPF_LDX | BPF_MEMSX | sz, name: `ldxs${n}`, kind: 'load_sx', cls: BPF_LDX, op: BPF_MEMSX, size: bytes, minCpu: 4,
        fields: { dst: 'reg', src: 'reg', off: 'any', imm: 'zero' } });
    }
    add({ code: BPF_LDX | BPF_MEM | sz, name: `ldx${n}`, kind: 'load', cls: BPF_LDX, op: BPF_MEM, size: bytes, minCpu: 1,
      fields: { dst: 'reg', src: 'reg', off: 'any', imm: 'zero' } });
    add({ code: BPF_ST | BPF_MEM | sz, name: `st${n}`, kind: 'store_imm', cls: BPF_ST, op: BPF_MEM, size: bytes, minCpu: 1,
      fields: { dst: 'reg', src: 'zero', off: 'any', imm: 'any' } });
    add({ code: BPF_STX | BPF_MEM | sz, name: `stx${n}`, kind: 'store', cls: BPF_STX, op: BPF_MEM, size: bytes, minCpu: 1,
      fields: { dst: 'reg', src: 'reg', off: 'any', imm: 'zero' } });
    if (bytes >= 4) {
      add({ code: BPF_STX | BPF_ATOMIC | sz, name: `atomic${n}`, kind: 'atomic', cls: BPF_STX, op: BPF_ATOMIC, size: bytes, minCpu: 1,
        fields: { dst: 'reg', src: 'reg', off: 'any', imm: ATOMIC_IMMS } });
    }
  }

  for (const cls of [BPF_JMP, BPF_JMP32]) {
    const suffix = cls === BPF_JMP ? '' : '32';
    for (const [op, base, cpu] of COND_JUMPS) {
      const minCpu: CpuVersion = cls === BPF_JMP32 ? 3 : cpu;
      const kind = cls === BPF_JMP ? 'jmp' : 'jmp32';
      add({ code: cls | op | BPF_K, name: `${base}${suffix}_imm`, kind, cls, op, source: BPF_K, minCpu,
        fields: { dst: 'reg', src: 'zero', off: 'any', imm: 'any' } });
      add({ code: cls | op | BPF_X, name: `${base}${suffix}_reg`, kind, cls, op, source: BPF_X, minCpu,
        fields: { dst: 'reg', src: 'reg', off: 'any', imm: 'zero' } });
    }
  }
  add({ code: BPF_JMP | BPF_JA, name: 'ja', kind: 'ja', cls: BPF_JMP, op: BPF_JA, source: BPF_K, minCpu: 1,
    fields: { dst: 'zero', src: 'zero', off: 'any', imm: 'zero' } });
  add({ code: BPF_JMP32 | BPF_JA, name: 'gotol', kind: 'gotol', cls: BPF_JMP32, op: BPF_JA, source: BPF_K, minCpu: 4,
    fields: { dst: 'zero', src: 'zero', off: 'zero', imm: 'any' } });
  // LLVM does not gate may_goto on -mcpu (it is a feature macro); the kernel needs 6.9.
  add({ code: BPF_JMP | BPF_JCOND, name: 'may_goto', kind: 'may_goto', cls: BPF_JMP, op: BPF_JCOND, source: BPF_K, minCpu: 1,
    fields: { dst: 'zero', src: [BPF_MAY_GOTO], off: 'any', imm: 'zero' } });
  // kfunc calls carry a module BTF fd index in off; checked in validateOpcodeFields.
  add({ code: BPF_JMP | BPF_CALL, name: 'call', kind: 'call', cls: BPF_JMP, op: BPF_CALL, source: BPF_K, minCpu: 1,
    fields: { dst: 'zero', src: [BPF_HELPER_CALL, BPF_PSEUDO_CALL, BPF_PSEUDO_KFUNC_CALL], off: 'any', imm: 'any' } });
  add({ code: BPF_JMP | BPF_EXIT, name: 'exit', kind: 'exit', cls: BPF_JMP, op: BPF_EXIT, source: BPF_K, minCpu: 1,
    fields: { dst: 'zero', src: 'zero', off: 'zero', imm: 'zero' } });
  return t;
}

const TABLE = buildTable();

/** The opcode table as an array indexed by the opcode byte; undefined = not an instruction. */
export const OPCODES: ReadonlyArray<OpcodeInfo | undefined> = Array.from({ length: 256 }, (_, code) => TABLE.get(code));

export function opcodeInfo(code: number): OpcodeInfo | undefined {
  return OPCODES[code & 0xff];
}

export const insnClass = (code: number): number => code & 0x07;
export const aluOp = (code: number): number => code & 0xf0;
export const jmpOp = (code: number): number => code & 0xf0;
export const sourceOf = (code: number): number => code & 0x08;
export const sizeOf = (code: number): number => code & 0x18;
export const modeOf = (code: number): number => code & 0xe0;

export function isLdImm64(insn: Pick<Insn, 'code'>): boolean {
  return insn.code === (BPF_LD | BPF_IMM | BPF_DW);
}

/** Signed division or modulo (sdiv/smod, v4): DIV/MOD with off=1. */
export function isSignedDivMod(insn: Pick<Insn, 'code' | 'off'>): boolean {
  const info = opcodeInfo(insn.code);
  return !!info && (info.kind === 'alu64' || info.kind === 'alu32') && (info.op === BPF_DIV || info.op === BPF_MOD) && insn.off === 1;
}

/** mov with sign extension (movsx, v4): MOV|X with off 8, 16 or 32. */
export function isMovSx(insn: Pick<Insn, 'code' | 'off'>): boolean {
  const info = opcodeInfo(insn.code);
  return !!info && info.op === BPF_MOV && info.source === BPF_X && (insn.off === 8 || insn.off === 16 || insn.off === 32);
}

/** addr_space_cast (arena pointers): ALU64 MOV|X with off=1. */
export function isAddrSpaceCast(insn: Pick<Insn, 'code' | 'off'>): boolean {
  return insn.code === (BPF_ALU64 | BPF_MOV | BPF_X) && insn.off === 1;
}

export function isExit(insn: Pick<Insn, 'code'>): boolean {
  return insn.code === (BPF_JMP | BPF_EXIT);
}

export function isCall(insn: Pick<Insn, 'code'>): boolean {
  return insn.code === (BPF_JMP | BPF_CALL);
}

export function isHelperCall(insn: Pick<Insn, 'code' | 'src'>): boolean {
  return isCall(insn) && insn.src === BPF_HELPER_CALL;
}

export function isPseudoCall(insn: Pick<Insn, 'code' | 'src'>): boolean {
  return isCall(insn) && insn.src === BPF_PSEUDO_CALL;
}

export function isKfuncCall(insn: Pick<Insn, 'code' | 'src'>): boolean {
  return isCall(insn) && insn.src === BPF_PSEUDO_KFUNC_CALL;
}

/** Any instruction that transfers control within the function: conditional, ja, gotol, may_goto. */
export function isJump(insn: Pick<Insn, 'code'>): boolean {
  const k = opcodeInfo(insn.code)?.kind;
  return k === 'jmp' || k === 'jmp32' || k === 'ja' || k === 'gotol' || k === 'may_goto';
}

export function isConditionalJump(insn: Pick<Insn, 'code'>): boolean {
  const k = opcodeInfo(insn.code)?.kind;
  return k === 'jmp' || k === 'jmp32' || k === 'may_goto';
}

/**
 * The slot index control may go to from the instruction at `pc` besides the
 * next one: jumps (pc + 1 + off, gotol pc + 1 + imm) and bpf-to-bpf calls
 * (pc + 1 + imm). Undefined for everything else, including helper calls.
 */
export function jumpTarget(pc: number, insn: Pick<Insn, 'code' | 'src' | 'off' | 'imm'>): number | undefined {
  const k = opcodeInfo(insn.code)?.kind;
  if (k === 'jmp' || k === 'jmp32' || k === 'ja' || k === 'may_goto') return pc + 1 + insn.off;
  if (k === 'gotol') return pc + 1 + insn.imm;
  if (k === 'call' && insn.src === BPF_PSEUDO_CALL) return pc + 1 + insn.imm;
  return undefined;
}

/** ld_imm64's 64-bit value: imm (low 32 bits) and imm2 (high 32 bits). */
export function ldImm64Value(insn: Pick<Insn, 'imm' | 'imm2'>): bigint {
  return BigInt.asIntN(64, (BigInt(insn.imm2 ?? 0) << 32n) | BigInt(insn.imm >>> 0));
}

/**
 * The lowest -mcpu at which LLVM emits this exact instruction, including the
 * variants selected by off or imm (sdiv/smod, movsx, 32-bit fetch atomics).
 */
export function insnMinCpu(insn: Pick<Insn, 'code' | 'off' | 'imm'>): CpuVersion | undefined {
  const info = opcodeInfo(insn.code);
  if (!info) return undefined;
  if (isSignedDivMod(insn) || isMovSx(insn) || isAddrSpaceCast(insn)) return 4;
  if (info.kind === 'atomic' && info.size === 4 && insn.imm !== BPF_ATOMIC_ADD) return Math.max(info.minCpu, 3) as CpuVersion;
  return info.minCpu;
}

function fieldOk(rule: FieldRule, value: number): boolean {
  if (rule === 'any') return true;
  if (rule === 'zero') return value === 0;
  if (rule === 'reg') return value >= 0 && value < MAX_BPF_REG;
  return rule.includes(value);
}

/**
 * Check one instruction's fields against its table row. Returns the reason
 * it is invalid, or null. Does not look at ld_imm64's second slot (the
 * decoder does) except for the rules on imm2.
 */
export function validateOpcodeFields(insn: Pick<Insn, 'code' | 'dst' | 'src' | 'off' | 'imm' | 'imm2'>): string | null {
  const info = opcodeInfo(insn.code);
  const hex = (v: number): string => `0x${(v & 0xff).toString(16).padStart(2, '0')}`;
  if (!info) return `unknown opcode ${hex(insn.code)}`;
  if (insn.dst < 0 || insn.dst > 15 || insn.src < 0 || insn.src > 15) return `register field out of range`;
  const { fields } = info;
  if (!fieldOk(fields.dst, insn.dst)) {
    return fields.dst === 'reg' ? `invalid register r${insn.dst}` : `${info.name} (${hex(info.code)}) uses reserved field dst (${insn.dst})`;
  }
  if (!fieldOk(fields.src, insn.src)) {
    return fields.src === 'reg' ? `invalid register r${insn.src}` : `${info.name} (${hex(info.code)}) uses reserved field src (${insn.src})`;
  }
  // kfunc calls use off for the module BTF fd index; helper and local calls must keep it zero.
  const offOk = info.kind === 'call' ? insn.off === 0 || insn.src === BPF_PSEUDO_KFUNC_CALL : fieldOk(fields.off, insn.off);
  if (!offOk) return `${info.name} (${hex(info.code)}) uses reserved field off (${insn.off})`;
  let immOk = fieldOk(fields.imm, insn.imm);
  if (info.code === (BPF_ALU64 | BPF_MOV | BPF_X)) immOk = insn.off === 1 ? ADDR_SPACE_CAST_IMMS.includes(insn.imm) : insn.imm === 0;
  if (!immOk) return `${info.name} (${hex(info.code)}) has invalid imm (${insn.imm})`;
  if (info.kind === 'ld_imm64' && (insn.src === BPF_PSEUDO_MAP_FD || insn.src === BPF_PSEUDO_MAP_IDX) && (insn.imm2 ?? 0) !== 0) {
    return `ld_imm64 with src ${insn.src} must have a zero upper immediate`;
  }
  return null;
}
