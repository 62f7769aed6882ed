/**
 * NFP operand model and the two operand-field encodings (unrestricted 10-bit,
 * restricted 8-bit), plus the text form used by the binutils disassembler.
 *
 * GPR banks are implied by the field an operand sits in (A field -> bank A,
 * B field -> bank B); the record still names the bank so a misplaced register
 * is caught at encode time instead of silently changing meaning.
 */
import { fail } from '../../diagnostics/diagnostic.js';

export type GprBank = 'A' | 'B';
export type LmPostModify = 'none' | 'inc' | 'dec';

export type NfpOperand =
  | { kind: 'gpr'; bank: GprBank; index: number }
  /** `@gprA_N` / `@gprB_N`: absolute GPR 0..127; the bank is the field's, as for `gpr`. */
  | { kind: 'abs-gpr'; bank: GprBank; index: number }
  | { kind: 'xfer'; index: number }
  /** `*$index`, `*$index++`, `*$index--`: indexed transfer register, with post-increment/decrement. */
  | { kind: 'xfer-indexed'; postModify: LmPostModify }
  | { kind: 'lm'; pointer: number; offset: number; postModify: LmPostModify }
  | { kind: 'nn'; index: number }
  /** `*n$index`, `*n$index++`: indexed next-neighbour register, with post-increment. */
  | { kind: 'nn-indexed'; postIncrement: boolean }
  | { kind: 'imm'; value: number }
  | { kind: 'none' };

export const NO_OPERAND: NfpOperand = { kind: 'none' };

export function gpr(bank: GprBank, index: number): NfpOperand {
  return { kind: 'gpr', bank, index };
}

export function imm(value: number): NfpOperand {
  return { kind: 'imm', value };
}

/** Where an operand code came from; decides the bank of a context-relative GPR. */
export interface FieldContext {
  bank: GprBank;
  /** The instruction's LM-extension bit for this field (selects LM pointers 2/3). */
  lmExtension: boolean;
}

/** A reason a word cannot be decoded; decodeInsn turns it into NC6001 with the word attached. */
export class WordDecodeProblem extends Error {}

function problem(reason: string): never {
  throw new WordDecodeProblem(reason);
}

/** The GPR bank an operand is bound to (context-relative or absolute GPRs), if any. */
export function bankOf(op: NfpOperand): GprBank | undefined {
  return op.kind === 'gpr' || op.kind === 'abs-gpr' ? op.bank : undefined;
}

/**
 * Indexed transfer / next-neighbour codes. binutils reads only the post-modify
 * bits of these codes (bits 2:1 for `*$index`, bit 1 for `*n$index`) and prints
 * every other bit pattern the same way, so only the codes below (other bits 0)
 * are accepted; the rest are refused rather than decoded to text that would
 * assemble to a different word.
 */
const XFER_INDEXED_POST_MODIFY: readonly LmPostModify[] = ['none', 'inc', 'dec'];

function decodeIndexedXfer(code: number, base: number): NfpOperand {
  const postModify = XFER_INDEXED_POST_MODIFY[(code - base) >> 1];
  if (postModify === undefined || ((code - base) & ~0x6) !== 0) {
    problem(`indexed transfer code 0x${code.toString(16)} is not one of 0x${base.toString(16)}/+2/+4 (other bits are not shown by the text form)`);
  }
  return { kind: 'xfer-indexed', postModify };
}

function decodeIndexedNn(code: number, base: number): NfpOperand {
  if (((code - base) & ~0x2) !== 0) {
    problem(`indexed next-neighbour code 0x${code.toString(16)} is not 0x${base.toString(16)} or +2 (other bits are not shown by the text form)`);
  }
  return { kind: 'nn-indexed', postIncrement: (code - base) === 2 };
}

export function decodeUnrestricted(code: number, ctx: FieldContext): NfpOperand {
  if (code < 0x20) return gpr(ctx.bank, code);
  if (code >= 0x80 && code < 0x100) return { kind: 'abs-gpr', bank: ctx.bank, index: code & 0x7f };
  if (code >= 0x100 && code < 0x180) return decodeIndexedXfer(code, 0x100);
  if (code >= 0x180 && code < 0x1a0) return { kind: 'xfer', index: code - 0x180 };
  if (code >= 0x1c0 && code < 0x1e0) return { kind: 'xfer', index: code - 0x1c0 + 32 };
  if (code >= 0x200 && code < 0x240) {
    const pointer = ((code >> 5) & 1) + (ctx.lmExtension ? 2 : 0);
    if (code & 0x10) {
      if (code & 0xe) problem(`LM post-modify code 0x${code.toString(16)} has stray bits`);
      return { kind: 'lm', pointer, offset: 0, postModify: code & 1 ? 'dec' : 'inc' };
    }
    return { kind: 'lm', pointer, offset: code & 0xf, postModify: 'none' };
  }
  if (code >= 0x240 && code < 0x280) return decodeIndexedNn(code, 0x240);
  if (code >= 0x280 && code < 0x2a0) return { kind: 'nn', index: code - 0x280 };
  if (code >= 0x300 && code < 0x400) return imm(code & 0xff);
  return problem(`unrestricted operand code 0x${code.toString(16)} is not supported`);
}

