/**
 * Encoder/decoder between 45-bit NFP-6xxx instruction bodies and NfpInsn records.
 * Field layouts: docs nfp-microcode.md B.2-B.8 (and binutils' nfp-dis.c for the
 * formats the kernel JIT never emits). Source placement (swap bit, which field
 * takes which operand) follows the kernel's swreg rule (B.3), so a record has
 * one encoding; decode rejects words that encode() would not reproduce rather
 * than returning a record that silently re-encodes differently.
 *
 * "Canonical" below means: where the binutils text form does not show a field
 * (it prints two words the same way), the encoder writes one fixed value
 * (usually 0) and the decoder refuses the other words, so that
 * decode -> text -> assemble gives the word back.
 */
import { fail, NicoffError } from '../../diagnostics/diagnostic.js';
import { NFP_BODY_MASK } from './ecc.js';
import {
  ALU_OP_CRC,
  ALU_OPS,
  ALU_UNARY_OPS,
  type AluOp,
  BRANCH_CONDITIONS,
  type BranchCondition,
  branchHasState,
  CAM_OPS,
  type CamInsn,
  type CamOp,
  CMD_MNEMONICS,
  type CmdInsn,
  type CmdTarget,
  CRC_BYTES,
  CRC_OPS,
  type CrcOp,
  type CtxArbEvents,
  findCmdMnemonic,
  MUL_STEPS,
  MUL_TYPES,
  type NfpInsn,
  type NfpShift,
  SHIFT_ALU_OPS,
} from './instruction.js';
import {
  bankOf,
  decodeRestricted,
  decodeUnrestricted,
  encodeRestricted,
  encodeUnrestricted,
  type FieldContext,
  type GprBank,
  imm,
  type NfpOperand,
  NO_OPERAND,
  WordDecodeProblem,
  usesExtendedLmPointer,
} from './operands.js';

const UNRESTRICTED_NO_DEST = 0x300;
const RESTRICTED_NO_DEST = 0x20;
const UNUSED_SOURCE = 0;
/** Branch context/signal-state field value the kernel writes ("none"). */
const BRANCH_CSS_NONE = 2;

function field(body: bigint, hi: number, lo: number): number {
  return Number((body >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));
}

function flag(body: bigint, bit: number): boolean {
  return ((body >> BigInt(bit)) & 1n) === 1n;
}

/** Accumulates fields; a value wider than its field is an encoder bug, not a truncation. */
class BodyBuilder {
  body = 0n;
  constructor(private readonly format: string) {}
  put(value: number | boolean, hi: number, lo: number): this {
    const v = typeof value === 'boolean' ? (value ? 1 : 0) : value;
    const width = hi - lo + 1;
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** width) {
      fail('NC6003', { format: this.format, reason: `value ${v} does not fit bits ${hi}:${lo}` });
    }
    this.body |= BigInt(v) << BigInt(lo);
    return this;
  }
  /** no_cc (bit 40) and predicate_cc (bit 44). */
  cc(insn: { noCc?: boolean; predicateCc?: boolean }): this {
    return this.put(insn.noCc === true, 40, 40).put(insn.predicateCc === true, 44, 44);
  }
  /** Bits 44:40 of the ALU-style formats: predicate_cc, destination and source LM extensions, gpr_wrboth, no_cc. */
  resultFlags(insn: { wrboth: boolean; noCc?: boolean; predicateCc?: boolean }, srcExt: boolean, dstExt: boolean): this {
    return this.put(insn.wrboth, 41, 41).put(srcExt, 42, 42).put(dstExt, 43, 43).cc(insn);
  }
}

/** The fields of the ALU class (bits 39:37 = 0b101) that alu, crc and the CAM operations share. */
interface AluClassFields {
  /** Encoded A-side and B-side source fields and destination field. */
  a: number;
  b: number;
  dest: number;
  swap: boolean;
  /** The operation, bits 35:31. */
  op: number;
  srcExt: boolean;
  dstExt: boolean;
}

function putAluClass(b: BodyBuilder, insn: { dest: NfpOperand; wrboth: boolean; noCc?: boolean; predicateCc?: boolean }, f: AluClassFields): bigint {
  return b
    .put(f.a, 9, 0)
    .put(f.b, 19, 10)
    .put(f.dest, 29, 20)
    .put(f.swap, 30, 30)
    .put(f.op, 35, 31)
    .put(destBankBit(insn.dest), 36, 36)
    .put(0b101, 39, 37)
    .resultFlags(insn, f.srcExt, f.dstExt).body;
}

function ccFlags(body: bigint, withNoCc = true): { noCc?: true; predicateCc?: true } {
  return {
    ...(withNoCc && flag(body, 40) ? { noCc: true as const } : {}),
    ...(flag(body, 44) ? { predicateCc: true as const } : {}),
  };
}

function requireRange(value: number, min: number, max: number, what: string, format: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail('NC6003', { format, reason: `${what} ${value} is outside ${min}..${max}` });
  }
}

interface SourcePlacement {
  aField: NfpOperand;
  bField: NfpOperand;
  swap: boolean;
}

/** Register class for the "two sources from one class" rule; GPRs count per bank. */
function operandClass(op: NfpOperand): string | undefined {
  switch (op.kind) {
    case 'none':
      return undefined;
    case 'gpr':
    case 'abs-gpr':
      return `GPR bank ${op.bank}`;
    case 'xfer':
    case 'xfer-indexed':
      return 'transfer';
    case 'nn':
    case 'nn-indexed':
      return 'next-neighbour';
    default:
      return op.kind;
  }
}

function requireDistinctClasses(left: NfpOperand, right: NfpOperand, format: string): void {
  const cls = operandClass(left);
  if (cls !== undefined && cls === operandClass(right)) {
    fail('NC6003', { format, reason: `both sources are ${cls} operands (one read port per class)` });
  }
}

/** Kernel rule: a bank-B left or bank-A right operand swaps the two fields. */
function placeSources(left: NfpOperand, right: NfpOperand, format: string): SourcePlacement {
  requireDistinctClasses(left, right, format);
  const swap = bankOf(left) === 'B' || bankOf(right) === 'A';
  return swap ? { aField: right, bField: left, swap } : { aField: left, bField: right, swap };
}

function unplaceSources(aField: NfpOperand, bField: NfpOperand, swap: boolean): { left: NfpOperand; right: NfpOperand } {
  return swap ? { left: bField, right: aField } : { left: aField, right: bField };
}

/**
 * A source field the operation does not read (the text shows `--` or nothing):
 * canonically code 0, which decodes as context-relative GPR 0.
 */
function unusedSource(op: NfpOperand, what: string): NfpOperand {
  if (op.kind === 'gpr' && op.index === 0) return NO_OPERAND;
  return unsupported(`${what} is not shown by the text form and must be 0`);
}

function requireNone(op: NfpOperand, what: string, format: string): void {
  if (op.kind !== 'none') fail('NC6003', { format, reason: `${what} takes no such operand` });
}

