/**
 * Encoder/decoder between 45-bit NFP-6xxx instruction bodies and NfpInsn records.
 * Field layouts: docs nfp-microcode.md B.2-B.8. Source placement (swap bit, which
 * field takes which operand) follows the kernel's swreg rule (B.3), so a record has
 * one encoding; decode rejects words that encode() would not reproduce rather than
 * returning a record that silently re-encodes differently.
 */
import { fail, NicoffError } from '../../diagnostics/diagnostic.js';
import { NFP_BODY_MASK } from './ecc.js';
import {
  ALU_OPS,
  type AluOp,
  BRANCH_CONDITIONS,
  type BranchCondition,
  CMD_ACTIONS,
  type CmdAction,
  MUL_STEPS,
  MUL_TYPES,
  type NfpInsn,
  type NfpShift,
  SHIFT_ALU_OPS,
} from './instruction.js';
import {
  decodeRestricted,
  decodeUnrestricted,
  encodeRestricted,
  encodeUnrestricted,
  type FieldContext,
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
}

interface SourcePlacement {
  aField: NfpOperand;
  bField: NfpOperand;
  swap: boolean;
}

/** Kernel rule: a bank-B left or bank-A right operand swaps the two fields. */
function placeSources(left: NfpOperand, right: NfpOperand, format: string): SourcePlacement {
  if (left.kind !== 'none' && left.kind === right.kind && (left.kind !== 'gpr' || right.kind !== 'gpr' || left.bank === right.bank)) {
    fail('NC6003', { format, reason: `both sources are ${left.kind} operands of the same class` });
  }
  const swap = (left.kind === 'gpr' && left.bank === 'B') || (right.kind === 'gpr' && right.bank === 'A');
  return swap ? { aField: right, bField: left, swap } : { aField: left, bField: right, swap };
}

function unplaceSources(aField: NfpOperand, bField: NfpOperand, swap: boolean): { left: NfpOperand; right: NfpOperand } {
  return swap ? { left: bField, right: aField } : { left: aField, right: bField };
}

/** A source field holding code 0 in a position the operation ignores is the kernel's "none". */
function unusedIfZeroGpr(op: NfpOperand): NfpOperand {
  return op.kind === 'gpr' && op.index === 0 ? NO_OPERAND : op;
}

function destBankBit(dest: NfpOperand): boolean {
  return dest.kind === 'gpr' && dest.bank === 'B';
}

function destContext(dest: NfpOperand, lmExtension: boolean): FieldContext {
  return { bank: dest.kind === 'gpr' ? dest.bank : 'A', lmExtension };
}

function requireDestination(dest: NfpOperand, format: string): void {
  if (dest.kind === 'imm') fail('NC6003', { format, reason: 'an immediate cannot be a destination' });
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
  if (!Number.isInteger(target) || target < 0 || target > 0x3fff) {
    fail('NC6003', { format, reason: `branch target ${target} is outside 0..0x3fff` });
  }
  b.put(target & 0x1fff, 34, 22).put(target >> 13, 40, 40);
}

function decodeTarget(body: bigint): number {
  return field(body, 34, 22) | (field(body, 40, 40) << 13);
}

