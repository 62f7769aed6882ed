/**
 * Precision tracking (the kernel's __mark_chain_precision): scalars start
 * out imprecise, and a saved state's imprecise scalar matches any scalar
 * when states are compared. When a check depends on a scalar's exact value
 * (a pointer offset, a helper size, a decided branch), we walk back along
 * the path, through the instructions that computed it, and mark the
 * registers and spilled slots it came from precise in every saved state on
 * the way. Only then may a saved state stand in for a later one.
 */
import type { Insn } from '../ebpf/insn.js';
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_CALL,
  BPF_END,
  BPF_EXIT,
  BPF_JMP,
  BPF_JMP32,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_MOV,
  BPF_NEG,
  BPF_PSEUDO_CALL,
  BPF_ST,
  BPF_STX,
  BPF_X,
  insnClass,
  modeOf,
  BPF_ABS,
  BPF_IND,
} from '../ebpf/opcodes.js';
import type { LinkedReg } from './check-branch.js';
import { isSpilledScalar, slotAt, type VerifierState } from './verifier-state.js';

/**
 * One recorded step of a path segment: an instruction reached other than
 * from the one before it, or one whose stack slot or linked scalars
 * backtracking needs to know (the kernel's jmp_history entry).
 */
export interface HistEntry {
  readonly idx: number;
  /** The instruction processed before this one. */
  readonly prev: number;
  /** Fixed-offset stack slot this instruction spilled to or filled from. */
  stack?: { frame: number; spi: number };
  /** Scalars sharing a link id at a conditional jump. */
  linked?: LinkedReg[];
  /** The entry before this one in the same segment. */
  readonly older: HistEntry | null;
}

/** A stretch of a path between two saved states. */
export interface Segment {
  /** The instruction the segment starts at (the saved state it hangs off was taken there). */
  firstInsn: number;
  history: HistEntry | null;
  parent: Checkpoint | null;
}

/** A saved state (the kernel's explored state list entry). */
export interface Checkpoint extends Segment {
  readonly insn: number;
  /** The instruction processed just before reaching `insn`. */
  readonly lastInsn: number;
  readonly state: VerifierState;
  /** Live paths still exploring below this state; 0 means fully verified. */
  branches: number;
  /** Per frame: bit r set when the scalar in register r must match exactly. */
  preciseRegs: number[];
  /** Per frame: spilled-scalar slots (spi) that must match exactly. */
  preciseSlots: Set<number>[];
  /** Every scalar is precise (backtracking gave up, or the target needs exact facts). */
  allPrecise: boolean;
  hits: number;
  misses: number;
  evicted: boolean;
  /** Stack slots (slotKey) something verified below this state read before writing them; only these matter when comparing. */
  readSlots: Set<number>;
  /** Slots fully written in the segment that led to this state: reads below it do not reach further up. */
  segmentWritten: Set<number>;
}

/** What still needs a defining instruction, per frame. */
export class Backtrack {
  frame: number;
  regs: number[];
  /** Slot sets per frame, made when first needed (most marks are registers only). */
  slots: (Set<number> | undefined)[];

  constructor(frame: number) {
    this.frame = frame;
    this.regs = new Array(frame + 1).fill(0);
    this.slots = new Array(frame + 1);
  }

  private ensure(fr: number): void {
    while (this.regs.length <= fr) {
      this.regs.push(0);
      this.slots.push(undefined);
    }
  }

  setReg(r: number, fr = this.frame): void {
    this.ensure(fr);
    this.regs[fr] |= 1 << r;
  }

  clearReg(r: number, fr = this.frame): void {
    this.ensure(fr);
    this.regs[fr] &= ~(1 << r);
  }

  hasReg(r: number, fr = this.frame): boolean {
    return fr < this.regs.length && (this.regs[fr] & (1 << r)) !== 0;
  }

  setSlot(fr: number, spi: number): void {
    this.ensure(fr);
    (this.slots[fr] ??= new Set()).add(spi);
  }

  hasSlot(fr: number, spi: number): boolean {
    return this.slots[fr]?.has(spi) ?? false;
  }

