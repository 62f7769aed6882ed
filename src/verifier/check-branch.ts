/**
 * Conditional jumps (check_cond_jmp_op): which ways a jump can go, what
 * each side learns about scalars (through the scalar domain) and about
 * pointers (null checks, packet ranges proven against data_end), and how
 * the knowledge reaches every copy of a register.
 */
import type { Insn } from '../ebpf/insn.js';
import {
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JLE,
  BPF_JLT,
  BPF_JMP32,
  BPF_JNE,
  BPF_JSET,
  BPF_JSGE,
  BPF_JSGT,
  BPF_JSLE,
  BPF_JSLT,
  BPF_K,
  type OpcodeInfo,
} from '../ebpf/opcodes.js';
import { MAX_PACKET_OFF } from './check-memory.js';
import {
  AT_PKT_END,
  BEYOND_PKT_END,
  constReg,
  hasZeroVarOff,
  isNonNullPointer,
  isPointer,
  withReg,
  type RegState,
} from './register-state.js';
import { scalarAlu, scalarBranch, scalarConst, scalarConstValue, type ScalarJmpOp } from './scalar-range.js';
import type { VerifierEnv } from './verifier-env.js';
import { cloneState, curFrame, isSpilled, mapAllRegs, type VerifierState } from './verifier-state.js';

const JMP_OP: Record<number, ScalarJmpOp> = {
  [BPF_JEQ]: 'jeq',
  [BPF_JNE]: 'jne',
  [BPF_JGT]: 'jgt',
  [BPF_JGE]: 'jge',
  [BPF_JLT]: 'jlt',
  [BPF_JLE]: 'jle',
  [BPF_JSGT]: 'jsgt',
  [BPF_JSGE]: 'jsge',
  [BPF_JSLT]: 'jslt',
  [BPF_JSLE]: 'jsle',
  [BPF_JSET]: 'jset',
};

/** The same comparison with the operands swapped. */
const FLIPPED: Record<number, number> = {
  [BPF_JEQ]: BPF_JEQ,
  [BPF_JNE]: BPF_JNE,
  [BPF_JSET]: BPF_JSET,
  [BPF_JGT]: BPF_JLT,
  [BPF_JGE]: BPF_JLE,
  [BPF_JLT]: BPF_JGT,
  [BPF_JLE]: BPF_JGE,
  [BPF_JSGT]: BPF_JSLT,
  [BPF_JSGE]: BPF_JSLE,
  [BPF_JSLT]: BPF_JSGT,
  [BPF_JSLE]: BPF_JSGE,
};

/** A register or spilled slot sharing a scalar link id (collect_linked_regs). */
export interface LinkedReg {
  frame: number;
  reg?: number;
  spi?: number;
}

export interface BranchResult {
  /** 1: always taken, 0: never taken, -1: both ways. */
  pred: 1 | 0 | -1;
  /** When pred is -1: the state on the taken side (the current state becomes the fall-through side). */
  taken?: VerifierState;
  /** Scalars linked to the compared ones (for precision backtracking). */
  linked?: LinkedReg[];
}

function isPacketAny(r: RegState): boolean {
  return r.type === 'packet' || r.type === 'packet_meta' || r.type === 'packet_end';
}

/** is_pkt_ptr_branch_taken: a pointer already known to lie at or beyond pkt_end decides later comparisons. */
function packetBranchTaken(dst: RegState, src: RegState, op: number): 1 | 0 | -1 {
  let pkt: RegState;
  if (src.type === 'packet_end') pkt = dst;
  else if (dst.type === 'packet_end') {
    pkt = src;
    op = FLIPPED[op];
  } else return -1;
  if (pkt.range >= 0) return -1;
  switch (op) {
    case BPF_JLE:
    case BPF_JGT:
      // At least one byte beyond the end.
      if (pkt.range === BEYOND_PKT_END) return op === BPF_JGT ? 1 : 0;
      break;
    case BPF_JLT:
    case BPF_JGE:
      if (pkt.range === BEYOND_PKT_END || pkt.range === AT_PKT_END) return op === BPF_JGE ? 1 : 0;
      break;
  }
  return -1;
}

