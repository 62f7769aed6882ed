/**
 * Seeded generators of NFP-6xxx instruction words for the codec tests:
 *
 * - `generateRecordWords`: random records of every format and sub-form the codec
 *   models (every ALU/CAM/CRC operation, every shift form, every branch
 *   condition, every command target, mnemonic and address mode, ...), encoded;
 *   each word is labelled with its form so a test can show which forms it covered.
 * - `generateClassWords`: random bits inside each major opcode class (the class
 *   bits fixed, every other bit random), to check that whatever the decoder
 *   accepts is printed as binutils prints it.
 *
 * Records the encoder refuses (two sources of one class, ...) are drawn again.
 */
import { encodeInsn } from '../../src/nfp-backend/isa/codec.js';
import {
  ALU_OPS,
  ALU_UNARY_OPS,
  BRANCH_CONDITIONS,
  type BranchCondition,
  branchHasState,
  CAM_OPS,
  type CamOp,
  CMD_MNEMONICS,
  CRC_BYTES,
  CRC_OPS,
  type CrcOp,
  type CtxArbEvents,
  LOCAL_CSR_NAMES,
  MUL_STEPS,
  MUL_TYPES,
  type NfpInsn,
  type NfpShift,
  SHIFT_ALU_OPS,
  USTORE_CSR,
} from '../../src/nfp-backend/isa/instruction.js';
import { type GprBank, NO_OPERAND, type NfpOperand } from '../../src/nfp-backend/isa/operands.js';
import { NicoffError } from '../../src/diagnostics/diagnostic.js';

export type Rand = () => number;

export interface GeneratedWord {
  /** The form, e.g. `alu:+`, `cmd:mem:add64:mode1`, `br:br_inp_state`. */
  form: string;
  body: bigint;
}

