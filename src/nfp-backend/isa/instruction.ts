/**
 * The decoded form of one NFP-6xxx instruction. Sources are logical (left/right
 * as the program means them); the encoder derives the swap bit and field
 * placement with the kernel's rule, so every record has exactly one encoding.
 */
import type { NfpOperand } from './operands.js';

/** `alu` operations by their 5-bit code (binutils mnemonics). */
export const ALU_OPS = {
  B: 0x00, '+': 0x01, '~B': 0x04, '+16': 0x05, AND: 0x08, '+8': 0x09, '~AND': 0x0c,
  '-carry': 0x0d, 'AND~': 0x10, '+carry': 0x11, OR: 0x14, '-': 0x15, XOR: 0x18, 'B-A': 0x19,
} as const;
export type AluOp = keyof typeof ALU_OPS;

/** `alu_shf` operations by their 3-bit code; `asr` and `byte_align` print as their own mnemonics. */
export const SHIFT_ALU_OPS = ['B', '~B', 'AND', '~AND', 'AND~', 'OR', 'asr', 'byte_align'] as const;
export type ShiftAluOp = (typeof SHIFT_ALU_OPS)[number];

/**
 * A shift as written in the text. `amount` is the logical amount; 'indirect'
 * takes it from the previous ALU instruction's A operand (encoded amount 0).
 */
export type NfpShift =
  | { kind: 'rotate'; amount: number }
  | { kind: 'right'; amount: number | 'indirect' }
  | { kind: 'left'; amount: number | 'indirect' }
  | { kind: 'double-right'; amount: number | 'indirect' };

export const BRANCH_CONDITIONS = {
  beq: 0, bne: 1, bmi: 2, bpl: 3, bcs: 4, bcc: 5, bvs: 6, bvc: 7, bge: 8, blt: 9, ble: 10, bgt: 11, br: 24,
} as const;
export type BranchCondition = keyof typeof BRANCH_CONDITIONS;

/** CPP commands the kernel JIT emits: (target/action code, token). add/add64 differ only in the length field. */
export const CMD_ACTIONS = {
  read8: { code: 0x43, token: 1 },
  write8_swap: { code: 0x42, token: 2 },
  write32_swap: { code: 0x5f, token: 2 },
  read32: { code: 0x5c, token: 0 },
  read32_le: { code: 0x5c, token: 1 },
  read32_swap: { code: 0x5c, token: 2 },
  read_le: { code: 0x40, token: 1 },
  read_swap_le: { code: 0x40, token: 3 },
  add: { code: 0x47, token: 0 },
  add64: { code: 0x47, token: 0 },
  add_imm: { code: 0x47, token: 2 },
} as const;
export type CmdAction = keyof typeof CMD_ACTIONS;

export const MUL_TYPES = ['start', '24x8', '16x16', '32x32'] as const;
export type MulType = (typeof MUL_TYPES)[number];
export const MUL_STEPS = ['step1', 'step2', 'step3', 'step4', 'last', 'last2'] as const;
export type MulStep = (typeof MUL_STEPS)[number];

/** Local CSRs the JIT touches, by byte address. */
export const LOCAL_CSR_NAMES: ReadonlyMap<number, string> = new Map([
  [0x064, 'ActLMAddr0'],
  [0x06c, 'ActLMAddr1'],
  [0x094, 'ActLMAddr2'],
  [0x09c, 'ActLMAddr3'],
  [0x148, 'PseudoRndNum'],
]);

export interface AluInsn {
  format: 'alu';
  op: AluOp;
  dest: NfpOperand;
  left: NfpOperand;
  right: NfpOperand;
  wrboth: boolean;
}

export interface AluShiftInsn {
  format: 'alu_shf';
  op: ShiftAluOp;
  dest: NfpOperand;
  left: NfpOperand;
  /** The shifted operand. */
  right: NfpOperand;
  shift: NfpShift;
  wrboth: boolean;
}

export interface ImmedInsn {
  format: 'immed';
  dest: NfpOperand;
  /** The 16-bit immediate as encoded (before shift and inversion). */
  imm16: number;
  width: 'word' | 'byte' | 'half';
  /** Byte shift 0..2 (for `half`, 2 selects bits 31:16). */
  byteShift: number;
  invert: boolean;
  wrboth: boolean;
}

export interface NopInsn {
  format: 'nop';
}

export interface LdFieldInsn {
  format: 'ld_field';
  /** Both source (kept bytes) and destination. */
  target: NfpOperand;
  source: NfpOperand;
  /** Bit i selects byte i (byte 0 = bits 7:0). */
  byteMask: number;
  shift: NfpShift;
  /** `ld_field_w_clr`: bytes outside the mask become 0. */
  clearUnmasked: boolean;
  wrboth: boolean;
}

export interface BranchInsn {
  format: 'br';
  condition: BranchCondition;
  target: number;
  defer: number;
}

export interface BranchBitInsn {
  format: 'br_bit';
  branchIfSet: boolean;
  reg: NfpOperand;
  bit: number;
  target: number;
  defer: number;
}

export interface ReturnInsn {
  format: 'rtn';
  reg: NfpOperand;
  defer: number;
}

export interface LocalCsrInsn {
  format: 'local_csr';
  /** CSR byte address (a multiple of 4). */
  csr: number;
  /** Value to write; undefined for a read (the value arrives as the next instruction's result). */
  value?: NfpOperand;
}

export interface MulStepInsn {
  format: 'mul_step';
  type: MulType;
  /** Ignored for `start`. */
  step: MulStep;
  /** Sources for start/step1-4; for last/last2 `left` is the destination and `right` is none. */
  left: NfpOperand;
  right: NfpOperand;
  wrboth: boolean;
}

export interface CmdInsn {
  format: 'cmd';
  action: CmdAction;
  xfer: number;
  /** 0: A high byte + B, 1: B high byte + A, 4: 32-bit A + B. */
  addressMode: 0 | 1 | 4;
  /** Operand in the restricted A field / B field (GPRs bank A / bank B respectively). */
  a: NfpOperand;
  b: NfpOperand;
  /** Printed length (field + 1). */
  length: number;
  /** 0 ctx_swap, 1 ctx_swap + defer[1], 2 + defer[2], 3 no swap. */
  ctxSwap: number;
  signal: number;
  indirectRef: boolean;
}

export type NfpInsn =
  | AluInsn
  | AluShiftInsn
  | ImmedInsn
  | NopInsn
  | LdFieldInsn
  | BranchInsn
  | BranchBitInsn
  | ReturnInsn
  | LocalCsrInsn
  | MulStepInsn
  | CmdInsn;

export type NfpFormat = NfpInsn['format'];