type ScalarSides = ReturnType<typeof scalarBranch>;

/** is_branch_taken; for two scalars `sides` receives the domain's refinement, reused for the two states. */
function branchTaken(dst: RegState, src: RegState, op: number, is32: boolean, sides: { r?: ScalarSides }): 1 | 0 | -1 {
  if (isPacketAny(dst) && isPacketAny(src) && !is32) return packetBranchTaken(dst, src, op);
  if (isPointer(dst) || isPointer(src)) {
    let ptr = dst;
    let other = src;
    if (!(other.type === 'scalar' && constOf(other, is32) !== undefined)) {
      op = FLIPPED[op];
      ptr = src;
      other = dst;
    }
    if (!(other.type === 'scalar')) return -1;
    const c = constOf(other, is32);
    if (c === undefined || !isNonNullPointer(ptr) || c !== 0n) return -1;
    if (op === BPF_JEQ) return 0;
    if (op === BPF_JNE) return 1;
    return -1;
  }
  const a = constOf(dst, is32);
  const b = constOf(src, is32);
  if (a !== undefined && b !== undefined) return compareConstants(op, a, b, is32) ? 1 : 0;
  const r = scalarBranch(JMP_OP[op], dst.value, src.value, is32);
  sides.r = r;
  if (r.taken === null) return 0;
  if (r.fallthrough === null) return 1;
  return -1;
}

/** The comparison on two known values (unsigned values of the compared width). */
function compareConstants(op: number, a: bigint, b: bigint, is32: boolean): boolean {
  const bits = is32 ? 32 : 64;
  const sa = BigInt.asIntN(bits, a);
  const sb = BigInt.asIntN(bits, b);
  switch (op) {
    case BPF_JEQ:
      return a === b;
    case BPF_JNE:
      return a !== b;
    case BPF_JGT:
      return a > b;
    case BPF_JGE:
      return a >= b;
    case BPF_JLT:
      return a < b;
    case BPF_JLE:
      return a <= b;
    case BPF_JSGT:
      return sa > sb;
    case BPF_JSGE:
      return sa >= sb;
    case BPF_JSLT:
      return sa < sb;
    case BPF_JSLE:
      return sa <= sb;
    case BPF_JSET:
      return (a & b) !== 0n;
    default:
      return false;
  }
}

function constOf(reg: RegState, is32: boolean): bigint | undefined {
  const c = scalarConstValue(reg.value);
  if (c !== undefined) return is32 ? c & 0xffffffffn : c;
  if (!is32) return undefined;
  const v = reg.value;
  return v.u32min === v.u32max ? v.u32min : undefined;
}

/** collect_linked_regs: every register and spilled slot carrying scalar link `id`. */
function collectLinked(state: VerifierState, id: number, into: LinkedReg[]): void {
  state.frames.forEach((f, frame) => {
    for (let r = 0; r < 10; r++) {
      const reg = f.regs[r];
      if (reg.type === 'scalar' && reg.id === id && !into.some((e) => e.frame === frame && e.reg === r)) into.push({ frame, reg: r });
    }
    f.slots.forEach((slot, spi) => {
      if (slot && isSpilled(slot) && slot.spilled!.type === 'scalar' && slot.spilled!.id === id && !into.some((e) => e.frame === frame && e.spi === spi)) {
        into.push({ frame, spi });
      }
    });
  });
}

/**
 * sync_linked_regs: every scalar sharing `known`'s link id learns the range
 * `known` just learned, shifted by the difference of their deltas.
 */
function syncLinked(state: VerifierState, known: RegState): void {
  if (known.type !== 'scalar' || known.id === 0) return;
  const knownDelta = known.delta ? known.off : 0;
  mapAllRegs(state, (reg) => {
    if (reg.type !== 'scalar' || reg.id !== known.id || reg === known) return undefined;
    const regDelta = reg.delta ? reg.off : 0;
    if ((!reg.delta && !known.delta) || reg.off === known.off) return withReg(known, { subregDef: reg.subregDef });
    const value = scalarAlu('add', known.value, scalarConst(BigInt(regDelta - knownDelta)), false);
    return withReg(known, { value, off: reg.off, delta: reg.delta, subregDef: reg.subregDef });
  });
}

