/**
 * The NFP code a lowering emits: instruction records in program order, each
 * with the eBPF instruction it came from and, for branches and relocatable
 * immeds, where it points. Targets stay symbolic until `finishCode` knows
 * every eBPF instruction's first NFP pc and the outro's labels; the raw form
 * (relocation byte, placeholders) and the loaded form (relocated, ECC) are
 * both derived from the same records, as the kernel derives them.
 */
import { encodeInsn } from '../nfp-backend/isa/codec.js';
import type {
  AluOp,
  BranchCondition,
  CmdInsn,
  LdFieldInsn,
  MulStep,
  MulType,
  NfpInsn,
  NfpShift,
  ShiftAluOp,
} from '../nfp-backend/isa/instruction.js';
import {
  BR_OFF_RELO,
  rawRelocationType,
  relocateRawWord,
  type RawRelocationName,
  type RelocationTargets,
} from '../nfp-backend/isa/raw-relocation.js';
import { NO_DESTINATION, NO_OPERAND, type Destination, type NfpOperand } from './nfp-registers.js';

/** Where a branch (or a type-8 immed) points before relocation. */
export type CodeTarget =
  /** The first NFP word of an eBPF instruction (the kernel's jump fix-up). */
  | { kind: 'ebpf'; insn: number }
  /** A program-relative pc known when emitted, or a label resolved later. */
  | { kind: 'label'; label: CodeLabel }
  /** Loader relocations: the outro's exit and abort, firmware next-packet, a firmware helper, the call trampolines. */
  | { kind: 'exit' }
  | { kind: 'abort' }
  | { kind: 'next-packet' }
  | { kind: 'helper'; helperId: number }
  | { kind: 'push-trampoline' }
  | { kind: 'pop-trampoline' };

/** A program-relative position set once (`placeLabel`). */
export interface CodeLabel {
  pc?: number;
  readonly name: string;
}

export interface EmittedWord {
  insn: NfpInsn;
  /** The eBPF instruction whose lowering emitted the word; undefined for the prologue, outro and tail. */
  ebpfInsn: number | undefined;
  target?: CodeTarget;
  /** A branch target (`br`) or an immed value (`immed`, relocation immed-relative). */
  immedRelative?: boolean;
}

export class NfpCode {
  readonly words: EmittedWord[] = [];
  /** The eBPF instruction being lowered (stamped on each word). */
  current: number | undefined;

  get pc(): number {
    return this.words.length;
  }

  emit(insn: NfpInsn, target?: CodeTarget): void {
    const word: EmittedWord = { insn, ebpfInsn: this.current };
    if (target) word.target = target;
    this.words.push(word);
  }

  label(name: string): CodeLabel {
    return { name };
  }

  place(label: CodeLabel): void {
    label.pc = this.pc;
  }

  // ---- one constructor per instruction shape the lowerings use ----

  alu(dst: Destination, left: NfpOperand, op: AluOp, right: NfpOperand): void {
    this.emit({ format: 'alu', op, dest: dst.operand, left, right, wrboth: dst.wrboth });
  }

  /** `alu[--, left, op, right]`: condition codes only. */
  aluCc(left: NfpOperand, op: AluOp, right: NfpOperand): void {
    this.alu(NO_DESTINATION, left, op, right);
  }

  /** `alu[dst, --, B, src]` (the kernel's wrp_mov). */
  mov(dst: Destination, src: NfpOperand): void {
    this.alu(dst, NO_OPERAND, 'B', src);
  }

  shf(dst: Destination, left: NfpOperand, op: ShiftAluOp, right: NfpOperand, shift: NfpShift): void {
    this.emit({ format: 'alu_shf', op, dest: dst.operand, left, right, shift, wrboth: dst.wrboth });
  }

  /** `dbl_shf[dst, left, right, >>n]`: (left:right) >> n, the low word kept. */
  dblShf(dst: Destination, left: NfpOperand, right: NfpOperand, amount: number | 'indirect'): void {
    this.shf(dst, left, 'B', right, { kind: 'double-right', amount });
  }

  /** `asr[dst, right, >>n]`: arithmetic shift; the sign comes from the previous ALU result. */
  asr(dst: Destination, right: NfpOperand, amount: number | 'indirect'): void {
    this.shf(dst, NO_OPERAND, 'asr', right, { kind: 'right', amount });
  }

  immed(dst: Destination, imm16: number, opts: { width?: 'word' | 'byte' | 'half'; byteShift?: number; invert?: boolean } = {}, target?: CodeTarget): void {
    this.emit(
      {
        format: 'immed',
        dest: dst.operand,
        imm16,
        width: opts.width ?? 'word',
        byteShift: opts.byteShift ?? 0,
        invert: opts.invert ?? false,
        wrboth: dst.wrboth,
      },
      target,
    );
  }