  clearSlot(fr: number, spi: number): void {
    this.slots[fr]?.delete(spi);
  }

  slotCount(fr: number): number {
    return this.slots[fr]?.size ?? 0;
  }

  empty(): boolean {
    for (let fr = 0; fr < this.regs.length; fr++) if (this.regs[fr] !== 0 || this.slotCount(fr) !== 0) return false;
    return true;
  }
}

const ARG_REGS = 0b111110;

type StepResult = 'ok' | 'give-up';

/** Links registers learned together at a conditional jump: if one must be exact, so must all. */
function syncLinked(bt: Backtrack, entry: HistEntry | null): void {
  if (!entry?.linked) return;
  const any = entry.linked.some((e) => (e.reg !== undefined ? bt.hasReg(e.reg, e.frame) : bt.hasSlot(e.frame, e.spi!)));
  if (!any) return;
  for (const e of entry.linked) {
    if (e.reg !== undefined) bt.setReg(e.reg, e.frame);
    else bt.setSlot(e.frame, e.spi!);
  }
}

/** backtrack_insn: what instruction `idx` needed of the state before it, given what was needed after it. */
function backtrackInsn(insns: readonly Insn[], idx: number, subseq: number, entry: HistEntry | null, bt: Backtrack): StepResult {
  const insn = insns[idx];
  if (insn.code === 0) return 'ok'; // the second half of an ld_imm64
  const cls = insnClass(insn.code);
  const op = insn.code & 0xf0;
  const dreg = insn.dst;
  const sreg = insn.src;
  syncLinked(bt, entry);
  if (cls === BPF_ALU || cls === BPF_ALU64) {
    if (!bt.hasReg(dreg)) return 'ok';
    if (op === BPF_END || op === BPF_NEG) return 'ok';
    if (op === BPF_MOV) {
      bt.clearReg(dreg);
      if ((insn.code & 0x08) === BPF_X && sreg !== 10) bt.setReg(sreg);
    } else if ((insn.code & 0x08) === BPF_X && sreg !== 10) {
      bt.setReg(sreg);
    }
  } else if (cls === BPF_LDX) {
    if (!bt.hasReg(dreg)) return 'ok';
    bt.clearReg(dreg);
    // A fill from the stack: the spilled value must be exact.
    if (entry?.stack) bt.setSlot(entry.stack.frame, entry.stack.spi);
    return 'ok';
  } else if (cls === BPF_STX || cls === BPF_ST) {
    // A scalar base register would be a pointer subtraction result used as an address.
    if (bt.hasReg(dreg)) return 'give-up';
    if (!entry?.stack) return 'ok';
    const { frame, spi } = entry.stack;
    if (!bt.hasSlot(frame, spi)) return 'ok';
    bt.clearSlot(frame, spi);
    if (cls === BPF_STX) bt.setReg(sreg);
  } else if (cls === BPF_JMP || cls === BPF_JMP32) {
    if (insn.code === (BPF_JMP | BPF_CALL)) {
      if (insn.src === BPF_PSEUDO_CALL) {
        // Back from the callee's first instruction to the call: only arguments can remain.
        if ((bt.regs[bt.frame] & ~ARG_REGS) !== 0 || bt.slotCount(bt.frame) !== 0) return 'give-up';
        if (bt.frame === 0) return 'give-up';
        for (let r = 1; r <= 5; r++) {
          if (bt.hasReg(r)) {
            bt.clearReg(r);
            bt.setReg(r, bt.frame - 1);
          }
        }
        bt.regs.length = bt.frame;
        bt.slots.length = bt.frame;
        bt.frame--;
        return 'ok';
      }
      // A helper sets R0; its arguments were found before the call.
      bt.clearReg(0);
      if (bt.regs[bt.frame] & ARG_REGS) return 'give-up';
    } else if (insn.code === (BPF_JMP | BPF_EXIT)) {
      if (bt.regs[bt.frame] & ARG_REGS) return 'give-up';
      // Back into a callee through its exit: R0 came from it.
      const r0 = subseq - 1 >= 0 && insns[subseq - 1].code === (BPF_JMP | BPF_CALL) && insns[subseq - 1].src === BPF_PSEUDO_CALL && bt.hasReg(0);
      bt.clearReg(0);
      bt.frame++;
      bt.clearReg(0, bt.frame);
      if (r0) bt.setReg(0, bt.frame);
      return 'ok';
    } else if ((insn.code & 0x08) === BPF_X && (op !== 0x00)) {
      if (!bt.hasReg(dreg) && !bt.hasReg(sreg)) return 'ok';
      bt.setReg(sreg);
      bt.setReg(dreg);
    } else if ((insn.code & 0x08) === BPF_K) {
      // dreg <cond> K: nothing new.
    }
  } else if (cls === BPF_LD) {
    if (!bt.hasReg(dreg)) return 'ok';
    bt.clearReg(dreg);
    const mode = modeOf(insn.code);
    if (mode === BPF_ABS || mode === BPF_IND) return 'give-up';
  }
  syncLinked(bt, entry);
  return 'ok';
}

