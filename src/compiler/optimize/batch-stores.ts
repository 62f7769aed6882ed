/**
 * Pass `batch-stores`: packet stores through one pointer that together cover
 * up to 8 contiguous bytes become one CPP write instead of one each (every
 * write sleeps the context for a CTM round trip). Each member store drops its
 * bytes into a scratch GPR where it stands (so it reads its source register
 * at the right moment); the last member writes the whole block.
 *
 * Delaying the earlier stores to the last one is unobservable because nothing
 * between them looks at packet memory or leaves straight-line code: no packet
 * load, no other packet store, no call, jump, exit or jump target, and the
 * pointer register is not written. Members are 1, 2 or 4 bytes, write
 * disjoint bytes, and none straddles a 4-byte word of the block.
 */
import type { Insn } from '../../ebpf/insn.js';
import { BPF_JMP, BPF_JMP32, BPF_LD, BPF_LDX, BPF_MEM, BPF_ST, BPF_STX } from '../../ebpf/opcodes.js';
import type { LoweringFacts } from '../lowering-facts.js';
import { accessBytes, jumpTargets } from '../packet-cache.js';

/** GPRs (both banks free) the block is assembled in: no other lowering touches 23 and up. */
export const BATCH_SCRATCH_GPRS = [23, 24] as const;

export interface StoreBatchMember {
  /** Byte of the block this store's bytes start at, and how many. */
  at: number;
  bytes: number;
  /** The last member writes the block. */
  last: boolean;
  /** Block start (packet offset from the pointer register) and length. */
  blockOff: number;
  blockLength: number;
}

const cls = (code: number): number => code & 0x07;
const width = accessBytes;

interface Candidate {
  index: number;
  off: number;
  bytes: number;
}

/** A further store keeps the block within 8 bytes and overlaps no member (else the block closes before it). */
function fits(members: readonly Candidate[], next: Candidate): boolean {
  const lo = Math.min(next.off, ...members.map((m) => m.off));
  const hi = Math.max(next.off + next.bytes, ...members.map((m) => m.off + m.bytes));
  return hi - lo <= 8 && members.every((m) => m.off + m.bytes <= next.off || next.off + next.bytes <= m.off);
}

/** The longest prefix (at least two stores) that forms a valid block. */
function validPrefix(members: readonly Candidate[]): { members: Candidate[]; lo: number; length: number } | undefined {
  for (let n = members.length; n >= 2; n--) {
    const set = members.slice(0, n);
    const lo = Math.min(...set.map((m) => m.off));
    const hi = Math.max(...set.map((m) => m.off + m.bytes));
    if (hi - lo > 8) continue;
    const covered = new Uint8Array(hi - lo);
    let ok = true;
    for (const m of set) {
      const at = m.off - lo;
      if ((at % 4) + m.bytes > 4) ok = false;
      for (let b = at; b < at + m.bytes; b++) {
        if (covered[b]) ok = false;
        covered[b] = 1;
      }
    }
    if (ok && covered.every((c) => c === 1)) return { members: set, lo, length: hi - lo };
  }
  return undefined;
}

/** Member stores by instruction index. */
export function planStoreBatches(insns: readonly Insn[], facts: LoweringFacts): Map<number, StoreBatchMember> {
  const plan = new Map<number, StoreBatchMember>();
  const targets = jumpTargets(insns);
  let open: { base: number; id: number | undefined; off: number | undefined; members: Candidate[] } | undefined;
  const close = (): void => {
    if (!open) return;
    const block = validPrefix(open.members);
    if (block) {
      block.members.forEach((m, k) => {
        plan.set(m.index, { at: m.off - block.lo, bytes: m.bytes, last: k === block.members.length - 1, blockOff: block.lo, blockLength: block.length });
      });
    }
    open = undefined;
  };
  for (let i = 0; i < insns.length; i++) {
    if (insns[i - 1]?.slots === 2) continue;
    const insn = insns[i]!;
    const f = facts.insns[i];
    const c = cls(insn.code);
    if (targets.has(i)) close();
    const packetStore = (c === BPF_STX || c === BPF_ST) && (insn.code & 0xe0) === BPF_MEM && f?.ptr === 'pkt';
    if (packetStore) {
      const member = c === BPF_STX && width(insn.code) <= 4;
      const next = { index: i, off: insn.off, bytes: width(insn.code) };
      if (member && open && open.base === insn.dst && open.id === f.id && open.off === f.off && fits(open.members, next)) {
        open.members.push(next);
        continue;
      }
      close();
      if (member) open = { base: insn.dst, id: f.id, off: f.off, members: [{ index: i, off: insn.off, bytes: width(insn.code) }] };
      continue;
    }
    if (!open) continue;
    const packetLoad = (c === BPF_LDX && f?.ptr === 'pkt') || c === BPF_LD && (insn.code & 0xe0) !== 0;
    const leaves = c === BPF_JMP || c === BPF_JMP32;
    const writesBase = (c === 0x04 || c === 0x07 || c === BPF_LDX || (c === BPF_LD && insn.slots === 2)) && insn.dst === open.base;
    if (packetLoad || leaves || writesBase) close();
  }
  close();
  return plan;
}

const plans = new WeakMap<readonly Insn[], Map<number, StoreBatchMember>>();

/** The plan for a program, computed once per instruction array. */
export function storeBatchesOf(insns: readonly Insn[], facts: LoweringFacts): Map<number, StoreBatchMember> {
  let plan = plans.get(insns);
  if (!plan) {
    plan = planStoreBatches(insns, facts);
    plans.set(insns, plan);
  }
  return plan;
}