  ldField(dst: Destination, byteMask: number, src: NfpOperand, shift: NfpShift = { kind: 'rotate', amount: 0 }, clearUnmasked = false): void {
    const insn: LdFieldInsn = { format: 'ld_field', target: dst.operand, source: src, byteMask, shift, clearUnmasked, wrboth: dst.wrboth };
    this.emit(insn);
  }

  br(condition: BranchCondition, target: CodeTarget, defer = 0): void {
    // Placeholder target; finishCode writes the real one.
    this.emit({ format: 'br', condition, target: 0, defer }, target);
  }

  brBit(reg: NfpOperand, bit: number, branchIfSet: boolean, target: CodeTarget, defer = 0): void {
    this.emit({ format: 'br_bit', branchIfSet, reg, bit, target: 0, defer }, target);
  }

  nop(count = 1): void {
    for (let i = 0; i < count; i++) this.emit({ format: 'nop' });
  }

  localCsrWrite(csr: number, value: NfpOperand): void {
    this.emit({ format: 'local_csr', csr, value });
  }

  mulStep(type: MulType, step: MulStep, left: NfpOperand, right: NfpOperand): void {
    this.emit({ format: 'mul_step', type, step, left, right, wrboth: false });
  }

  cmd(insn: Omit<CmdInsn, 'format'>): void {
    this.emit({ format: 'cmd', ...insn });
  }
}

/** Where the loader sends the symbolic targets: the load slot, firmware addresses, the outro's labels. */
export interface CodeLayout {
  /** NFP pc of each eBPF instruction's first word (an instruction that emitted nothing has the next one's). */
  ebpfStart: number[];
  /** The outro's labels; absent when the optimizing mode left the outro out. */
  exit?: number;
  abort?: number;
  pushTrampoline?: number;
  popTrampoline?: number;
}

export interface LoadTargets {
  startPc: number;
  donePc: number;
  helperAddress: (helperId: number) => number | undefined;
}

export interface FinishedCode {
  /** What `bpftool prog dump jited` shows: relocation byte in 63:56, placeholders, no ECC. */
  raw: bigint[];
  /** Relocated for the load slot, ECC in 51:45. */
  loaded: bigint[];
}

function relocationOf(word: EmittedWord): { name: RawRelocationName; value: number } | undefined {
  const t = word.target;
  if (!t) return undefined;
  switch (t.kind) {
    case 'ebpf':
    case 'label':
      return undefined; // resolved by the caller (program-relative)
    case 'exit':
      return { name: 'exit', value: BR_OFF_RELO };
    case 'abort':
      return { name: 'abort', value: BR_OFF_RELO };
    case 'next-packet':
      return { name: 'next-packet', value: BR_OFF_RELO };
    case 'helper':
      return { name: 'helper', value: BR_OFF_RELO + t.helperId };
    case 'push-trampoline':
      return { name: 'push-trampoline', value: BR_OFF_RELO };
    case 'pop-trampoline':
      return { name: 'pop-trampoline', value: BR_OFF_RELO };
  }
}

function withTarget(insn: NfpInsn, value: number): NfpInsn {
  if (insn.format === 'immed') return { ...insn, imm16: value };
  if (insn.format === 'br' || insn.format === 'br_bit' || insn.format === 'br_byte') return { ...insn, target: value };
  throw new Error(`internal: a ${insn.format} word cannot carry a target`);
}

/** Resolve every target and produce both forms. */
export function finishCode(words: readonly EmittedWord[], layout: CodeLayout, load: LoadTargets): FinishedCode {
  const targets: RelocationTargets = {
    startPc: load.startPc,
    donePc: load.donePc,
    exit: layout.exit,
    abort: layout.abort,
    helperAddress: load.helperAddress,
    ...(layout.pushTrampoline !== undefined ? { pushTrampoline: layout.pushTrampoline } : {}),
    ...(layout.popTrampoline !== undefined ? { popTrampoline: layout.popTrampoline } : {}),
  };
  const raw: bigint[] = [];
  const loaded: bigint[] = [];
  for (const word of words) {
    let insn = word.insn;
    let type = 0;
    const t = word.target;
    if (t?.kind === 'ebpf' || t?.kind === 'label') {
      const pc = t.kind === 'ebpf' ? layout.ebpfStart[t.insn] : t.label.pc;
      if (pc === undefined) throw new Error(`internal: unresolved target ${t.kind === 'label' ? t.label.name : `bpf#${t.insn}`}`);
      insn = withTarget(insn, pc);
      type = rawRelocationType(insn.format === 'immed' ? 'immed-relative' : 'program-relative');
    } else {
      const relocation = relocationOf(word);
      if (relocation) {
        insn = withTarget(insn, relocation.value);
        type = rawRelocationType(relocation.name);
      }
    }
    const rawWord = (BigInt(type) << 56n) | encodeInsn(insn);
    raw.push(rawWord);
    loaded.push(relocateRawWord(rawWord, targets));
  }
  return { raw, loaded };
}