/** mark_ptr_or_null_regs: a null check converts every copy of the pointer. */
function markPointerOrNull(state: VerifierState, regno: number, isNull: boolean): void {
  const reg = curFrame(state).regs[regno];
  const id = reg.id;
  if (id === 0) return;
  if (isNull && reg.refId !== 0 && reg.refId === id) {
    // On the NULL side there is nothing to release.
    state.refs = state.refs.filter((r) => r.id !== id);
  }
  mapAllRegs(state, (r) => {
    if (!r.maybeNull || r.id !== id) return undefined;
    if (isNull) return constReg(0n);
    return withReg(r, { maybeNull: false, id: 0 });
  });
}

/**
 * find_good_pkt_pointers: on the side where `reg` (same id as its copies)
 * is known to lie at or before the end, every copy gets the checked range.
 */
function findGoodPacketPointers(state: VerifierState, reg: RegState, rightOpen: boolean): void {
  if (reg.off < 0 || (reg.off === 0 && rightOpen)) return;
  if (reg.value.umax > BigInt(MAX_PACKET_OFF) || reg.value.umax + BigInt(reg.off) > BigInt(MAX_PACKET_OFF)) return;
  const range = reg.off + (rightOpen ? 1 : 0);
  mapAllRegs(state, (r) => (r.type === reg.type && r.id === reg.id && r.range < range ? withReg(r, { range }) : undefined));
}

/** mark_pkt_end: the pointer is at (>=) or beyond (>) the end; later comparisons of it are decided. */
function markPacketEnd(state: VerifierState, regno: number, beyond: boolean): void {
  const f = curFrame(state);
  const reg = f.regs[regno];
  if (reg.type !== 'packet') return;
  f.regs[regno] = withReg(reg, { range: beyond ? BEYOND_PKT_END : AT_PKT_END });
}

/** reg_is_init_pkt_pointer: data itself (no offset), which bounds data_meta. */
function isInitPacket(reg: RegState): boolean {
  return reg.type === 'packet' && reg.off === 0 && hasZeroVarOff(reg);
}

/**
 * try_match_pkt_pointers: pkt' against pkt_end (or pkt_meta' against pkt),
 * in all four comparisons and both operand orders. `fall` is the current
 * state (the fall-through side), `taken` the jump side.
 */
function matchPacketPointers(insn: Insn, op: number, is32: boolean, fall: VerifierState, taken: VerifierState): boolean {
  if (is32) return false;
  const dst = curFrame(fall).regs[insn.dst];
  const src = curFrame(fall).regs[insn.src];
  const dstIsData = (dst.type === 'packet' && src.type === 'packet_end') || (dst.type === 'packet_meta' && isInitPacket(src));
  const srcIsData = (dst.type === 'packet_end' && src.type === 'packet') || (isInitPacket(dst) && src.type === 'packet_meta');
  if (!dstIsData && !srcIsData) return false;
  switch (op) {
    case BPF_JGT:
      if (dstIsData) {
        findGoodPacketPointers(fall, dst, false);
        markPacketEnd(taken, insn.dst, true);
      } else {
        findGoodPacketPointers(taken, src, true);
        markPacketEnd(fall, insn.src, false);
      }
      return true;
    case BPF_JLT:
      if (dstIsData) {
        findGoodPacketPointers(taken, dst, true);
        markPacketEnd(fall, insn.dst, false);
      } else {
        findGoodPacketPointers(fall, src, false);
        markPacketEnd(taken, insn.src, true);
      }
      return true;
    case BPF_JGE:
      if (dstIsData) {
        findGoodPacketPointers(fall, dst, true);
        markPacketEnd(taken, insn.dst, false);
      } else {
        findGoodPacketPointers(taken, src, false);
        markPacketEnd(fall, insn.src, true);
      }
      return true;
    case BPF_JLE:
      if (dstIsData) {
        findGoodPacketPointers(taken, dst, false);
        markPacketEnd(fall, insn.dst, true);
      } else {
        findGoodPacketPointers(fall, src, true);
        markPacketEnd(taken, insn.src, false);
      }
      return true;
    default:
      return false;
  }
}