/** Encode for a source/destination field; `none` becomes `noneCode` (0 for sources, 0x300 for destinations). */
export function encodeUnrestricted(op: NfpOperand, ctx: FieldContext, noneCode: number, format: string): number {
  switch (op.kind) {
    case 'none':
      return noneCode;
    case 'gpr':
      requireBank(op, ctx, format);
      requireRange(op.index, 0, 31, 'GPR number', format);
      return op.index;
    case 'abs-gpr':
      requireBank(op, ctx, format);
      requireRange(op.index, 0, 127, 'absolute GPR number', format);
      return 0x80 | op.index;
    case 'xfer':
      requireRange(op.index, 0, 63, 'transfer register', format);
      return op.index < 32 ? 0x180 + op.index : 0x1c0 + op.index - 32;
    case 'xfer-indexed':
      return 0x100 | (XFER_INDEXED_POST_MODIFY.indexOf(op.postModify) << 1);
    case 'nn-indexed':
      return 0x240 | (op.postIncrement ? 2 : 0);
    case 'lm': {
      const base = 0x200 | (lmPointerLowBit(op, ctx, format) << 5);
      if (op.postModify !== 'none') {
        if (op.offset !== 0) fail('NC6003', { format, reason: 'LM post-modify cannot carry an offset' });
        return base | 0x10 | (op.postModify === 'dec' ? 1 : 0);
      }
      requireRange(op.offset, 0, 15, 'LM word offset', format);
      return base | op.offset;
    }
    case 'nn':
      requireRange(op.index, 0, 31, 'next-neighbour register', format);
      return 0x280 + op.index;
    case 'imm':
      requireRange(op.value, 0, 255, 'unrestricted immediate', format);
      return 0x300 | op.value;
  }
}

/** Restricted immediates spread value bits 6:5 into code bits 7:6; value bit 7 lives in the I8 bit. */
export function decodeRestricted(code: number, ctx: FieldContext, i8: boolean): NfpOperand {
  if (code < 0x20) return gpr(ctx.bank, code);
  if (code & 0x20) return imm((code & 0x1f) | (((code >> 6) & 3) << 5) | (i8 ? 0x80 : 0));
  if (code >= 0x40 && code < 0x50) return code & 1 ? decodeIndexedNn(code, 0x41) : decodeIndexedXfer(code, 0x40);
  if (code >= 0x50 && code < 0x60) {
    return { kind: 'lm', pointer: ((code >> 3) & 1) + (ctx.lmExtension ? 2 : 0), offset: code & 7, postModify: 'none' };
  }
  if (code >= 0x80 && code < 0xa0) return { kind: 'xfer', index: code - 0x80 };
  if (code >= 0xc0 && code < 0xe0) return { kind: 'xfer', index: code - 0xc0 + 32 };
  return problem(`restricted operand code 0x${code.toString(16)} is not supported`);
}

export interface RestrictedCode {
  code: number;
  /** Value bit 7 of an immediate; the caller ORs it into the format's I8 bit. */
  i8: boolean;
}

export function encodeRestricted(
  op: NfpOperand,
  ctx: FieldContext,
  noneCode: number,
  maxImmediate: number,
  format: string,
): RestrictedCode {
  switch (op.kind) {
    case 'none':
      return { code: noneCode, i8: false };
    case 'gpr':
      requireBank(op, ctx, format);
      requireRange(op.index, 0, 31, 'GPR number', format);
      return { code: op.index, i8: false };
    case 'xfer':
      requireRange(op.index, 0, 63, 'transfer register', format);
      return { code: op.index < 32 ? 0x80 + op.index : 0xc0 + op.index - 32, i8: false };
    case 'lm':
      if (op.postModify !== 'none') fail('NC6003', { format, reason: 'restricted operands have no LM post-modify' });
      requireRange(op.offset, 0, 7, 'restricted LM word offset', format);
      return { code: 0x50 | (lmPointerLowBit(op, ctx, format) << 3) | op.offset, i8: false };
    case 'imm':
      requireRange(op.value, 0, maxImmediate, 'restricted immediate', format);
      return { code: 0x20 | (op.value & 0x1f) | ((op.value & 0x60) << 1), i8: op.value >= 0x80 };
    case 'xfer-indexed':
      return { code: 0x40 | (XFER_INDEXED_POST_MODIFY.indexOf(op.postModify) << 1), i8: false };
    case 'nn-indexed':
      return { code: 0x41 | (op.postIncrement ? 2 : 0), i8: false };
    case 'abs-gpr':
    case 'nn':
      return fail('NC6003', { format, reason: `${op.kind} operands have no restricted encoding` });
  }
}