/** Encode a record as a 45-bit instruction body (no ECC). */
export function encodeInsn(insn: NfpInsn): bigint {
  const format = insn.format;
  const b = new BodyBuilder(format);
  switch (insn.format) {
    case 'alu': {
      requireDestination(insn.dest, format);
      const { aField, bField, swap } = placeSources(insn.left, insn.right, format);
      const srcExt = usesExtendedLmPointer(insn.left) || usesExtendedLmPointer(insn.right);
      const dstExt = usesExtendedLmPointer(insn.dest);
      b.put(encodeUnrestricted(aField, { bank: 'A', lmExtension: srcExt }, UNUSED_SOURCE, format), 9, 0)
        .put(encodeUnrestricted(bField, { bank: 'B', lmExtension: srcExt }, UNUSED_SOURCE, format), 19, 10)
        .put(encodeUnrestricted(insn.dest, destContext(insn.dest, dstExt), UNRESTRICTED_NO_DEST, format), 29, 20)
        .put(swap, 30, 30)
        .put(ALU_OPS[insn.op], 35, 31)
        .put(destBankBit(insn.dest), 36, 36)
        .put(0b101, 39, 37)
        .put(insn.wrboth, 41, 41)
        .put(srcExt, 42, 42)
        .put(dstExt, 43, 43);
      return b.body;
    }
    case 'alu_shf': {
      requireDestination(insn.dest, format);
      if (insn.shift.kind === 'double-right' && insn.op !== 'B') {
        fail('NC6003', { format, reason: `dbl_shf takes operation B, not ${insn.op}` });
      }
      if (insn.op === 'asr' && insn.left.kind !== 'none') fail('NC6003', { format, reason: 'asr has no left operand' });
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
        .put(insn.wrboth, 41, 41)
        .put(srcExt, 42, 42)
        .put(dstExt, 43, 43);
      return b.body;
    }
    case 'nop':
      return encodeInsn({ format: 'immed', dest: NO_OPERAND, imm16: 0, width: 'word', byteShift: 0, invert: false, wrboth: false });
    case 'immed': {
      requireDestination(insn.dest, format);
      if (!Number.isInteger(insn.imm16) || insn.imm16 < 0 || insn.imm16 > 0xffff) {
        fail('NC6003', { format, reason: `immediate ${insn.imm16} is not 16-bit` });
      }
      const dstExt = usesExtendedLmPointer(insn.dest);
      const low = imm(insn.imm16 & 0xff);
      // Destination goes in the A field unless it is a bank-B GPR.
      const destInB = insn.dest.kind === 'gpr' && insn.dest.bank === 'B';
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
        .put(dstExt, 43, 43);
      return b.body;
    }
    case 'ld_field': {
      requireDestination(insn.target, format);
      const { aField, bField, swap } = placeSources(insn.target, insn.source, format);
      // The kernel treats both fields as sources for the LM-extension bit (dst extension stays 0).
      const srcExt = usesExtendedLmPointer(insn.target) || usesExtendedLmPointer(insn.source);
      const a = encodeRestricted(aField, { bank: 'A', lmExtension: srcExt }, UNUSED_SOURCE, 255, format);
      const bb = encodeRestricted(bField, { bank: 'B', lmExtension: srcExt }, UNUSED_SOURCE, 255, format);
      const { shiftClass, amount } = encodeShift(insn.shift, format);
      b.put(a.code, 7, 0)
        .put(shiftClass, 9, 8)
        .put(bb.code, 17, 10)
        .put(a.i8 || bb.i8, 18, 18)
        .put(swap, 19, 19)
        .put(insn.clearUnmasked, 20, 20)
        .put(insn.byteMask, 27, 24)
        .put(amount, 32, 28)
        .put(0b1100, 39, 36)
        .put(insn.wrboth, 41, 41)
        .put(srcExt, 42, 42);
      return b.body;
    }
    case 'br': {
      const conditional = insn.condition !== 'br';
      if (!Number.isInteger(insn.defer) || insn.defer < 0 || insn.defer > (conditional ? 3 : 2)) {
        fail('NC6003', { format, reason: `defer ${insn.defer} is not allowed for ${insn.condition}` });
      }
      b.put(BRANCH_CONDITIONS[insn.condition], 4, 0)
        .put(0b001, 7, 5)
        .put(conditional ? 1 : 0, 9, 8)
        .put(BRANCH_CSS_NONE, 17, 14)
        .put(insn.defer, 21, 20)
        .put(0b11011, 39, 35);
      encodeTarget(b, insn.target, format);
      return b.body;
    }
    case 'br_bit': {
      if (!Number.isInteger(insn.bit) || insn.bit < 0 || insn.bit > 31) {
        fail('NC6003', { format, reason: `bit number ${insn.bit} is outside 0..31` });
      }
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
    case 'rtn': {
      const inB = insn.reg.kind === 'gpr' && insn.reg.bank === 'B';
      const srcExt = usesExtendedLmPointer(insn.reg);
      const zero = imm(0);
      b.put(encodeUnrestricted(inB ? zero : insn.reg, { bank: 'A', lmExtension: srcExt }, UNUSED_SOURCE, format), 9, 0)
        .put(encodeUnrestricted(inB ? insn.reg : zero, { bank: 'B', lmExtension: srcExt }, UNUSED_SOURCE, format), 19, 10)
        .put(insn.defer, 21, 20)
        .put(0b111010000, 39, 31)
        .put(srcExt, 42, 42);
      return b.body;
    }
    case 'local_csr': {
      if (insn.csr % 4 !== 0) fail('NC6003', { format, reason: `CSR address 0x${insn.csr.toString(16)} is not word aligned` });
      const value = insn.value;
      const srcExt = value !== undefined && usesExtendedLmPointer(value);
      let aCode = 0;
      let bCode = 0;
      if (value !== undefined) {
        const zero = imm(0);
        const inB = value.kind === 'gpr' && value.bank === 'B';
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
        .put(insn.wrboth, 41, 41)
        .put(srcExt, 42, 42)
        .put(dstExt, 43, 43);
      return b.body;
    }
    case 'cmd': {
      const { code, token } = CMD_ACTIONS[insn.action];
      const lengthField = insn.length - 1;
      if (insn.action === 'add' || insn.action === 'add64') {
        const wide = (lengthField & 4) !== 0;
        if (wide !== (insn.action === 'add64')) {
          fail('NC6003', { format, reason: `${insn.action} with length ${insn.length} (length bit 2 selects add64)` });
        }
      }
      if (insn.ctxSwap === 3 && insn.signal !== 0) {
        fail('NC6003', { format, reason: 'a signal without ctx_swap cannot be written in the text form' });
      }
      const noExt: FieldContext = { bank: 'A', lmExtension: false };
      b.put(encodeRestricted(insn.a, noExt, UNUSED_SOURCE, 127, format).code, 7, 0)
        .put(insn.ctxSwap, 9, 8)
        .put(encodeRestricted(insn.b, { bank: 'B', lmExtension: false }, UNUSED_SOURCE, 127, format).code, 17, 10)
        .put(token, 19, 18)
        .put(insn.xfer & 0x1f, 24, 20)
        .put(lengthField, 27, 25)
        .put(insn.signal, 31, 28)
        .put(code, 38, 32)
        .put(insn.xfer >> 5, 40, 40)
        .put(insn.indirectRef, 41, 41)
        .put(insn.addressMode, 44, 42);
      return b.body;
    }
  }
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
    fail('NC6001', {
      word: wordText,
      reason: `non-canonical ${insn.format} encoding (canonical body 0x${reencoded.toString(16)})`,
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
    const op = (Object.keys(ALU_OPS) as AluOp[]).find((k) => ALU_OPS[k] === opCode);
    if (op === undefined) unsupported(`ALU operation 0x${opCode.toString(16)} is not supported`);
    const placed = unplaceSources(
      decodeUnrestricted(field(body, 9, 0), srcA),
      decodeUnrestricted(field(body, 19, 10), srcB),
      flag(body, 30),
    );
    const unary = op === 'B' || op === '~B';
    const dest = decodeUnrestrictedDest(field(body, 29, 20), flag(body, 36), dstExt);
    return { format: 'alu', op, dest, left: unary ? unusedIfZeroGpr(placed.left) : placed.left, right: placed.right, wrboth };
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
    const leftUnused = op === 'B' || op === '~B' || op === 'asr';
    return {
      format: 'alu_shf',
      op,
      dest: decodeRestrictedDest(field(body, 27, 20), flag(body, 36), dstExt),
      left: leftUnused && shift.kind !== 'double-right' ? unusedIfZeroGpr(placed.left) : placed.left,
      right: placed.right,
      shift,
      wrboth,
    };
  }

  if (field(body, 39, 36) === 0xf && !flag(body, 35) && !flag(body, 32) && !flag(body, 40)) {
    return decodeImmed(body, wrboth, dstExt);
  }

  if (field(body, 39, 35) === 0b11000 && field(body, 23, 21) === 0 && !flag(body, 33) && !flag(body, 40)) {
    const i8 = flag(body, 18);
    const placed = unplaceSources(
      decodeRestricted(field(body, 7, 0), srcA, i8),
      decodeRestricted(field(body, 17, 10), srcB, i8),
      flag(body, 19),
    );
    return {
      format: 'ld_field',
      target: placed.left,
      source: placed.right,
      byteMask: field(body, 27, 24),
      shift: decodeShift(field(body, 9, 8), field(body, 32, 28)),
      clearUnmasked: flag(body, 20),
      wrboth,
    };
  }

  if (field(body, 39, 35) === 0b11100) unsupported('ctx_arb is not supported');

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
    if (condition === undefined) unsupported(`branch condition ${code} is not supported`);
    return { format: 'br', condition, target: decodeTarget(body), defer: field(body, 21, 20) };
  }

  if (field(body, 39, 35) === 0b11001) unsupported('br=byte/br!=byte is not supported');

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
    if (field(body, 30, 22) !== 0) unsupported('jump[] with a label is not supported (only rtn)');
    const a = decodeUnrestricted(field(body, 9, 0), srcA);
    const reg = a.kind === 'imm' ? decodeUnrestricted(field(body, 19, 10), srcB) : a;
    return { format: 'rtn', reg, defer: field(body, 21, 20) };
  }

  if (field(body, 39, 35) === 0b11111 && field(body, 34, 33) === 0 && field(body, 29, 24) === 0) {
    const type = MUL_TYPES[field(body, 32, 31)]!;
    const step = MUL_STEPS[field(body, 22, 20)];
    if (step === undefined) unsupported(`mul_step step code ${field(body, 22, 20)} is not supported`);
    if (type !== 'start' && (step === 'last' || step === 'last2')) {
      const dest = decodeUnrestrictedDest(field(body, 9, 0), flag(body, 23), dstExt);
      return { format: 'mul_step', type, step, left: dest, right: NO_OPERAND, wrboth };
    }
    const placed = unplaceSources(
      decodeUnrestricted(field(body, 9, 0), srcA),
      decodeUnrestricted(field(body, 19, 10), srcB),
      flag(body, 30),
    );
    return { format: 'mul_step', type, step, left: placed.left, right: placed.right, wrboth };
  }

  return unsupported('no instruction format matches');
}

function decodeUnrestrictedDest(code: number, bankB: boolean, lmExtension: boolean): NfpOperand {
  if (code === UNRESTRICTED_NO_DEST) return NO_OPERAND;
  const op = decodeUnrestricted(code, { bank: bankB ? 'B' : 'A', lmExtension });
  if (op.kind === 'imm') unsupported(`destination code 0x${code.toString(16)} is an immediate`);
  return op;
}

function decodeRestrictedDest(code: number, bankB: boolean, lmExtension: boolean): NfpOperand {
  if (code === RESTRICTED_NO_DEST) return NO_OPERAND;
  const op = decodeRestricted(code, { bank: bankB ? 'B' : 'A', lmExtension }, false);
  if (op.kind === 'imm') unsupported(`destination code 0x${code.toString(16)} is an immediate`);
  return op;
}

function decodeImmed(body: bigint, wrboth: boolean, dstExt: boolean): NfpInsn {
  const aCode = field(body, 9, 0);
  const bCode = field(body, 19, 10);
  const widthCode = field(body, 30, 29);
  const width = (['word', 'byte', 'half'] as const)[widthCode];
  if (width === undefined) unsupported(`immed width ${widthCode} is not supported`);
  // The immediate low byte is whichever field holds an immediate; the other is the destination.
  const bIsImmediate = bCode >= 0x300;
  const lowByte = (bIsImmediate ? bCode : aCode) & 0xff;
  const dest = bIsImmediate
    ? decodeUnrestrictedDest(aCode, false, dstExt)
    : decodeUnrestricted(bCode, { bank: 'B', lmExtension: dstExt });
  const insn: NfpInsn = {
    format: 'immed',
    dest,
    imm16: (field(body, 27, 20) << 8) | lowByte,
    width,
    byteShift: field(body, 34, 33),
    invert: flag(body, 31),
    wrboth,
  };
  if (dest.kind === 'none' && insn.imm16 === 0 && width === 'word' && insn.byteShift === 0 && !insn.invert && !wrboth) {
    return { format: 'nop' };
  }
  return insn;
}

function decodeCmd(body: bigint): NfpInsn {
  const code = field(body, 38, 32);
  const token = field(body, 19, 18);
  const lengthField = field(body, 27, 25);
  let action = (Object.keys(CMD_ACTIONS) as CmdAction[]).find(
    (k) => k !== 'add64' && CMD_ACTIONS[k].code === code && CMD_ACTIONS[k].token === token,
  );
  if (action === undefined) unsupported(`command 0x${code.toString(16)} token ${token} is not supported`);
  if (action === 'add' && (lengthField & 4) !== 0) action = 'add64';
  const addressMode = field(body, 44, 42);
  if (addressMode !== 0 && addressMode !== 1 && addressMode !== 4) {
    unsupported(`command address mode ${addressMode} is not supported`);
  }
  return {
    format: 'cmd',
    action,
    xfer: field(body, 24, 20) | (field(body, 40, 40) << 5),
    addressMode,
    a: decodeRestricted(field(body, 7, 0), { bank: 'A', lmExtension: false }, false),
    b: decodeRestricted(field(body, 17, 10), { bank: 'B', lmExtension: false }, false),
    length: lengthField + 1,
    ctxSwap: field(body, 9, 8),
    signal: field(body, 31, 28),
    indirectRef: flag(body, 41),
  };
}

