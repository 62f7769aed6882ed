/**
 * Raw JIT words: the image the kernel builds and `bpftool prog dump jited`
 * shows for an offloaded program (docs nfp-microcode.md B.1 and I). Bits 63:56
 * hold the kernel's private relocation type, bits 55:45 are zero (no ECC), and
 * branch targets are program-relative or placeholders:
 *
 * | type | name             | the word holds                                   | loaded as                  |
 * |------|------------------|--------------------------------------------------|----------------------------|
 * | 0    | none             | nothing to relocate                              | unchanged                  |
 * | 1    | program-relative | a branch to a program-relative pc                | start + pc                 |
 * | 2    | exit             | branch placeholder 15000 (BR_OFF_RELO)           | start + the outro's exit   |
 * | 3    | abort            | 15000                                            | start + the abort label    |
 * | 4, 5 | push/pop-trampoline | 15000                                         | start + the trampoline     |
 * | 6    | next-packet      | 15000                                            | the firmware's done pc     |
 * | 7    | helper           | 15000 + BPF helper id                            | the helper's code address  |
 * | 8    | immed-relative   | an `immed` holding a program-relative value      | start + value              |
 *
 * The loaded word is the relocated body with the relocation byte cleared and the
 * ECC in bits 51:45.
 *
 * This module is the backend's one reading of these fields: which word carries
 * what placeholder (readPlaceholder) and where a relocated value goes
 * (withRelocatedValue; the codec places the bits). The firmware image
 * (image/nfp-image.ts, image/golden-listing.ts) keeps its own relocation
 * records and diagnostics on top of it.
 */
import { fail, NicoffError } from '../../diagnostics/diagnostic.js';
import { decodeInsn, encodeInsn } from './codec.js';
import { NFP_BODY_MASK, withEcc } from './ecc.js';
import type { NfpInsn } from './instruction.js';

/** The kernel's BR_OFF_RELO: the raw target of exit/abort/trampoline/done branches; helper branches add the helper id. */
export const BR_OFF_RELO = 15000;

/** Relocation types by number (the kernel's `enum nfp_relo_type`). */
export const RAW_RELOCATION_NAMES = [
  'none',
  'program-relative',
  'exit',
  'abort',
  'push-trampoline',
  'pop-trampoline',
  'next-packet',
  'helper',
  'immed-relative',
] as const;
export type RawRelocationName = (typeof RAW_RELOCATION_NAMES)[number];

/** Branch targets are 14 bits: bits 34:22 and bit 40 (doc B.6; the codec places them). */
export const BRANCH_TARGET_LIMIT = 1 << 14;

/** What a raw word holds where the loader writes the final address. */
export type RawPlaceholder =
  | { kind: 'none' }
  /** Type 1: the branch's program-relative target; type 8: the immed's program-relative value. */
  | { kind: 'program-relative'; value: number }
  /** Types 2-6: the branch target BR_OFF_RELO. */
  | { kind: 'special'; value: typeof BR_OFF_RELO }
  /** Type 7: the branch target BR_OFF_RELO + helper id. */
  | { kind: 'helper'; value: number; helperId: number };

/** Why a word cannot hold the placeholder its relocation type says; each reader words it in its own diagnostic. */
export type PlaceholderProblem =
  /** Types 1-7 rewrite a branch target, and the word has none. */
  | { kind: 'not-a-branch' }
  /** Type 8 rewrites a plain 16-bit immed, and the word is not one. */
  | { kind: 'not-a-plain-immed' }
  /** Types 2-6: the target is not BR_OFF_RELO. */
  | { kind: 'not-the-placeholder'; target: number }
  /** Type 7: the target is not above BR_OFF_RELO. */
  | { kind: 'no-helper-id'; target: number };

export interface RawWord {
  relocation: { type: number; name: RawRelocationName };
  /** Bits 44:0. */
  body: bigint;
  insn: NfpInsn;
  placeholder: RawPlaceholder;
}

/** Formats with the branch target field (bits 34:22 + 40) that the kernel's branch relocations rewrite. */
export type BranchTargetInsn = Extract<NfpInsn, { format: 'br' | 'br_bit' | 'br_byte' }>;
/** The only immed a type-8 relocation rewrites: a 16-bit value, width word, no byte shift, not inverted. */
export type PlainImmedInsn = Extract<NfpInsn, { format: 'immed' }>;

export function hasBranchTarget(insn: NfpInsn): insn is BranchTargetInsn {
  return insn.format === 'br' || insn.format === 'br_bit' || insn.format === 'br_byte';
}

export function isPlainImmed(insn: NfpInsn): insn is PlainImmedInsn {
  return insn.format === 'immed' && insn.width === 'word' && insn.byteShift === 0 && !insn.invert;
}

/** The relocation type number of a B.1 name (the image stores these numbers). */
export function rawRelocationType(name: RawRelocationName): number {
  return RAW_RELOCATION_NAMES.indexOf(name);
}