function requireOperand(op: NfpOperand, what: string, format: string): void {
  if (op.kind === 'none') fail('NC6003', { format, reason: `${what} is required` });
  if (op.kind === 'imm') fail('NC6003', { format, reason: `${what} cannot be an immediate` });
}

function destBankBit(dest: NfpOperand): boolean {
  return bankOf(dest) === 'B';
}

function destContext(dest: NfpOperand, lmExtension: boolean): FieldContext {
  return { bank: bankOf(dest) ?? 'A', lmExtension };
}

function requireDestination(dest: NfpOperand, format: string): void {
  if (dest.kind === 'imm') fail('NC6003', { format, reason: 'an immediate cannot be a destination' });
}

function requireDefer(defer: number, max: number, format: string): void {
  requireRange(defer, 0, max, 'defer', format);
}

function encodeShift(shift: NfpShift, format: string): { shiftClass: number; amount: number } {
  const amountOf = (a: number | 'indirect', min: number): number => {
    if (a === 'indirect') return 0;
    if (!Number.isInteger(a) || a < min || a > 31) fail('NC6003', { format, reason: `shift amount ${a} is outside ${min}..31` });
    return a;
  };
  switch (shift.kind) {
    case 'rotate':
      return { shiftClass: 0, amount: amountOf(shift.amount, 0) };
    case 'right':
      return { shiftClass: 1, amount: amountOf(shift.amount, 1) };
    case 'left': {
      // Left shifts by n are encoded as 32 - n; 0 stays "indirect".
      const n = amountOf(shift.amount, 1);
      return { shiftClass: 2, amount: n === 0 ? 0 : 32 - n };
    }
    case 'double-right':
      return { shiftClass: 3, amount: amountOf(shift.amount, 1) };
  }
}

function decodeShift(shiftClass: number, amount: number): NfpShift {
  const indirectOr = (n: number): number | 'indirect' => (n === 0 ? 'indirect' : n);
  switch (shiftClass) {
    case 0:
      return { kind: 'rotate', amount };
    case 1:
      return { kind: 'right', amount: indirectOr(amount) };
    case 2:
      return { kind: 'left', amount: amount === 0 ? 'indirect' : 32 - amount };
    default:
      return { kind: 'double-right', amount: indirectOr(amount) };
  }
}

function encodeTarget(b: BodyBuilder, target: number, format: string): void {
  requireRange(target, 0, 0x3fff, 'branch target', format);
  b.put(target & 0x1fff, 34, 22).put(target >> 13, 40, 40);
}

function decodeTarget(body: bigint): number {
  return field(body, 34, 22) | (field(body, 40, 40) << 13);
}

/** CPP target/action code (bits 38:32) of a command's target and action. */
const CMD_TARGET_BASE: Record<CmdTarget, { base: number; actionBits: number }> = {
  ila: { base: 0x00, actionBits: 2 },
  nbi: { base: 0x04, actionBits: 2 },
  pcie: { base: 0x0c, actionBits: 2 },
  crypto: { base: 0x14, actionBits: 2 },
  arm: { base: 0x18, actionBits: 2 },
  ct: { base: 0x1c, actionBits: 2 },
  mem: { base: 0x40, actionBits: 5 },
  cls: { base: 0x60, actionBits: 5 },
};

function decodeCmdTarget(code: number): { target: CmdTarget; action: number } {
  if (code >> 5 === 0) {
    const target = (['ila', 'nbi', undefined, 'pcie', undefined, 'crypto', 'arm', 'ct'] as const)[(code >> 2) & 7];
    if (target === undefined) unsupported(`command target code 0x${code.toString(16)} names no CPP target`);
    return { target, action: code & 3 };
  }
  switch (code >> 4) {
    case 4:
    case 5:
      return { target: 'mem', action: code & 0x1f };
    case 6:
    case 7:
      return { target: 'cls', action: code & 0x1f };
    case 3:
      return unsupported(`command target code 0x${code.toString(16)} (SRAM) has no NFP-6xxx command`);
    default:
      return unsupported(`command target code 0x${code.toString(16)} names no CPP target`);
  }
}

function aluOpCode(op: AluOp): number | undefined {
  return op in ALU_OPS ? ALU_OPS[op as keyof typeof ALU_OPS] : op in ALU_UNARY_OPS ? ALU_UNARY_OPS[op as keyof typeof ALU_UNARY_OPS] : undefined;
}

/** ALU operations whose A-side operand is not read (the text shows `--` or nothing). */
function aluIgnoresLeft(op: AluOp): boolean {
  return op === 'B' || op === '~B' || op in ALU_UNARY_OPS;
}