/** The instruction before `i` in the segment, or undefined at its start (get_prev_insn_idx). */
function previous(seg: { firstInsn: number }, i: number, hist: { entry: HistEntry | null }): number | undefined {
  const h = hist.entry;
  if (i === seg.firstInsn) {
    if (h === null) return undefined;
    if (h.idx === i && h.older === null) return undefined;
  }
  if (h && h.idx === i) {
    hist.entry = h.older;
    return h.prev;
  }
  return i - 1;
}

/** Mark every scalar of every state on the path precise (the kernel's fallback when backtracking cannot follow a value). */
export function markAllPrecise(start: Segment): void {
  for (let cp = start.parent; cp; cp = cp.parent) cp.allPrecise = true;
}

function markInCheckpoint(cp: Checkpoint, bt: Backtrack): void {
  for (let fr = bt.frame; fr >= 0; fr--) {
    const frame = cp.state.frames[fr];
    if (!frame) continue;
    while (cp.preciseRegs.length <= fr) {
      cp.preciseRegs.push(0);
      cp.preciseSlots.push(new Set());
    }
    for (let r = 0; r < 10; r++) {
      if (!bt.hasReg(r, fr)) continue;
      if (frame.regs[r].type !== 'scalar' || cp.allPrecise || cp.preciseRegs[fr] & (1 << r)) {
        bt.clearReg(r, fr);
      } else {
        cp.preciseRegs[fr] |= 1 << r;
      }
    }
    const slots = bt.slots[fr];
    if (slots) {
      for (const spi of [...slots]) {
        const slot = slotAt(frame, spi);
        if (!isSpilledScalar(slot) || cp.allPrecise || cp.preciseSlots[fr].has(spi)) bt.clearSlot(fr, spi);
        else cp.preciseSlots[fr].add(spi);
      }
    }
  }
}

/**
 * Walk back from instruction `curInsn` of the path segment `start` (the
 * current path, not itself a saved state) marking what `bt` asks for.
 */
export function markChainPrecision(insns: readonly Insn[], start: Segment, curInsn: number, bt: Backtrack): void {
  if (bt.empty()) return;
  let seg: Segment = start;
  let last = curInsn;
  let subseq = -1;
  let skipFirst = true;
  for (;;) {
    const hist = { entry: seg.history };
    let i: number | undefined = last;
    while (i !== undefined) {
      if (skipFirst) {
        skipFirst = false;
      } else {
        const entry = hist.entry && hist.entry.idx === i ? hist.entry : null;
        if (backtrackInsn(insns, i, subseq, entry, bt) === 'give-up') {
          markAllPrecise(start);
          return;
        }
      }
      if (bt.empty()) return;
      subseq = i;
      i = previous(seg, i, hist);
      if (i !== undefined && (i < 0 || i >= insns.length)) {
        markAllPrecise(start);
        return;
      }
    }
    const parent = seg.parent;
    if (!parent) break;
    markInCheckpoint(parent, bt);
    if (bt.empty()) return;
    subseq = seg.firstInsn;
    last = parent.lastInsn;
    seg = parent;
    if (last < 0) break;
  }
  if (!bt.empty()) markAllPrecise(start);
}