/** What relocation type `type` (0..8) finds in `insn` where the loader writes (the table above), or why it finds nothing it can use. */
export function readPlaceholder(type: number, insn: NfpInsn): RawPlaceholder | PlaceholderProblem {
  if (type === 0) return { kind: 'none' };
  if (type === 8) return isPlainImmed(insn) ? { kind: 'program-relative', value: insn.imm16 } : { kind: 'not-a-plain-immed' };
  if (!hasBranchTarget(insn)) return { kind: 'not-a-branch' };
  const target = insn.target;
  if (type === 1) return { kind: 'program-relative', value: target };
  if (type === 7) return target > BR_OFF_RELO ? { kind: 'helper', value: target, helperId: target - BR_OFF_RELO } : { kind: 'no-helper-id', target };
  return target === BR_OFF_RELO ? { kind: 'special', value: BR_OFF_RELO } : { kind: 'not-the-placeholder', target };
}

/** `insn` with the field a relocation rewrites (branch target, or the plain immed's value) set to `value`; encodeInsn places the bits. */
export function withRelocatedValue(insn: BranchTargetInsn | PlainImmedInsn, value: number): NfpInsn {
  return insn.format === 'immed' ? { ...insn, imm16: value } : { ...insn, target: value };
}

function wordText(raw: bigint): string {
  return `0x${raw.toString(16).padStart(16, '0')}`;
}

/** Decode one raw JIT word: its relocation byte, instruction and placeholder (NC6004 when they disagree with B.1). */
export function decodeRawWord(raw: bigint): RawWord {
  const type = Number((raw >> 56n) & 0xffn);
  const bad = (reason: string): never => fail('NC6004', { word: wordText(raw), type, reason });
  if (raw < 0n || raw >> 64n !== 0n) bad('not a 64-bit word');
  if (((raw >> 45n) & 0x7ffn) !== 0n) bad('bits 55:45 are set (a raw word has no ECC)');
  const name = RAW_RELOCATION_NAMES[type];
  if (name === undefined) return bad(`relocation type ${type} is not one of 0..8`);
  const body = raw & NFP_BODY_MASK;
  const insn = decodeInsn(body);
  const placeholder = readPlaceholder(type, insn);
  switch (placeholder.kind) {
    case 'not-a-plain-immed':
      return bad(`an immed-relative word must be a plain 16-bit immed, not ${insn.format}`);
    case 'not-a-branch':
      return bad(`a ${name} relocation needs a branch, not ${insn.format}`);
    case 'no-helper-id':
      return bad(`a helper branch carries ${BR_OFF_RELO} + helper id, not ${placeholder.target}`);
    case 'not-the-placeholder':
      return bad(`a ${name} branch carries the placeholder ${BR_OFF_RELO}, not ${placeholder.target}`);
  }
  return { relocation: { type, name }, body, insn, placeholder };
}

/** Where the loader sends each relocation: program-relative labels are the kernel's tgt_* offsets. */
export interface RelocationTargets {
  /** NFP_NET_CFG_BPF_START: the code-store pc of the program's first word (nic-firmware: 3072). */
  startPc: number;
  /** NFP_NET_CFG_BPF_DONE: the firmware's next-packet pc (nic-firmware: 1). */
  donePc: number;
  /** Program-relative pcs of the outro's exit and abort labels and of the call trampolines. */
  exit?: number;
  abort?: number;
  pushTrampoline?: number;
  popTrampoline?: number;
  /** Code-store pc of a firmware helper by BPF helper id (e.g. 1 map_lookup_elem). */
  helperAddress?: (helperId: number) => number | undefined;
}

/** The target (or, for type 8, the immed value) a raw word gets when loaded; undefined for type 0. */
export function relocatedValue(word: RawWord, targets: RelocationTargets): number | undefined {
  const bad = (reason: string): never =>
    fail('NC6004', { word: wordText(word.body | (BigInt(word.relocation.type) << 56n)), type: word.relocation.type, reason });
  const relative = (label: number | undefined, what: string): number =>
    label === undefined ? bad(`no ${what} label given`) : targets.startPc + label;
  const p = word.placeholder;
  switch (word.relocation.name) {
    case 'none':
      return undefined;
    case 'program-relative':
    case 'immed-relative':
      return targets.startPc + (p.kind === 'program-relative' ? p.value : bad('no program-relative value'));
    case 'exit':
      return relative(targets.exit, 'exit');
    case 'abort':
      return relative(targets.abort, 'abort');
    case 'push-trampoline':
      return relative(targets.pushTrampoline, 'push-trampoline');
    case 'pop-trampoline':
      return relative(targets.popTrampoline, 'pop-trampoline');
    case 'next-packet':
      return targets.donePc;
    case 'helper': {
      const id = p.kind === 'helper' ? p.helperId : bad('no helper id');
      return targets.helperAddress?.(id) ?? bad(`no address for helper ${id}`);
    }
  }
}

/** The loaded word for a raw word: relocated, relocation byte cleared, ECC added. */
export function relocateRawWord(raw: bigint, targets: RelocationTargets): bigint {
  const word = decodeRawWord(raw);
  const value = relocatedValue(word, targets);
  if (value === undefined) return withEcc(word.body);
  try {
    return withEcc(encodeInsn(withRelocatedValue(word.insn as BranchTargetInsn | PlainImmedInsn, value)));
  } catch (e) {
    if (e instanceof NicoffError) {
      return fail('NC6004', { word: wordText(raw), type: word.relocation.type, reason: `relocated value ${value}: ${e.diagnostic.message}` });
    }
    throw e;
  }
}