/** Encode a record as a 45-bit instruction body (no ECC). */
export function encodeInsn(insn: NfpInsn): bigint {
  const format = insn.format;
  const b = new BodyBuilder(format);
  switch (insn.format) {
    case 'alu': {
      requireDestination(insn.dest, format);
      const opCode = aluOpCode(insn.op);
      if (opCode === undefined) return fail('NC6003', { format, reason: `unknown ALU operation ${String(insn.op)}` });
      if (aluIgnoresLeft(insn.op)) requireNone(insn.left, `${insn.op} (A operand)`, format);
      if (insn.op === 'pop_count1' || insn.op === 'pop_count2') requireNone(insn.dest, `${insn.op} (destination)`, format);
      const { aField, bField, swap } = placeSources(insn.left, insn.right, format);
      const srcExt = usesExtendedLmPointer(insn.left) || usesExtendedLmPointer(insn.right);
      const dstExt = usesExtendedLmPointer(insn.dest);
      return putAluClass(b, insn, {
        a: encodeUnrestricted(aField, { bank: 'A', lmExtension: srcExt }, UNUSED_SOURCE, format),
        b: encodeUnrestricted(bField, { bank: 'B', lmExtension: srcExt }, UNUSED_SOURCE, format),
        dest: encodeUnrestricted(insn.dest, destContext(insn.dest, dstExt), UNRESTRICTED_NO_DEST, format),
        swap,
        op: opCode,
        srcExt,
        dstExt,
      });
    }
    case 'cam':
      return encodeCam(insn, b);
    case 'crc': {
      requireDestination(insn.dest, format);
      if (insn.source.kind === 'none') fail('NC6003', { format, reason: 'the CRC source is required' });
      const opCode = CRC_OPS[insn.op];
      const bytes = CRC_BYTES.indexOf(insn.bytes);
      if (opCode === undefined || bytes < 0) fail('NC6003', { format, reason: `unknown CRC operation ${insn.op} or bytes ${insn.bytes}` });
      const control = (opCode << 5) | (insn.bitSwap ? 0x10 : 0) | (insn.endian === 'le' ? 0x08 : 0) | bytes;
      // The control sits in the A-side field; a bank-A source swaps the fields.
      const swap = bankOf(insn.source) === 'A';
      const srcExt = usesExtendedLmPointer(insn.source);
      const dstExt = usesExtendedLmPointer(insn.dest);
      const source = encodeUnrestricted(insn.source, { bank: swap ? 'A' : 'B', lmExtension: srcExt }, UNUSED_SOURCE, format);
      return putAluClass(b, insn, {
        a: swap ? source : control,
        b: swap ? control : source,
        dest: encodeUnrestricted(insn.dest, destContext(insn.dest, dstExt), UNRESTRICTED_NO_DEST, format),
        swap,
        op: ALU_OP_CRC,
        srcExt,
        dstExt,
      });
    }
    case 'alu_shf': {
      requireDestination(insn.dest, format);
      if (insn.op === 'byte_align') {
        // byte_align_be reads the B side, byte_align_le the A side; the shift fields hold the
        // direction only (right/left, amount 0 = the byte index), and binutils prints the
        // sources without the LM extension.
        const le = insn.shift.kind === 'left';
        if (insn.shift.kind !== (le ? 'left' : 'right') || insn.shift.amount !== 'indirect') {
          fail('NC6003', { format, reason: 'byte_align takes shift right/indirect (_be) or left/indirect (_le)' });
        }
        requireNone(le ? insn.right : insn.left, `byte_align_${le ? 'le' : 'be'} (second source)`, format);
        if ((le ? insn.left : insn.right).kind === 'none') fail('NC6003', { format, reason: 'byte_align needs a source' });
        if (usesExtendedLmPointer(insn.left) || usesExtendedLmPointer(insn.right)) {
          fail('NC6003', { format, reason: 'byte_align sources cannot use LM pointers 2/3' });
        }
      } else {
        // binutils prints class 3 with operation B as dbl_shf[d, a, b, >>n] and with asr as
        // dbl_shf[d, b, >>n]; with the other operations it shows no operation (lossy), so they are refused.
        if (insn.shift.kind === 'double-right' && insn.op !== 'B' && insn.op !== 'asr') {
          fail('NC6003', { format, reason: `dbl_shf takes operation B or asr, not ${insn.op}` });
        }
        if (insn.op === 'asr' || (insn.shift.kind !== 'double-right' && (insn.op === 'B' || insn.op === '~B'))) {
          requireNone(insn.left, `${insn.op} (A operand)`, format);
        }
      }
      const { aField, bField, swap } = placeSources(insn.left, insn.right, format);
      const srcExt = usesExtendedLmPointer(insn.left) || usesExtendedLmPointer(insn.right);
      const dstExt = usesExtendedLmPointer(insn.dest);
      const a = encodeRestricted(aField, { bank: 'A', lmExtension: srcExt }, UNUSED_SOURCE, 255, format);
      const bb = encodeRestricted(bField, { bank: 'B', lmExtension: srcExt }, UNUSED_SOURCE, 255, format);
      const dest = encodeRestricted(insn.dest, destContext(insn.dest, dstExt), RESTRICTED_NO_DEST, 0, format);
      const { shiftClass, amount } = encodeShift(insn.shift, format);
      b.put(a.code, 7, 0)
        .put(shiftClass, 9, 8)
        .put(bb.code, 17, 10)
        .put(a.i8 || bb.i8, 18, 18)
        .put(swap, 19, 19)
        .put(dest.code, 27, 20)
        .put(amount, 32, 28)
        .put(SHIFT_ALU_OPS.indexOf(insn.op), 35, 33)
        .put(destBankBit(insn.dest), 36, 36)
        .put(0b100, 39, 37)
        .resultFlags(insn, srcExt, dstExt);
      return b.body;
    }
    case 'nop':
      return 0x00f0000c0300n;
    case 'immed': {
      requireDestination(insn.dest, format);
      requireRange(insn.imm16, 0, 0xffff, 'immediate', format);
      // binutils prints any immed with no destination and value 0 as `nop`.
      if (insn.dest.kind === 'none' && insn.imm16 === 0) fail('NC6003', { format, reason: 'an immed of 0 to no destination is nop' });
      if (insn.width === 'byte') {
        requireRange(insn.imm16, 0, 0xff, 'byte immediate', format);
        requireRange(insn.byteShift, 0, 3, 'byte position', format);
      } else if (insn.width === 'half') {
        if (insn.byteShift !== 0 && insn.byteShift !== 2) fail('NC6003', { format, reason: `16-bit immed with byte shift ${insn.byteShift}` });
      } else {
        requireRange(insn.byteShift, 0, 3, 'byte shift', format);
      }
      // binutils shows a byte/half immediate after inversion, which loses the invert bit.
      if (insn.invert && insn.width !== 'word') fail('NC6003', { format, reason: `an inverted ${insn.width} immediate has no text form` });
      const dstExt = usesExtendedLmPointer(insn.dest);
      const low = imm(insn.imm16 & 0xff);
      // Destination goes in the A field unless it is a bank-B GPR.
      const destInB = bankOf(insn.dest) === 'B';
      const aCode = destInB
        ? encodeUnrestricted(low, { bank: 'A', lmExtension: false }, 0, format)
        : encodeUnrestricted(insn.dest, destContext(insn.dest, dstExt), UNRESTRICTED_NO_DEST, format);
      const bCode = destInB
        ? encodeUnrestricted(insn.dest, destContext(insn.dest, dstExt), UNRESTRICTED_NO_DEST, format)
        : encodeUnrestricted(low, { bank: 'B', lmExtension: false }, 0, format);
      b.put(aCode, 9, 0)
        .put(bCode, 19, 10)
        .put(insn.imm16 >> 8, 27, 20)
        .put(['word', 'byte', 'half'].indexOf(insn.width), 30, 29)
        .put(insn.invert, 31, 31)
        .put(insn.byteShift, 34, 33)
        .put(0b1111, 39, 36)
        .put(insn.wrboth, 41, 41)
        .put(dstExt, 43, 43)
        .put(insn.predicateCc === true, 44, 44);
      return b.body;
    }
    case 'ld_field': {
      requireDestination(insn.target, format);
      const { swap } = placeSources(insn.target, insn.source, format);
      // Kernel rule (swreg_to_restricted with dst = target): the destination extension
      // follows the target, the source extension either operand.
      const dstExt = usesExtendedLmPointer(insn.target);
      const srcExt = dstExt || usesExtendedLmPointer(insn.source);
      const target = encodeRestricted(insn.target, { bank: swap ? 'B' : 'A', lmExtension: dstExt }, UNUSED_SOURCE, 255, format);
      const source = encodeRestricted(insn.source, { bank: swap ? 'A' : 'B', lmExtension: srcExt }, UNUSED_SOURCE, 255, format);
      const { shiftClass, amount } = encodeShift(insn.shift, format);
      b.put(swap ? source.code : target.code, 7, 0)
        .put(shiftClass, 9, 8)
        .put(swap ? target.code : source.code, 17, 10)
        .put(target.i8 || source.i8, 18, 18)
        .put(swap, 19, 19)
        .put(insn.clearUnmasked, 20, 20)
        .put(insn.byteMask, 27, 24)
        .put(amount, 32, 28)
        .put(insn.loadCc === true, 34, 34)
        .put(0b1100, 39, 36)
        .put(insn.wrboth, 41, 41)
        .put(srcExt, 42, 42)
        .put(dstExt, 43, 43)
        .put(insn.predicateCc === true, 44, 44);
      return b.body;
    }
    case 'br': {
      const code = BRANCH_CONDITIONS[insn.condition];
      if (code === undefined) return fail('NC6003', { format, reason: `unknown branch condition ${String(insn.condition)}` });
      const conditional = insn.condition !== 'br';
      if (!Number.isInteger(insn.defer) || insn.defer < 0 || insn.defer > (conditional ? 3 : 2)) {
        fail('NC6003', { format, reason: `defer ${insn.defer} is not allowed for ${insn.condition}` });
      }
      let css = BRANCH_CSS_NONE;
      if (branchHasState(insn.condition)) {
        requireRange(insn.state ?? -1, 0, 15, `${insn.condition} state`, format);
        css = insn.state!;
      } else if (insn.state !== undefined) {
        fail('NC6003', { format, reason: `${insn.condition} takes no state` });
      }
      b.put(code, 4, 0)
        .put(0b001, 7, 5)
        .put(conditional ? 1 : 0, 9, 8)
        .put(css, 17, 14)
        .put(insn.defer, 21, 20)
        .put(0b11011, 39, 35);
      encodeTarget(b, insn.target, format);
      return b.body;
    }
    case 'br_byte': {
      requireDefer(insn.defer, 3, format);
      requireRange(insn.byte, 0, 3, 'byte number', format);
      requireOperand(insn.reg, 'the register compared', format);
      if (insn.value.kind === 'none') fail('NC6003', { format, reason: 'the value compared is required' });
      requireDistinctClasses(insn.reg, insn.value, format);
      // binutils prints the A field first unless it holds an immediate: the register
      // sits in A, or (a bank-B register) in B with an immediate value in A.
      let aOp: NfpOperand;
      let bOp: NfpOperand;
      if (bankOf(insn.reg) !== 'B' && bankOf(insn.value) !== 'A') [aOp, bOp] = [insn.reg, insn.value];
      else if (insn.value.kind === 'imm') [aOp, bOp] = [insn.value, insn.reg];
      else return fail('NC6003', { format, reason: 'a bank-B register compared with a non-immediate has no text form' });
      const srcExt = usesExtendedLmPointer(insn.reg) || usesExtendedLmPointer(insn.value);
      const a = encodeRestricted(aOp, { bank: 'A', lmExtension: srcExt }, UNUSED_SOURCE, 255, format);
      const bb = encodeRestricted(bOp, { bank: 'B', lmExtension: srcExt }, UNUSED_SOURCE, 255, format);
      b.put(a.code, 7, 0)
        .put(insn.byte, 9, 8)
        .put(bb.code, 17, 10)
        .put(a.i8 || bb.i8, 18, 18)
        .put(insn.equal, 19, 19)
        .put(insn.defer, 21, 20)
        .put(0b11001, 39, 35)
        .put(srcExt, 42, 42);
      encodeTarget(b, insn.target, format);
      return b.body;
    }
    case 'br_bit': {
      if (!Number.isInteger(insn.bit) || insn.bit < 0 || insn.bit > 31) {
        fail('NC6003', { format, reason: `bit number ${insn.bit} is outside 0..31` });
      }
      requireDefer(insn.defer, 3, format);
      // The hardware rotates right by (bit + 1) and tests the MSB.
      const { aField, bField } = placeSources(insn.reg, imm(insn.bit + 1), format);
      const srcExt = usesExtendedLmPointer(insn.reg);
      b.put(encodeRestricted(aField, { bank: 'A', lmExtension: srcExt }, UNUSED_SOURCE, 127, format).code, 7, 0)
        .put(encodeRestricted(bField, { bank: 'B', lmExtension: srcExt }, UNUSED_SOURCE, 127, format).code, 17, 10)
        .put(insn.branchIfSet, 18, 18)
        .put(insn.defer, 21, 20)
        .put(0b11010, 39, 35)
        .put(srcExt, 42, 42);
      encodeTarget(b, insn.target, format);
      return b.body;
    }
    case 'rtn':
    case 'jump': {
      const label = insn.format === 'jump' ? insn.target : 0;
      if (insn.format === 'jump') requireRange(label, 1, 0x1ffff, 'jump label (0 is rtn)', format);
      requireDefer(insn.defer, 3, format);
      if (insn.reg.kind === 'none') fail('NC6003', { format, reason: 'the register is required' });
      // The register sits in the field of its bank; the other holds the label's low byte. binutils
      // takes the label from the A field when it holds an immediate, so an immediate "register" goes in B.
      const inB = bankOf(insn.reg) === 'B' || insn.reg.kind === 'imm';
      const srcExt = usesExtendedLmPointer(insn.reg);
      const low = imm(label & 0xff);
      b.put(encodeUnrestricted(inB ? low : insn.reg, { bank: 'A', lmExtension: srcExt }, UNUSED_SOURCE, format), 9, 0)
        .put(encodeUnrestricted(inB ? insn.reg : low, { bank: 'B', lmExtension: srcExt }, UNUSED_SOURCE, format), 19, 10)
        .put(insn.defer, 21, 20)
        .put(label >> 8, 30, 22)
        .put(0b111010000, 39, 31)
        .put(srcExt, 42, 42);
      return b.body;
    }
    case 'ctx_arb': {
      requireDefer(insn.defer, 3, format);
      const { mask, noLoad, bpt } = encodeCtxArbEvents(insn.events, format);
      if (insn.events === 'kill' && insn.any) fail('NC6003', { format, reason: 'ctx_arb[kill] takes no any' });
      b.put(mask, 15, 0)
        .put(insn.any, 16, 16)
        .put(bpt, 17, 17)
        .put(insn.resume !== undefined, 18, 18)
        .put(noLoad, 19, 19)
        .put(insn.defer, 21, 20)
        .put(0b11100, 39, 35);
      if (insn.resume !== undefined) encodeTarget(b, insn.resume, format);
      return b.body;
    }
    case 'local_csr': {
      if (insn.csr % 4 !== 0) fail('NC6003', { format, reason: `CSR address 0x${insn.csr.toString(16)} is not word aligned` });
      const value = insn.value;
      const srcExt = value !== undefined && usesExtendedLmPointer(value);
      let aCode = 0;
      let bCode = 0;
      if (value !== undefined) {
        if (value.kind === 'none') fail('NC6003', { format, reason: 'a CSR write needs a value' });
        const zero = imm(0);
        const inB = bankOf(value) === 'B';
        const aOp = value.kind === 'imm' ? value : inB ? zero : value;
        const bOp = value.kind === 'imm' ? value : inB ? value : zero;
        aCode = encodeUnrestricted(aOp, { bank: 'A', lmExtension: srcExt }, UNUSED_SOURCE, format);
        bCode = encodeUnrestricted(bOp, { bank: 'B', lmExtension: srcExt }, UNUSED_SOURCE, format);
      }
      b.put(aCode, 9, 0)
        .put(bCode, 19, 10)
        .put(value !== undefined, 21, 21)
        .put(insn.csr / 4, 32, 22)
        .put(0b111111, 39, 34)
        .put(srcExt, 42, 42);
      return b.body;
    }
    case 'mul_step': {
      const stepCode = insn.type === 'start' ? 0 : MUL_STEPS.indexOf(insn.step);
      const isLast = insn.type !== 'start' && (insn.step === 'last' || insn.step === 'last2');
      let aCode: number;
      let bCode: number;
      let swap = false;
      let srcExt = false;
      let dstExt = false;
      if (isLast) {
        // The A field is the destination of the product; B is unused.
        requireDestination(insn.left, format);
        if (insn.right.kind !== 'none') fail('NC6003', { format, reason: `${insn.step} takes no second operand` });
        dstExt = usesExtendedLmPointer(insn.left);
        aCode = encodeUnrestricted(insn.left, destContext(insn.left, dstExt), UNRESTRICTED_NO_DEST, format);
        bCode = UNUSED_SOURCE;
      } else {
        const placed = placeSources(insn.left, insn.right, format);
        swap = placed.swap;
        srcExt = usesExtendedLmPointer(insn.left) || usesExtendedLmPointer(insn.right);
        aCode = encodeUnrestricted(placed.aField, { bank: 'A', lmExtension: srcExt }, UNUSED_SOURCE, format);
        bCode = encodeUnrestricted(placed.bField, { bank: 'B', lmExtension: srcExt }, UNUSED_SOURCE, format);
      }
      b.put(aCode, 9, 0)
        .put(bCode, 19, 10)
        .put(stepCode, 22, 20)
        .put(isLast && destBankBit(insn.left), 23, 23)
        .put(swap, 30, 30)
        .put(MUL_TYPES.indexOf(insn.type), 32, 31)
        .put(0b11111, 39, 35)
        .resultFlags(insn, srcExt, dstExt);
      return b.body;
    }
    case 'cmd':
      return encodeCmd(insn, b);
  }
}

