/**
 * mul_step sequences (nfp-microcode.md B.8, C.3): the product is computed in
 * full at `last`/`last2` from the operands latched at `start`:
 *   32x32: start, step1..step4, last (low 32 bits) [, last2 (high 32 bits)]
 *   16x16: start, step1, step2, last (the 32-bit product of the low halves)
 * Steps must come in order and name operands with the values seen at `start`
 * (the hardware consumes them step by step; a change would give a product we
 * cannot vouch for). Other instructions may sit between steps. Anything else,
 * and 24x8, faults (NC6050). `last`/`last2` set Z and N from the word written
 * and clear C and V (unless no_cc); start and steps leave the codes alone.
 */
import { fault, type MeContext } from './machine-state.js';

export const MUL_TYPE_CODE = { start: 0, '24x8': 1, '16x16': 2, '32x32': 3 } as const;
const TYPE_NAME = ['start', '24x8', '16x16', '32x32'];

/** High 32 bits of the unsigned 64-bit product, without BigInt. */
export function mulHigh32(a: number, b: number): number {
  const x = a >>> 0;
  const y = b >>> 0;
  const al = x & 0xffff;
  const ah = x >>> 16;
  const bl = y & 0xffff;
  const bh = y >>> 16;
  const p = al * bl;
  const q = ah * bl;
  const r = al * bh;
  const mid = (p >>> 16) + (q & 0xffff) + (r & 0xffff);
  return (ah * bh + (q >>> 16) + (r >>> 16) + (mid >>> 16)) | 0;
}

/** start (typeCode 0) or stepN (stepCode 0..3 = step1..step4). */
export function mulStep(s: MeContext, pc: number, typeCode: number, stepCode: number, a: number, b: number): void {
  if (typeCode === 0) {
    s.mulState = 1;
    s.mulType = 0;
    s.mulSteps = 0;
    s.mulA = a | 0;
    s.mulB = b | 0;
    return;
  }
  const name = `${TYPE_NAME[typeCode]}_step${stepCode + 1}`;
  if (typeCode !== 2 && typeCode !== 3) fault('NC6050', pc, { reason: `${name}: only 16x16 and 32x32 multiplies are simulated` });
  if (s.mulState !== 1) fault('NC6050', pc, { reason: `${name} without a preceding mul_step start` });
  if (s.mulSteps !== stepCode) fault('NC6050', pc, { reason: `${name} after ${s.mulSteps} step(s)` });
  if (stepCode > 0 && s.mulType !== typeCode) fault('NC6050', pc, { reason: `${name} continues a ${TYPE_NAME[s.mulType]} sequence` });
  if (stepCode >= (typeCode === 2 ? 2 : 4)) fault('NC6050', pc, { reason: `${name}: a ${TYPE_NAME[typeCode]} multiply has ${typeCode === 2 ? 2 : 4} steps` });
  if ((a | 0) !== s.mulA || (b | 0) !== s.mulB) {
    fault('NC6050', pc, { reason: `${name} operands (0x${(a >>> 0).toString(16)}, 0x${(b >>> 0).toString(16)}) differ from those at start (0x${(s.mulA >>> 0).toString(16)}, 0x${(s.mulB >>> 0).toString(16)})` });
  }
  s.mulType = typeCode;
  s.mulSteps = stepCode + 1;
}

/** last (high = false) or last2 (high = true): the product word. */
export function mulLast(s: MeContext, pc: number, typeCode: number, high: boolean): number {
  const name = `${TYPE_NAME[typeCode]}_${high ? 'last2' : 'last'}`;
  if (typeCode !== 2 && typeCode !== 3) fault('NC6050', pc, { reason: `${name}: only 16x16 and 32x32 multiplies are simulated` });
  const need = typeCode === 2 ? 2 : 4;
  if (s.mulState !== 1 || s.mulType !== typeCode || s.mulSteps !== need) {
    fault('NC6050', pc, { reason: `${name} after ${s.mulState ? `${s.mulSteps} ${TYPE_NAME[s.mulType] ?? ''} step(s)`.replace('  ', ' ') : 'no start'}; it needs start and ${need} steps` });
  }
  if (typeCode === 2) {
    if (high) fault('NC6050', pc, { reason: '16x16_last2: a 16x16 product has no high word' });
    return Math.imul(s.mulA & 0xffff, s.mulB & 0xffff);
  }
  return high ? mulHigh32(s.mulA, s.mulB) : Math.imul(s.mulA, s.mulB);
}