/**
 * One conditional jump (not may_goto). The operands were checked readable by
 * the caller. On pred -1 `taken` is a copy refined for the jump side and the
 * current state has been refined for the fall-through side.
 */
export function checkCondJump(env: VerifierEnv, insn: Insn, info: OpcodeInfo): BranchResult {
  const op = info.op;
  const is32 = info.cls === BPF_JMP32;
  const isK = info.source === BPF_K;
  const dst = env.reg(insn.dst);
  const src = isK ? constReg(BigInt(insn.imm)) : env.reg(insn.src);
  if (!isK && env.unprivileged && !(isPacketAny(dst) && isPacketAny(src)) && isPointer(src)) {
    env.refuse('NC4098', { detail: `R${insn.src} pointer comparison prohibited` }, `R${insn.src} pointer comparison prohibited`);
  }
  const sides: { r?: ScalarSides } = {};
  const pred = branchTaken(dst, src, op, is32, sides);
  if (pred >= 0) {
    // The decision rests on the scalars' values: they must stay exact in earlier states.
    const precise: number[] = [];
    if (dst.type === 'scalar') precise.push(insn.dst);
    if (!isK && src.type === 'scalar') precise.push(insn.src);
    if (precise.length) env.markPreciseRegs(precise);
    return { pred: pred as 1 | 0 };
  }
  const linked: LinkedReg[] = [];
  if (!isK && src.type === 'scalar' && src.id) collectLinked(env.state, src.id, linked);
  if (dst.type === 'scalar' && dst.id) collectLinked(env.state, dst.id, linked);
  const fall = env.state;
  const taken = cloneState(fall);
  const fallRegs = curFrame(fall).regs;
  const takenRegs = curFrame(taken).regs;
  if (dst.type === 'scalar' && src.type === 'scalar' && !(!isK && insn.src === insn.dst)) {
    const r = sides.r ?? scalarBranch(JMP_OP[op], dst.value, src.value, is32);
    if (r.taken) {
      takenRegs[insn.dst] = withReg(dst, { value: r.taken[0] });
      if (!isK) takenRegs[insn.src] = withReg(src, { value: r.taken[1] });
    }
    if (r.fallthrough) {
      fallRegs[insn.dst] = withReg(dst, { value: r.fallthrough[0] });
      if (!isK) fallRegs[insn.src] = withReg(src, { value: r.fallthrough[1] });
    }
    if (!isK && src.id) {
      syncLinked(fall, fallRegs[insn.src]);
      syncLinked(taken, takenRegs[insn.src]);
    }
    if (dst.id) {
      syncLinked(fall, fallRegs[insn.dst]);
      syncLinked(taken, takenRegs[insn.dst]);
    }
  }
  // A maybe-NULL pointer compared with a non-NULL one is not NULL where they are equal.
  if (!is32 && !isK && isPointer(src) && isPointer(dst) && src.maybeNull !== dst.maybeNull) {
    const eqSide = op === BPF_JEQ ? taken : op === BPF_JNE ? fall : undefined;
    if (eqSide) {
      const regno = src.maybeNull ? insn.src : insn.dst;
      const r = curFrame(eqSide).regs[regno];
      curFrame(eqSide).regs[regno] = withReg(r, { maybeNull: false });
    }
  }
  if (!is32 && isK && insn.imm === 0 && (op === BPF_JEQ || op === BPF_JNE) && dst.maybeNull) {
    markPointerOrNull(fall, insn.dst, op === BPF_JNE);
    markPointerOrNull(taken, insn.dst, op === BPF_JEQ);
  } else if (!isK && !matchPacketPointers(insn, op, is32, fall, taken) && isPointer(dst) && env.unprivileged) {
    env.refuse('NC4098', { detail: `R${insn.dst} pointer comparison prohibited` }, `R${insn.dst} pointer comparison prohibited`);
  }
  return { pred: -1, taken, linked: linked.length > 1 ? linked : undefined };
}