function encodeCtxArbEvents(events: CtxArbEvents, format: string): { mask: number; noLoad: boolean; bpt: boolean } {
  switch (events) {
    case 'bpt':
      return { mask: 0, noLoad: false, bpt: true };
    case 'voluntary':
      return { mask: 1, noLoad: false, bpt: false };
    case 'kill':
      return { mask: 0, noLoad: false, bpt: false };
    case '--':
      return { mask: 0, noLoad: true, bpt: false };
    default: {
      if (!Array.isArray(events) || events.length === 0) return fail('NC6003', { format, reason: 'ctx_arb needs events' });
      let mask = 0;
      let last = 0;
      for (const s of events as readonly number[]) {
        if (!Number.isInteger(s) || s <= last || s > 15) {
          fail('NC6003', { format, reason: `ctx_arb signals must be ascending in 1..15 (got ${events.join(', ')})` });
        }
        mask |= 1 << s;
        last = s;
      }
      return { mask, noLoad: false, bpt: false };
    }
  }
}

function encodeCam(insn: CamInsn, b: BodyBuilder): bigint {
  const format = 'cam';
  const op: CamOp = insn.op;
  const code = CAM_OPS[op];
  if (code === undefined) return fail('NC6003', { format, reason: `unknown CAM operation ${String(op)}` });
  requireDestination(insn.dest, format);
  if (op !== 'cam_lookup') requireNone(insn.dest, `${op} (destination)`, format);
  if (op === 'cam_clear' || op === 'cam_write_state') requireNone(insn.tag, `${op} (tag)`, format);
  else if (insn.tag.kind === 'none') fail('NC6003', { format, reason: `${op} needs a tag operand` });
  if (op === 'cam_clear' || op === 'cam_lookup') requireNone(insn.entry, `${op} (entry)`, format);
  else if (insn.entry.kind === 'none') fail('NC6003', { format, reason: `${op} needs an entry operand` });
  if (op === 'cam_write' || op === 'cam_write_state') requireRange(insn.state, 0, 15, 'CAM state', format);
  else if (insn.state !== 0) fail('NC6003', { format, reason: `${op} takes no state` });
  if (insn.lmAddress !== undefined && op !== 'cam_lookup') fail('NC6003', { format, reason: `${op} takes no lm_addr` });

  const srcExt = usesExtendedLmPointer(insn.tag) || usesExtendedLmPointer(insn.entry);
  const dstExt = usesExtendedLmPointer(insn.dest);
  let aCode: number;
  let bCode: number;
  let swap: boolean;
  let destCode: number;
  if (op === 'cam_lookup') {
    // The tag sits in the field of its bank; the other field holds the lm_addr selector.
    let lmCode = 0;
    if (insn.lmAddress !== undefined) {
      requireRange(insn.lmAddress.pointer, 0, 3, 'lm_addr pointer', format);
      requireRange(insn.lmAddress.index, 0, 3, 'lm_addr index', format);
      lmCode = (insn.lmAddress.pointer & 1 ? 2 : 1) | (insn.lmAddress.pointer >= 2 ? 0x10 : 0) | (insn.lmAddress.index << 2);
    }
    swap = bankOf(insn.tag) === 'B';
    const tag = encodeUnrestricted(insn.tag, { bank: swap ? 'B' : 'A', lmExtension: srcExt }, UNUSED_SOURCE, format);
    [aCode, bCode] = swap ? [lmCode, tag] : [tag, lmCode];
    destCode = encodeUnrestricted(insn.dest, destContext(insn.dest, dstExt), UNRESTRICTED_NO_DEST, format);
  } else {
    const placed = placeSources(insn.tag, insn.entry, format);
    swap = placed.swap;
    aCode = encodeUnrestricted(placed.aField, { bank: 'A', lmExtension: srcExt }, UNUSED_SOURCE, format);
    bCode = encodeUnrestricted(placed.bField, { bank: 'B', lmExtension: srcExt }, UNUSED_SOURCE, format);
    // cam_write/cam_write_state keep the state in the destination field; cam_clear has no destination.
    destCode = op === 'cam_clear' ? UNRESTRICTED_NO_DEST : insn.state;
  }
  return putAluClass(b, insn, { a: aCode, b: bCode, dest: destCode, swap, op: code, srcExt, dstExt });
}