const int = (rand: Rand, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const chance = (rand: Rand, p: number): boolean => rand() < p;

const POST_MODIFY = ['none', 'inc', 'dec'] as const;

/** The operand kinds both field widths take with the same ranges. */
type EitherFieldKind = 'gpr' | 'xfer' | 'xfer-indexed' | 'nn-indexed';
const isEitherFieldKind = (kind: string): kind is EitherFieldKind => kind === 'gpr' || kind === 'xfer' || kind === 'xfer-indexed' || kind === 'nn-indexed';

/** Such an operand, drawn the same for either field. */
function operandEitherField(rand: Rand, kind: EitherFieldKind, bank: GprBank): NfpOperand {
  switch (kind) {
    case 'gpr':
      return { kind: 'gpr', bank, index: int(rand, 0, 31) };
    case 'xfer':
      return { kind: 'xfer', index: int(rand, 0, 63) };
    case 'xfer-indexed':
      return { kind: 'xfer-indexed', postModify: pick(rand, POST_MODIFY) };
    case 'nn-indexed':
      return { kind: 'nn-indexed', postIncrement: chance(rand, 0.5) };
  }
}

/** An operand for an unrestricted (10-bit) field; `bank` is the field's bank for GPRs. */
function unrestricted(rand: Rand, bank: GprBank, opts: { imm?: boolean; lmExt?: boolean } = {}): NfpOperand {
  const kinds = ['gpr', 'gpr', 'abs-gpr', 'xfer', 'xfer-indexed', 'lm', 'lm', 'nn', 'nn-indexed', ...(opts.imm === false ? [] : ['imm', 'imm'])];
  const kind = pick(rand, kinds);
  if (isEitherFieldKind(kind)) return operandEitherField(rand, kind, bank);
  switch (kind) {
    case 'abs-gpr':
      return { kind: 'abs-gpr', bank, index: int(rand, 0, 127) };
    case 'lm': {
      const pointer = opts.lmExt === false ? int(rand, 0, 1) : int(rand, 0, 3);
      const postModify = chance(rand, 0.3) ? pick(rand, ['inc', 'dec'] as const) : 'none';
      return { kind: 'lm', pointer, offset: postModify === 'none' ? int(rand, 0, 15) : 0, postModify };
    }
    case 'nn':
      return { kind: 'nn', index: int(rand, 0, 31) };
    default:
      return { kind: 'imm', value: int(rand, 0, 255) };
  }
}

/** An operand for a restricted (8-bit) field. */
function restricted(rand: Rand, bank: GprBank, opts: { imm?: boolean; maxImm?: number; lmExt?: boolean } = {}): NfpOperand {
  const kinds = ['gpr', 'gpr', 'xfer', 'xfer-indexed', 'nn-indexed', 'lm', ...(opts.imm === false ? [] : ['imm', 'imm'])];
  const kind = pick(rand, kinds);
  if (isEitherFieldKind(kind)) return operandEitherField(rand, kind, bank);
  switch (kind) {
    case 'lm':
      return { kind: 'lm', pointer: opts.lmExt === false ? int(rand, 0, 1) : int(rand, 0, 3), offset: int(rand, 0, 7), postModify: 'none' };
    default:
      return { kind: 'imm', value: int(rand, 0, opts.maxImm ?? 255) };
  }
}

const bank = (rand: Rand): GprBank => (chance(rand, 0.5) ? 'A' : 'B');
const unDest = (rand: Rand): NfpOperand => (chance(rand, 0.15) ? NO_OPERAND : unrestricted(rand, bank(rand), { imm: false }));
const reDest = (rand: Rand): NfpOperand => (chance(rand, 0.15) ? NO_OPERAND : restricted(rand, bank(rand), { imm: false }));

function cc(rand: Rand): { noCc?: true; predicateCc?: true } {
  return { ...(chance(rand, 0.25) ? { noCc: true as const } : {}), ...(chance(rand, 0.25) ? { predicateCc: true as const } : {}) };
}

function shiftOf(rand: Rand): NfpShift {
  switch (int(rand, 0, 3)) {
    case 0:
      return { kind: 'rotate', amount: int(rand, 0, 31) };
    case 1:
      return { kind: 'right', amount: chance(rand, 0.15) ? 'indirect' : int(rand, 1, 31) };
    case 2:
      return { kind: 'left', amount: chance(rand, 0.15) ? 'indirect' : int(rand, 1, 31) };
    default:
      return { kind: 'double-right', amount: chance(rand, 0.15) ? 'indirect' : int(rand, 1, 31) };
  }
}

type Maker = (rand: Rand) => NfpInsn;

/** One maker per form; the form names are what the oracle test reports. */
export function recordMakers(): Map<string, Maker> {
  const makers = new Map<string, Maker>();
  for (const op of Object.keys(ALU_OPS) as (keyof typeof ALU_OPS)[]) {
    const unary = op === 'B' || op === '~B';
    makers.set(`alu:${op}`, (r) => ({
      format: 'alu', op, dest: unDest(r), left: unary ? NO_OPERAND : unrestricted(r, bank(r)), right: unrestricted(r, bank(r)),
      wrboth: chance(r, 0.2), ...cc(r),
    }));
  }
  for (const op of Object.keys(ALU_UNARY_OPS) as (keyof typeof ALU_UNARY_OPS)[]) {
    const noDest = op === 'pop_count1' || op === 'pop_count2';
    makers.set(`alu:${op}`, (r) => ({
      format: 'alu', op, dest: noDest ? NO_OPERAND : unDest(r), left: NO_OPERAND, right: unrestricted(r, bank(r)),
      wrboth: chance(r, 0.2), ...cc(r),
    }));
  }
  for (const op of Object.keys(CAM_OPS) as CamOp[]) {
    makers.set(`cam:${op}`, (r) => {
      const base = { format: 'cam' as const, op, dest: NO_OPERAND, tag: NO_OPERAND, entry: NO_OPERAND, state: 0, wrboth: chance(r, 0.2), ...cc(r) };
      switch (op) {
        case 'cam_clear':
          return base;
        case 'cam_lookup':
          return {
            ...base, dest: unDest(r), tag: unrestricted(r, bank(r)),
            ...(chance(r, 0.6) ? { lmAddress: { pointer: int(r, 0, 3), index: int(r, 0, 3) } } : {}),
          };
        case 'cam_write':
          return { ...base, tag: unrestricted(r, bank(r)), entry: unrestricted(r, bank(r)), state: int(r, 0, 15) };
        case 'cam_write_state':
          return { ...base, entry: unrestricted(r, bank(r)), state: int(r, 0, 15) };
      }
    });
  }
  makers.set('crc', (r) => ({
    format: 'crc', endian: chance(r, 0.5) ? 'le' : 'be', op: pick(r, Object.keys(CRC_OPS) as CrcOp[]), dest: unDest(r),
    source: unrestricted(r, bank(r)), bytes: pick(r, CRC_BYTES), bitSwap: chance(r, 0.5),
    wrboth: chance(r, 0.2), ...cc(r),
  }));
  for (const op of SHIFT_ALU_OPS) {
    if (op === 'byte_align') {
      for (const le of [false, true]) {
        makers.set(`alu_shf:byte_align_${le ? 'le' : 'be'}`, (r) => {
          const src = restricted(r, bank(r), { lmExt: false });
          return {
            format: 'alu_shf', op, dest: reDest(r), left: le ? src : NO_OPERAND, right: le ? NO_OPERAND : src,
            shift: { kind: le ? 'left' : 'right', amount: 'indirect' }, wrboth: chance(r, 0.2), ...cc(r),
          };
        });
      }
      continue;
    }
    const noLeft = op === 'B' || op === '~B' || op === 'asr';
    makers.set(`alu_shf:${op}`, (r) => {
      let shift = shiftOf(r);
      if (shift.kind === 'double-right') shift = { kind: 'right', amount: shift.amount };
      return {
        format: 'alu_shf', op, dest: reDest(r), left: noLeft ? NO_OPERAND : restricted(r, bank(r)), right: restricted(r, bank(r)),
        shift, wrboth: chance(r, 0.2), ...cc(r),
      };
    });
  }
  makers.set('alu_shf:dbl_shf_asr', (r) => ({
    format: 'alu_shf', op: 'asr', dest: reDest(r), left: NO_OPERAND, right: restricted(r, bank(r)),
    shift: { kind: 'double-right', amount: chance(r, 0.15) ? 'indirect' : int(r, 1, 31) }, wrboth: chance(r, 0.2), ...cc(r),
  }));
  makers.set('alu_shf:dbl_shf', (r) => ({
    format: 'alu_shf', op: 'B', dest: reDest(r), left: restricted(r, bank(r)), right: restricted(r, bank(r)),
    shift: { kind: 'double-right', amount: chance(r, 0.15) ? 'indirect' : int(r, 1, 31) }, wrboth: chance(r, 0.2), ...cc(r),
  }));
  makers.set('nop', () => ({ format: 'nop' }));
  for (const width of ['word', 'byte', 'half'] as const) {
    makers.set(`immed:${width}`, (r) => ({
      format: 'immed', dest: unDest(r), imm16: width === 'byte' ? int(r, 1, 255) : int(r, 1, 0xffff), width,
      byteShift: width === 'half' ? pick(r, [0, 2]) : int(r, 0, 3), invert: width === 'word' && chance(r, 0.3),
      wrboth: chance(r, 0.2), ...(chance(r, 0.2) ? { predicateCc: true } : {}),
    }));
  }
  makers.set('ld_field', (r) => ({
    format: 'ld_field', target: restricted(r, bank(r), { imm: false }), source: restricted(r, bank(r)), byteMask: int(r, 0, 15),
    shift: shiftOf(r), clearUnmasked: chance(r, 0.5), wrboth: chance(r, 0.2),
    ...(chance(r, 0.2) ? { loadCc: true } : {}), ...(chance(r, 0.2) ? { predicateCc: true } : {}),
  }));
  for (const condition of Object.keys(BRANCH_CONDITIONS) as BranchCondition[]) {
    makers.set(`br:${condition}`, (r) => ({
      format: 'br', condition, target: int(r, 0, 0x3fff), defer: int(r, 0, condition === 'br' ? 2 : 3),
      ...(branchHasState(condition) ? { state: int(r, 0, 15) } : {}),
    }));
  }
  makers.set('br_byte', (r) => ({
    format: 'br_byte', equal: chance(r, 0.5), reg: restricted(r, bank(r), { imm: false }), byte: int(r, 0, 3),
    value: restricted(r, bank(r)), target: int(r, 0, 0x3fff), defer: int(r, 0, 3),
  }));
  makers.set('br_bit', (r) => ({
    format: 'br_bit', branchIfSet: chance(r, 0.5), reg: restricted(r, bank(r), { imm: false }), bit: int(r, 0, 31),
    target: int(r, 0, 0x3fff), defer: int(r, 0, 3),
  }));
  makers.set('rtn', (r) => ({ format: 'rtn', reg: unrestricted(r, bank(r)), defer: int(r, 0, 3) }));
  makers.set('jump', (r) => ({
    format: 'jump', reg: unrestricted(r, bank(r)), target: chance(r, 0.3) ? int(r, 1, 255) : int(r, 1, 0x1ffff), defer: int(r, 0, 3),
  }));
  for (const kind of ['signals', 'kill', 'voluntary', 'bpt', '--'] as const) {
    makers.set(`ctx_arb:${kind}`, (r) => {
      let events: CtxArbEvents = kind === 'signals' ? [] : kind;
      if (kind === 'signals') {
        const mask = int(r, 1, 0x7fff);
        events = Array.from({ length: 15 }, (_, i) => i + 1).filter((s) => (mask >> (s - 1)) & 1);
        if (events.length === 0) events = [int(r, 1, 15)];
      }
      return {
        format: 'ctx_arb', events, any: kind !== 'kill' && chance(r, 0.4), defer: int(r, 0, 3),
        ...(chance(r, 0.5) ? { resume: int(r, 0, 0x3fff) } : {}),
      };
    });
  }
  const csrs = [...LOCAL_CSR_NAMES.keys(), USTORE_CSR, 0x03c, 0x194, 0x200, 0x1ffc];
  makers.set('local_csr:rd', (r) => ({ format: 'local_csr', csr: chance(r, 0.7) ? pick(r, csrs) : 4 * int(r, 0, 0x7ff) }));
  makers.set('local_csr:wr', (r) => ({
    format: 'local_csr', csr: chance(r, 0.7) ? pick(r, csrs) : 4 * int(r, 0, 0x7ff), value: unrestricted(r, bank(r)),
  }));
  makers.set('mul_step', (r) => {
    const type = pick(r, MUL_TYPES);
    const step = pick(r, MUL_STEPS);
    const last = type !== 'start' && (step === 'last' || step === 'last2');
    return {
      format: 'mul_step', type, step: type === 'start' ? 'step1' : step, left: last ? unDest(r) : unrestricted(r, bank(r)),
      right: last ? NO_OPERAND : unrestricted(r, bank(r)), wrboth: chance(r, 0.2), ...cc(r),
    };
  });
  for (let mode = 0; mode <= 7; mode++) {
    makers.set(`cmd:mode${mode}`, (r) => {
      const m = pick(r, CMD_MNEMONICS);
      const lengthField = (int(r, 0, 7) & ~m.lengthMask) | m.lengthFixed;
      const ctxSwap = int(r, 0, 3);
      const base = {
        format: 'cmd' as const, target: m.target, action: m.name, addressMode: mode, xfer: int(r, 0, 63),
        a: NO_OPERAND, b: NO_OPERAND, length: lengthField + 1, ctxSwap, signal: int(r, 0, 15), indirectRef: chance(r, 0.3),
      };
      if (mode <= 4) {
        return { ...base, a: restricted(r, 'A', { maxImm: 127, lmExt: false }), b: restricted(r, 'B', { maxImm: 127, lmExt: false }) };
      }
      if (mode === 6) {
        const data = (int(r, 0, 15) << 10) | (lengthField << 7) | (int(r, 0, 31) << 2) | int(r, 0, 3);
        return { ...base, xfer: 0, length: 1, signal: 0, address: int(r, 0, 0xffff), data };
      }
      return { ...base, address: int(r, 0, 0xffff) };
    });
  }
  return makers;
}

/** Form label of a record (for coverage reports). */
export function formOf(insn: NfpInsn): string {
  switch (insn.format) {
    case 'alu':
    case 'cam':
      return `${insn.format}:${insn.op}`;
    case 'alu_shf':
      if (insn.op === 'byte_align') return `alu_shf:byte_align_${insn.shift.kind === 'left' ? 'le' : 'be'}`;
      if (insn.shift.kind === 'double-right') return insn.op === 'asr' ? 'alu_shf:dbl_shf_asr' : 'alu_shf:dbl_shf';
      return `alu_shf:${insn.op}`;
    case 'immed':
      return `immed:${insn.width}`;
    case 'br':
      return `br:${insn.condition}`;
    case 'ctx_arb':
      return `ctx_arb:${typeof insn.events === 'string' ? insn.events : 'signals'}`;
    case 'local_csr':
      return insn.value === undefined ? 'local_csr:rd' : 'local_csr:wr';
    case 'cmd':
      return `cmd:mode${insn.addressMode}`;
    default:
      return insn.format;
  }
}

/** `perForm` encodable records of every form (fewer for nop, which has one). */
export function generateRecordWords(rand: Rand, perForm: number): GeneratedWord[] {
  const out: GeneratedWord[] = [];
  for (const [form, make] of recordMakers()) {
    const want = form === 'nop' ? 1 : perForm;
    let made = 0;
    for (let tries = 0; made < want && tries < want * 50; tries++) {
      let body: bigint;
      try {
        body = encodeInsn(make(rand));
      } catch (e) {
        if (e instanceof NicoffError) continue;
        throw e;
      }
      out.push({ form, body });
      made++;
    }
    if (made < want) throw new Error(`generator for ${form} made only ${made} of ${want} encodable records`);
  }
  return out;
}

/** Major opcode classes (binutils' NFP-6xxx masks): the bits that must hold `value` under `mask`. */
export const OPCODE_CLASSES: ReadonlyArray<{ name: string; mask: bigint; value: bigint }> = [
  { name: 'cmd', mask: 0x008000000000n, value: 0n },
  { name: 'alu_shf', mask: 0x00e000000000n, value: 0x008000000000n },
  { name: 'alu', mask: 0x00e000000000n, value: 0x00a000000000n },
  { name: 'immed', mask: 0x01f900000000n, value: 0x00f000000000n },
  { name: 'ld_field', mask: 0x01fa00e00000n, value: 0x00c000000000n },
  { name: 'ctx_arb', mask: 0x00f800000000n, value: 0x00e000000000n },
  { name: 'local_csr', mask: 0x01fe00100000n, value: 0x00fc00000000n },
  { name: 'branch', mask: 0x00f8000c3ce0n, value: 0x00d800000020n },
  { name: 'br_byte', mask: 0x00f800000000n, value: 0x00c800000000n },
  { name: 'br_bit', mask: 0x00f800080300n, value: 0x00d000000000n },
  { name: 'br_alu', mask: 0x00ff80000000n, value: 0x00e800000000n },
  { name: 'mul_step', mask: 0x00fe3f000000n, value: 0x00f800000000n },
];

/**
 * Random 45-bit bodies with a class's bits fixed. Bits 44:40 are set with low
 * probability and operand fields are often drawn from small codes, so that a
 * useful share of the words is canonical (accepted by the decoder).
 */
export function generateClassWords(rand: Rand, perClass: number): GeneratedWord[] {
  const out: GeneratedWord[] = [];
  const random45 = (): bigint => {
    let v = 0n;
    for (let i = 0; i < 45; i++) {
      const p = i >= 40 ? 0.15 : 0.5;
      if (rand() < p) v |= 1n << BigInt(i);
    }
    return v;
  };
  for (const cls of OPCODE_CLASSES) {
    for (let i = 0; i < perClass; i++) {
      let v = random45();
      // Often clear the high bits of the operand fields: small codes (GPRs, 0x300-style immediates) are the common ones.
      if (chance(rand, 0.5)) v &= ~0x3e0n;
      if (chance(rand, 0.5)) v &= ~(0x3e0n << 10n);
      out.push({ form: cls.name, body: (v & ~cls.mask) | cls.value });
    }
  }
  return out;
}