export function usesExtendedLmPointer(op: NfpOperand): boolean {
  return op.kind === 'lm' && op.pointer >= 2;
}

function lmPointerLowBit(op: { pointer: number }, ctx: FieldContext, format: string): number {
  requireRange(op.pointer, 0, 3, 'LM pointer', format);
  if ((op.pointer >= 2) !== ctx.lmExtension) {
    fail('NC6003', { format, reason: `LM pointer ${op.pointer} disagrees with the instruction's LM-extension bit` });
  }
  return op.pointer & 1;
}

function requireBank(op: NfpOperand & { bank: GprBank }, ctx: FieldContext, format: string): void {
  if (op.bank !== ctx.bank) {
    fail('NC6003', { format, reason: `${formatOperand(op)} cannot sit in the ${ctx.bank} operand field` });
  }
}

function requireRange(value: number, min: number, max: number, what: string, format: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail('NC6003', { format, reason: `${what} ${value} is outside ${min}..${max}` });
  }
}

export function formatOperand(op: NfpOperand): string {
  switch (op.kind) {
    case 'none':
      return '--';
    case 'gpr':
      return `gpr${op.bank}_${op.index}`;
    case 'abs-gpr':
      return `@gpr${op.bank}_${op.index}`;
    case 'xfer':
      return `$xfer_${op.index}`;
    case 'xfer-indexed':
      return `*$index${postModifyText(op.postModify)}`;
    case 'nn-indexed':
      return `*n$index${op.postIncrement ? '++' : ''}`;
    case 'lm': {
      const base = `*l$index${op.pointer}`;
      if (op.postModify !== 'none') return `${base}${postModifyText(op.postModify)}`;
      return op.offset === 0 ? base : `${base}[${op.offset}]`;
    }
    case 'nn':
      return `n$reg_${op.index}`;
    case 'imm':
      return formatHex(op.value);
  }
}

function postModifyText(p: LmPostModify): string {
  return p === 'inc' ? '++' : p === 'dec' ? '--' : '';
}

export function formatHex(value: number): string {
  return `0x${value.toString(16)}`;
}

/** Parse one operand's text; returns undefined when the text is not an operand. */
export function parseOperand(text: string): NfpOperand | undefined {
  if (text === '--') return NO_OPERAND;
  let m = /^gpr([AB])_(\d+)$/.exec(text);
  if (m) return gpr(m[1] as GprBank, Number(m[2]));
  m = /^@gpr([AB])_(\d+)$/.exec(text);
  if (m) return { kind: 'abs-gpr', bank: m[1] as GprBank, index: Number(m[2]) };
  m = /^\*\$index(\+\+|--)?$/.exec(text);
  if (m) return { kind: 'xfer-indexed', postModify: m[1] === '++' ? 'inc' : m[1] === '--' ? 'dec' : 'none' };
  m = /^\*n\$index(\+\+)?$/.exec(text);
  if (m) return { kind: 'nn-indexed', postIncrement: m[1] !== undefined };
  m = /^\$xfer_(\d+)$/.exec(text);
  if (m) return { kind: 'xfer', index: Number(m[1]) };
  m = /^n\$reg_(\d+)$/.exec(text);
  if (m) return { kind: 'nn', index: Number(m[1]) };
  m = /^\*l\$index(\d)(?:\[(\d+)\]|(\+\+)|(--))?$/.exec(text);
  if (m) {
    const postModify: LmPostModify = m[3] ? 'inc' : m[4] ? 'dec' : 'none';
    return { kind: 'lm', pointer: Number(m[1]), offset: m[2] ? Number(m[2]) : 0, postModify };
  }
  const value = parseNumber(text);
  if (value !== undefined) return imm(value);
  return undefined;
}

export function parseNumber(text: string): number | undefined {
  if (/^0x[0-9a-f]+$/i.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^\d+$/.test(text)) return Number(text);
  return undefined;
}