function encodeCmd(insn: CmdInsn, b: BodyBuilder): bigint {
  const format = 'cmd';
  const mnemonic = CMD_MNEMONICS.find((c) => c.target === insn.target && c.name === insn.action);
  if (mnemonic === undefined) return fail('NC6003', { format, reason: `unknown command ${insn.target}[${insn.action}]` });
  const mode = insn.addressMode;
  requireRange(mode, 0, 7, 'address mode', format);
  requireRange(insn.ctxSwap, 0, 3, 'ctx_swap code', format);
  requireRange(insn.signal, 0, 15, 'signal', format);
  requireRange(insn.xfer, 0, 63, 'transfer register', format);
  requireRange(insn.length, 1, 8, 'length', format);
  let aCode = 0;
  let bCode = 0;
  let token = mnemonic.token;
  let xfer = insn.xfer;
  let lengthField = insn.length - 1;
  let signal = insn.signal;
  if (mode <= 4) {
    if (insn.address !== undefined || insn.data !== undefined) fail('NC6003', { format, reason: `address mode ${mode} takes operands, not immediates` });
    aCode = encodeRestricted(insn.a, { bank: 'A', lmExtension: false }, UNUSED_SOURCE, 127, format).code;
    bCode = encodeRestricted(insn.b, { bank: 'B', lmExtension: false }, UNUSED_SOURCE, 127, format).code;
    // Modes 1/3 print the B field first; the text tells them from 0/2 only by a GPR's bank.
    if ((mode === 1 || mode === 3) && bankOf(insn.b) !== 'B' && bankOf(insn.a) !== 'A') {
      fail('NC6003', { format, reason: `address mode ${mode} without a GPR reads as mode ${mode - 1} in the text form` });
    }
  } else {
    requireNone(insn.a, `address mode ${mode} (A operand)`, format);
    requireNone(insn.b, `address mode ${mode} (B operand)`, format);
    requireRange(insn.address ?? -1, 0, 0xffff, 'immediate address', format);
    aCode = insn.address! & 0xff;
    bCode = insn.address! >> 8;
    if (mode === 6) {
      // Signal, length, xfer and token fields all hold data; the command is looked up with token 0.
      requireRange(insn.data ?? -1, 0, 0x3fff, 'immediate data', format);
      if (insn.xfer !== 0 || insn.length !== 1 || insn.signal !== 0) {
        fail('NC6003', { format, reason: 'address mode 6 carries xfer, length and signal in its data' });
      }
      if (mnemonic.token !== 0) fail('NC6003', { format, reason: `${insn.action} (token ${mnemonic.token}) has no mode 6 form` });
      const data = insn.data!;
      token = data & 3;
      xfer = (data >> 2) & 0x1f;
      lengthField = (data >> 7) & 7;
      signal = data >> 10;
    } else if (insn.data !== undefined) {
      fail('NC6003', { format, reason: `address mode ${mode} carries no data` });
    }
  }
  if ((lengthField & mnemonic.lengthMask) !== mnemonic.lengthFixed) {
    fail('NC6003', { format, reason: `${insn.action} does not take length field ${lengthField}` });
  }
  const { base, actionBits } = CMD_TARGET_BASE[insn.target];
  requireRange(mnemonic.action, 0, 2 ** actionBits - 1, 'action', format);
  b.put(aCode, 7, 0)
    .put(insn.ctxSwap, 9, 8)
    .put(bCode, 17, 10)
    .put(token, 19, 18)
    .put(xfer & 0x1f, 24, 20)
    .put(lengthField, 27, 25)
    .put(signal, 31, 28)
    .put(base | mnemonic.action, 38, 32)
    .put(xfer >> 5, 40, 40)
    .put(insn.indirectRef, 41, 41)
    .put(mode, 44, 42);
  return b.body;
}

/** Decode a word (loaded or raw form; bits above 44 are ignored) into a record. */
export function decodeInsn(word: bigint): NfpInsn {
  const body = word & NFP_BODY_MASK;
  const wordText = `0x${word.toString(16).padStart(16, '0')}`;
  let insn: NfpInsn;
  try {
    insn = decodeBody(body);
  } catch (e) {
    if (e instanceof WordDecodeProblem) fail('NC6001', { word: wordText, reason: e.message });
    throw e;
  }
  let reencoded: bigint;
  try {
    reencoded = encodeInsn(insn);
  } catch (e) {
    if (e instanceof NicoffError) fail('NC6001', { word: wordText, reason: `not encodable: ${e.diagnostic.message}` });
    throw e;
  }
  if (reencoded !== body) {
    const diff = reencoded ^ body;
    const bits: number[] = [];
    for (let i = 44; i >= 0; i--) if ((diff >> BigInt(i)) & 1n) bits.push(i);
    fail('NC6001', {
      word: wordText,
      reason: `non-canonical ${insn.format} encoding: bit(s) ${bits.join(', ')} differ from the canonical body 0x${reencoded.toString(16)}`,
    });
  }
  return insn;
}

function unsupported(what: string): never {
  throw new WordDecodeProblem(what);
}

function decodeBody(body: bigint): NfpInsn {
  const wrboth = flag(body, 41);
  const srcExt = flag(body, 42);
  const dstExt = flag(body, 43);
  const srcA: FieldContext = { bank: 'A', lmExtension: srcExt };
  const srcB: FieldContext = { bank: 'B', lmExtension: srcExt };

  if (!flag(body, 39)) return decodeCmd(body);

  if (field(body, 39, 37) === 0b101) {
    const opCode = field(body, 35, 31);
    if (opCode === ALU_OP_CRC) return decodeCrc(body);
    const camOp = (Object.keys(CAM_OPS) as CamOp[]).find((k) => CAM_OPS[k] === opCode);
    if (camOp !== undefined) return decodeCam(body, camOp);
    const op = ([...Object.keys(ALU_OPS), ...Object.keys(ALU_UNARY_OPS)] as AluOp[]).find((k) => aluOpCode(k) === opCode);
    if (op === undefined) unsupported(`ALU operation 0x${opCode.toString(16)} is not defined`);
    const placed = unplaceSources(
      decodeUnrestricted(field(body, 9, 0), srcA),
      decodeUnrestricted(field(body, 19, 10), srcB),
      flag(body, 30),
    );
    const dest = decodeUnrestrictedDest(field(body, 29, 20), flag(body, 36), dstExt);
    const left = aluIgnoresLeft(op) ? unusedSource(placed.left, `the A operand of ${op}`) : placed.left;
    return { format: 'alu', op, dest, left, right: placed.right, wrboth, ...ccFlags(body) };
  }

  if (field(body, 39, 37) === 0b100) {
    const i8 = flag(body, 18);
    const placed = unplaceSources(
      decodeRestricted(field(body, 7, 0), srcA, i8),
      decodeRestricted(field(body, 17, 10), srcB, i8),
      flag(body, 19),
    );
    const op = SHIFT_ALU_OPS[field(body, 35, 33)]!;
    const shift = decodeShift(field(body, 9, 8), field(body, 32, 28));
    const dest = decodeRestrictedDest(field(body, 27, 20), flag(body, 36), dstExt);
    let left = placed.left;
    let right = placed.right;
    if (op === 'byte_align') {
      // _le reads the A side, _be the B side.
      if (shift.kind === 'left') right = unusedSource(right, 'the B operand of byte_align_le');
      else left = unusedSource(left, 'the A operand of byte_align_be');
    } else if (op === 'asr' || ((op === 'B' || op === '~B') && shift.kind !== 'double-right')) {
      left = unusedSource(left, `the A operand of ${op}`);
    }
    return { format: 'alu_shf', op, dest, left, right, shift, wrboth, ...ccFlags(body) };
  }

  if (field(body, 39, 36) === 0xf && !flag(body, 35) && !flag(body, 32) && !flag(body, 40)) {
    return decodeImmed(body, wrboth, dstExt);
  }

  if (field(body, 39, 35) === 0b11000 && field(body, 23, 21) === 0 && !flag(body, 33) && !flag(body, 40)) {
    const i8 = flag(body, 18);
    const swap = flag(body, 19);
    // The target (also the destination) is read with the destination LM extension.
    const aCtx: FieldContext = { bank: 'A', lmExtension: swap ? srcExt : dstExt };
    const bCtx: FieldContext = { bank: 'B', lmExtension: swap ? dstExt : srcExt };
    const a = decodeRestricted(field(body, 7, 0), aCtx, i8);
    const bOp = decodeRestricted(field(body, 17, 10), bCtx, i8);
    const placed = unplaceSources(a, bOp, swap);
    return {
      format: 'ld_field',
      target: placed.left,
      source: placed.right,
      byteMask: field(body, 27, 24),
      shift: decodeShift(field(body, 9, 8), field(body, 32, 28)),
      clearUnmasked: flag(body, 20),
      wrboth,
      ...(flag(body, 34) ? { loadCc: true } : {}),
      ...ccFlags(body, false),
    };
  }

  if (field(body, 39, 35) === 0b11100) return decodeCtxArb(body);

  if (field(body, 39, 34) === 0x3f && !flag(body, 33) && !flag(body, 40) && !flag(body, 20)) {
    const csr = field(body, 32, 22) * 4;
    if (!flag(body, 21)) return { format: 'local_csr', csr };
    const a = decodeUnrestricted(field(body, 9, 0), srcA);
    const bOp = decodeUnrestricted(field(body, 19, 10), srcB);
    // The value sits in one field with immediate 0 in the other, or in both when it is an immediate.
    const value = a.kind === 'imm' && a.value === 0 && bOp.kind !== 'imm' ? bOp : a;
    return { format: 'local_csr', csr, value };
  }

  if (
    field(body, 39, 35) === 0b11011 &&
    field(body, 7, 5) === 1 &&
    field(body, 13, 10) === 0 &&
    field(body, 19, 18) === 0
  ) {
    const code = field(body, 4, 0);
    const condition = (Object.keys(BRANCH_CONDITIONS) as BranchCondition[]).find((k) => BRANCH_CONDITIONS[k] === code);
    if (condition === undefined) unsupported(`branch condition ${code} is not defined`);
    const insn: NfpInsn = { format: 'br', condition, target: decodeTarget(body), defer: field(body, 21, 20) };
    if (branchHasState(condition)) insn.state = field(body, 17, 14);
    return insn;
  }

  if (field(body, 39, 35) === 0b11001) {
    const i8 = flag(body, 18);
    const a = decodeRestricted(field(body, 7, 0), srcA, i8);
    const bOp = decodeRestricted(field(body, 17, 10), srcB, i8);
    const [reg, value] = a.kind === 'imm' ? [bOp, a] : [a, bOp];
    return {
      format: 'br_byte', equal: flag(body, 19), reg, byte: field(body, 9, 8), value,
      target: decodeTarget(body), defer: field(body, 21, 20),
    };
  }

  if (field(body, 39, 35) === 0b11010 && field(body, 9, 8) === 0 && !flag(body, 19)) {
    const a = decodeRestricted(field(body, 7, 0), srcA, false);
    const bOp = decodeRestricted(field(body, 17, 10), srcB, false);
    const [reg, bitPlusOne] = bOp.kind === 'imm' ? [a, bOp] : [bOp, a];
    if (bitPlusOne.kind !== 'imm' || bitPlusOne.value === 0) unsupported('br_bit needs a non-zero immediate bit operand');
    return {
      format: 'br_bit',
      branchIfSet: flag(body, 18),
      reg,
      bit: bitPlusOne.value - 1,
      target: decodeTarget(body),
      defer: field(body, 21, 20),
    };
  }

  if (field(body, 39, 31) === 0b111010000) {
    const a = decodeUnrestricted(field(body, 9, 0), srcA);
    const bOp = decodeUnrestricted(field(body, 19, 10), srcB);
    const [reg, low] = a.kind === 'imm' ? [bOp, a] : [a, bOp];
    if (low.kind !== 'imm') unsupported('BR_ALU has no immediate label byte in either field');
    const label = (field(body, 30, 22) << 8) | low.value;
    const defer = field(body, 21, 20);
    return label === 0 ? { format: 'rtn', reg, defer } : { format: 'jump', reg, target: label, defer };
  }

  if (field(body, 39, 35) === 0b11111 && field(body, 34, 33) === 0 && field(body, 29, 24) === 0) {
    const type = MUL_TYPES[field(body, 32, 31)]!;
    const step = MUL_STEPS[field(body, 22, 20)];
    if (step === undefined) unsupported(`mul_step step code ${field(body, 22, 20)} is not defined`);
    const cc = ccFlags(body);
    if (type !== 'start' && (step === 'last' || step === 'last2')) {
      const dest = decodeUnrestrictedDest(field(body, 9, 0), flag(body, 23), dstExt);
      return { format: 'mul_step', type, step, left: dest, right: NO_OPERAND, wrboth, ...cc };
    }
    const placed = unplaceSources(
      decodeUnrestricted(field(body, 9, 0), srcA),
      decodeUnrestricted(field(body, 19, 10), srcB),
      flag(body, 30),
    );
    return { format: 'mul_step', type, step, left: placed.left, right: placed.right, wrboth, ...cc };
  }

  return unsupported('no instruction format matches');
}

function decodeUnrestrictedDest(code: number, bankB: boolean, lmExtension: boolean): NfpOperand {
  if (code === UNRESTRICTED_NO_DEST) return NO_OPERAND;
  const op = decodeUnrestricted(code, { bank: bankB ? 'B' : 'A', lmExtension });
  if (op.kind === 'imm') unsupported(`destination code 0x${code.toString(16)} is an immediate (only 0x300 means no destination)`);
  return op;
}

function decodeRestrictedDest(code: number, bankB: boolean, lmExtension: boolean): NfpOperand {
  if (code === RESTRICTED_NO_DEST) return NO_OPERAND;
  const op = decodeRestricted(code, { bank: bankB ? 'B' : 'A', lmExtension }, false);
  if (op.kind === 'imm') unsupported(`destination code 0x${code.toString(16)} is an immediate (only 0x20 means no destination)`);
  return op;
}

/** The A-side and B-side fields after the swap bit, with the banks binutils prints them in. */
function aluSides(body: bigint): { aSide: number; bSide: number; aBank: GprBank; bBank: GprBank } {
  const swap = flag(body, 30);
  const aField = field(body, 9, 0);
  const bField = field(body, 19, 10);
  return swap ? { aSide: bField, bSide: aField, aBank: 'B', bBank: 'A' } : { aSide: aField, bSide: bField, aBank: 'A', bBank: 'B' };
}

function decodeCam(body: bigint, op: CamOp): NfpInsn {
  const srcExt = flag(body, 42);
  const { aSide, bSide, aBank, bBank } = aluSides(body);
  const base = { format: 'cam' as const, op, wrboth: flag(body, 41), ...ccFlags(body) };
  const destCode = field(body, 29, 20);
  const tagOf = (): NfpOperand => decodeUnrestricted(aSide, { bank: aBank, lmExtension: srcExt });
  const entryOf = (): NfpOperand => decodeUnrestricted(bSide, { bank: bBank, lmExtension: srcExt });
  switch (op) {
    case 'cam_clear':
      return { ...base, dest: NO_OPERAND, tag: NO_OPERAND, entry: NO_OPERAND, state: 0 };
    case 'cam_write':
      return { ...base, dest: NO_OPERAND, tag: tagOf(), entry: entryOf(), state: destCode & 0xf };
    case 'cam_write_state':
      return { ...base, dest: NO_OPERAND, tag: NO_OPERAND, entry: entryOf(), state: destCode & 0xf };
    case 'cam_lookup': {
      const dest = decodeUnrestrictedDest(destCode, flag(body, 36), flag(body, 43));
      const selector = bSide & 3;
      // Selector 3 prints as lm_addr1/3, the same as selector 2.
      if (selector === 3) unsupported('cam_lookup lm_addr selector 3 prints the same as selector 2');
      const insn: CamInsn = { ...base, dest, tag: tagOf(), entry: NO_OPERAND, state: 0 };
      if (selector !== 0) insn.lmAddress = { pointer: (selector - 1) + (bSide & 0x10 ? 2 : 0), index: (bSide >> 2) & 3 };
      return insn;
    }
  }
}

function decodeCrc(body: bigint): NfpInsn {
  const { aSide: control, bSide, bBank } = aluSides(body);
  const opCode = (control >> 5) & 7;
  const op = (Object.keys(CRC_OPS) as CrcOp[]).find((k) => CRC_OPS[k] === opCode);
  if (op === undefined) unsupported(`CRC operation ${opCode} is not defined`);
  const bytes = CRC_BYTES[control & 7];
  if (bytes === undefined) unsupported('CRC byte selection 7 is not defined');
  return {
    format: 'crc',
    endian: control & 0x08 ? 'le' : 'be',
    op,
    dest: decodeUnrestrictedDest(field(body, 29, 20), flag(body, 36), flag(body, 43)),
    source: decodeUnrestricted(bSide, { bank: bBank, lmExtension: flag(body, 42) }),
    bytes,
    bitSwap: (control & 0x10) !== 0,
    wrboth: flag(body, 41),
    ...ccFlags(body),
  };
}

function decodeCtxArb(body: bigint): NfpInsn {
  const mask = field(body, 15, 0);
  let events: CtxArbEvents;
  if (flag(body, 17)) events = 'bpt';
  else if (mask === 1) events = 'voluntary';
  else if (mask === 0) events = flag(body, 19) ? '--' : 'kill';
  else events = Array.from({ length: 15 }, (_, i) => i + 1).filter((s) => (mask >> s) & 1);
  const insn: NfpInsn = { format: 'ctx_arb', events, any: flag(body, 16), defer: field(body, 21, 20) };
  if (flag(body, 18)) insn.resume = decodeTarget(body);
  return insn;
}

function decodeImmed(body: bigint, wrboth: boolean, dstExt: boolean): NfpInsn {
  const aCode = field(body, 9, 0);
  const bCode = field(body, 19, 10);
  const widthCode = field(body, 30, 29);
  const width = (['word', 'byte', 'half'] as const)[widthCode];
  if (width === undefined) unsupported(`immed width ${widthCode} (byte and word bits both set) prints as a byte immed`);
  // The immediate low byte is whichever field holds an immediate; the other is the destination.
  const bIsImmediate = bCode >= 0x300;
  const lowByte = (bIsImmediate ? bCode : aCode) & 0xff;
  const imm16 = (field(body, 27, 20) << 8) | lowByte;
  // binutils prints both fields immediate with value 0 as nop, whatever the other bits.
  if (bIsImmediate && aCode >= 0x300 && imm16 === 0) return { format: 'nop' };
  const dest = bIsImmediate
    ? decodeUnrestrictedDest(aCode, false, dstExt)
    : decodeUnrestricted(bCode, { bank: 'B', lmExtension: dstExt });
  return {
    format: 'immed',
    dest,
    imm16,
    width,
    byteShift: field(body, 34, 33),
    invert: flag(body, 31),
    wrboth,
    ...(flag(body, 44) ? { predicateCc: true } : {}),
  };
}

function decodeCmd(body: bigint): NfpInsn {
  const { target, action } = decodeCmdTarget(field(body, 38, 32));
  const mode = field(body, 44, 42);
  const lengthField = field(body, 27, 25);
  // Mode 6 holds data in the token, xfer, length and signal fields; the command is named with token 0.
  const token = mode === 6 ? 0 : field(body, 19, 18);
  const mnemonic = findCmdMnemonic(target, action, token, lengthField);
  if (mnemonic === undefined) unsupported(`${target} command action ${action} token ${token} length ${lengthField + 1} has no mnemonic`);
  const xfer = field(body, 24, 20) | (field(body, 40, 40) << 5);
  const common = {
    format: 'cmd' as const,
    target,
    action: mnemonic.name,
    addressMode: mode,
    ctxSwap: field(body, 9, 8),
    indirectRef: flag(body, 41),
  };
  if (mode <= 4) {
    return {
      ...common,
      xfer,
      a: decodeRestricted(field(body, 7, 0), { bank: 'A', lmExtension: false }, false),
      b: decodeRestricted(field(body, 17, 10), { bank: 'B', lmExtension: false }, false),
      length: lengthField + 1,
      signal: field(body, 31, 28),
    };
  }
  const address = (field(body, 17, 10) << 8) | field(body, 7, 0);
  if (mode === 6) {
    const data = (field(body, 31, 28) << 10) | (lengthField << 7) | (field(body, 24, 20) << 2) | field(body, 19, 18);
    return { ...common, xfer: 0, a: NO_OPERAND, b: NO_OPERAND, address, data, length: 1, signal: 0 };
  }
  return { ...common, xfer, a: NO_OPERAND, b: NO_OPERAND, address, length: lengthField + 1, signal: field(body, 31, 28) };
}
