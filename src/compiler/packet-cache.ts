/**
 * The kernel JIT's whole-program passes that decide how memory instructions
 * lower (nfp-microcode.md E passes 1, 3-6): context-copy removal, LD_ABS/IND
 * mask and shift-pair removal, load/store gathering and the packet cache.
 * They run once before lowering; the result is a skip set plus a per-slot
 * plan the packet lowerings read back (keyed by the program's insn array).
 */
import type { Insn } from '../ebpf/insn.js';
import {
  BPF_ABS,
  BPF_ALU64,
  BPF_AND,
  BPF_B,
  BPF_CALL,
  BPF_EXIT,
  BPF_H,
  BPF_IND,
  BPF_JMP,
  BPF_JMP32,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LSH,
  BPF_MEM,
  BPF_MOV,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_W,
  BPF_X,
  BPF_XOR,
} from '../ebpf/opcodes.js';
import type { LoweringFacts, LoweringInsnFacts } from './lowering-facts.js';

/** A gathered copy, recorded on its head load. `length` < 0: descending offsets. */
export interface GatherPlan {
  length: number;
  loadOff: number;
  storeOff: number;
  storeBase: number;
}

export interface PacketCachePlan {
  rangeStart: number;
  rangeEnd: number;
  /** This load issues the read that fills the cache. */
  fill: boolean;
}

export interface MemoryPlan {
  skipped: Set<number>;
  gather: Map<number, GatherPlan>;
  cache: Map<number, PacketCachePlan>;
}

const plans = new WeakMap<readonly Insn[], MemoryPlan>();

export function memoryPlanOf(insns: readonly Insn[]): MemoryPlan | undefined {
  return plans.get(insns);
}

const cls = (code: number): number => code & 0x07;
const mode = (code: number): number => code & 0xe0;
const sizeBits = (code: number): number => code & 0x18;

export function accessBytes(code: number): number {
  switch (sizeBits(code)) {
    case BPF_B:
      return 1;
    case BPF_H:
      return 2;
    case BPF_W:
      return 4;
    default:
      return 8;
  }
}

const isLoad = (i: Insn): boolean => cls(i.code) === BPF_LDX && mode(i.code) === BPF_MEM;
const isStore = (i: Insn): boolean => cls(i.code) === BPF_STX && mode(i.code) === BPF_MEM;
const isClassicLoad = (i: Insn): boolean => cls(i.code) === BPF_LD && (mode(i.code) === BPF_ABS || mode(i.code) === BPF_IND);
const isImmStore = (i: Insn): boolean => cls(i.code) === BPF_ST && mode(i.code) === BPF_MEM;

/** Slots some jump or bpf-to-bpf call lands on (helper calls and exits excluded). */
export function jumpTargets(insns: readonly Insn[]): Set<number> {
  const targets = new Set<number>();
  insns.forEach((insn, i) => {
    if (insns[i - 1]?.slots === 2) return;
    const c = cls(insn.code);
    if (c !== BPF_JMP && c !== BPF_JMP32) return;
    const op = insn.code & 0xf0;
    if (op === BPF_EXIT) return;
    if (op === BPF_CALL) {
      if (insn.src === 1) targets.add(i + 1 + insn.imm);
      return;
    }
    targets.add(i + 1 + insn.off);
  });
  return targets;
}

/** Leading `r6 = r1` (after cBPF-style `rX ^= rX`) emits nothing. */
function dropContextCopy(insns: readonly Insn[], skipped: Set<number>): void {
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    if (insn.code === (BPF_ALU64 | BPF_XOR | BPF_X) && insn.src === insn.dst) continue;
    if (insn.code === (BPF_ALU64 | BPF_MOV | BPF_X) && insn.src === 1 && insn.dst === 6) {
      skipped.add(i);
      continue;
    }
    return;
  }
}

/** LD_ABS/IND already zero the unloaded bytes: a matching mask or W shift pair is dropped. */
function dropClassicLoadCleanup(insns: readonly Insn[], targets: Set<number>, skipped: Set<number>): void {
  const masks: Record<number, number> = { [BPF_B]: 0xff, [BPF_H]: 0xffff, [BPF_W]: -1 };
  for (let i = 0; i + 1 < insns.length; i++) {
    const insn = insns[i]!;
    const next = insns[i + 1]!;
    if (!isClassicLoad(insn)) continue;
    const mask = masks[sizeBits(insn.code)];
    if (next.code !== (BPF_ALU64 | BPF_AND | BPF_K) || mask === undefined || next.imm !== mask) continue;
    if (next.src || next.dst || targets.has(i + 1)) continue;
    skipped.add(i + 1);
  }
  const lsh = BPF_ALU64 | BPF_LSH | BPF_K;
  const rsh = BPF_ALU64 | BPF_RSH | BPF_K;
  for (let i = 0; i + 2 < insns.length; i++) {
    const insn = insns[i]!;
    const a = insns[i + 1]!;
    const b = insns[i + 2]!;
    if (!isClassicLoad(insn) || sizeBits(insn.code) !== BPF_W) continue;
    // Only `<<= 32; >>= 32` is a no-op after a 32-bit load; the kernel also drops `>>= 32; <<= 32`,
    // which yields 0 (spec E.3 item 2): nicoff keeps that pair (docs/COMPILER.md).
    if (!(a.code === lsh && b.code === rsh)) continue;
    if (a.src || a.dst || b.src || b.dst || a.imm !== 32 || b.imm !== 32) continue;
    if (targets.has(i + 1) || targets.has(i + 2)) continue;
    skipped.add(i + 1);
    skipped.add(i + 2);
  }
}

interface GatherState {
  headLoad: number;
  headStore: number;
  prevLoad: number;
  prevStore: number;
  count: number;
  length: number;
}

/** Runs of `ldx R,[a+o]; stx [b+p],R` pairs become one CPP read and write (E.5). */
function gatherCopies(insns: readonly Insn[], facts: (LoweringInsnFacts | undefined)[], targets: Set<number>, skipped: Set<number>, gather: Map<number, GatherPlan>): void {
  const isCopyPair = (l: number, s: number): boolean => {
    const ld = insns[l]!;
    const st = insns[s]!;
    if (!isLoad(ld) || !isStore(st)) return false;
    const lp = facts[l]?.ptr;
    if (lp !== 'pkt' && lp !== 'map') return false;
    if (facts[s]?.ptr !== 'pkt') return false;
    if (sizeBits(ld.code) !== sizeBits(st.code) || ld.dst !== st.src) return false;
    return !targets.has(s);
  };
  const chains = (l: number, s: number, g: GatherState | undefined): boolean => {
    if (!g) return true;
    const ld = insns[l]!;
    const st = insns[s]!;
    const pl = insns[g.prevLoad]!;
    const ps = insns[g.prevStore]!;
    const size = accessBytes(pl.code);
    if (ld.dst !== pl.dst || ld.src !== pl.src || st.dst !== ps.dst) return false;
    if (accessBytes(ld.code) !== size || targets.has(l)) return false;
    if (pl.off + size === ld.off && ps.off + size === st.off) return true;
    return ld.off + size === pl.off && st.off + size === ps.off;
  };
  // A later load reading bytes an earlier store of the run already wrote.
  const crosses = (l: number, g: GatherState): boolean => {
    const hl = facts[g.headLoad];
    const hs = facts[g.headStore];
    if (hl?.ptr !== hs?.ptr) return false;
    if (hl?.id !== hs?.id) return true;
    const base = hl?.off ?? 0;
    const headLd = insns[g.headLoad]!.off + base;
    const headSt = insns[g.headStore]!.off + (hs?.off ?? 0);
    const ldOff = insns[l]!.off + base;
    if (ldOff > headLd && headLd < headSt && ldOff >= headSt) return true;
    return ldOff < headLd && headLd > headSt && ldOff <= headSt;
  };
  const finish = (g: GatherState): void => {
    if (g.count < 2) return;
    let length = g.length;
    let loadOff = insns[g.headLoad]!.off;
    let storeOff = insns[g.headStore]!.off;
    if (insns[g.prevLoad]!.off < loadOff) {
      loadOff = insns[g.prevLoad]!.off;
      storeOff = insns[g.prevStore]!.off;
      length = -length;
    }
    gather.set(g.headLoad, { length, loadOff, storeOff, storeBase: insns[g.headStore]!.dst });
    skipped.add(g.headStore);
  };
  let g: GatherState | undefined;
  let i = 0;
  while (i + 1 < insns.length) {
    const pair = isCopyPair(i, i + 1);
    if (!pair || !chains(i, i + 1, g) || (g && (crosses(i, g) || g.length >= 128))) {
      if (g) {
        finish(g);
        g = pair ? { headLoad: i, headStore: i + 1, prevLoad: i, prevStore: i + 1, count: 1, length: accessBytes(insns[i]!.code) } : undefined;
        if (pair) {
          i += 2;
          continue;
        }
      }
      i++;
      continue;
    }
    if (!g) g = { headLoad: i, headStore: i + 1, prevLoad: i, prevStore: i + 1, count: 0, length: 0 };
    else {
      skipped.add(i);
      skipped.add(i + 1);
    }
    g.length += accessBytes(insns[i]!.code);
    g.prevLoad = i;
    g.prevStore = i + 1;
    g.count++;
    i += 2;
  }
  // The kernel leaves a run reaching the last pair unfinished and crashes (E.3 item 1); close it here.
  if (g) finish(g);
}

/** Consecutive packet loads through one pointer share one read (E.6). */
function planPacketCache(insns: readonly Insn[], facts: (LoweringInsnFacts | undefined)[], targets: Set<number>, plan: MemoryPlan): void {
  let available = false;
  let node: number | undefined;
  let start = 0;
  let end = 0;
  let ptrId: number | undefined;
  let ptrOff: number | undefined;
  const close = (): void => {
    if (node !== undefined) plan.cache.set(node, { rangeStart: start, rangeEnd: end, fill: true });
  };
  for (let i = 0; i < insns.length; i++) {
    if (targets.has(i)) available = false;
    if (plan.skipped.has(i) || insns[i - 1]?.slots === 2) continue;
    const insn = insns[i]!;
    const f = facts[i];
    if (
      (isStore(insn) && f?.ptr === 'pkt') ||
      insn.code === (BPF_JMP | BPF_CALL) ||
      (isImmStore(insn) && f?.ptr === 'pkt') ||
      isClassicLoad(insn)
    ) {
      available = false;
      continue;
    }
    if (!isLoad(insn)) continue;
    if (f?.ptr !== 'pkt' || plan.gather.has(i)) {
      available = false;
      continue;
    }
    if (available && f.id === ptrId && f.off === ptrOff) {
      const s = Math.min(start, insn.off);
      const e = Math.max(end, insn.off + accessBytes(insn.code));
      if (s === start && e === end) continue;
      if (e - s <= 64) {
        start = s;
        end = e;
        continue;
      }
    }
    available = true;
    close();
    node = i;
    ptrId = f.id;
    ptrOff = f.off;
    start = insn.off;
    end = insn.off + accessBytes(insn.code);
  }
  close();
  // Later loads of a run read the range their fill covered.
  let current: PacketCachePlan | undefined;
  for (let i = 0; i < insns.length; i++) {
    if (plan.skipped.has(i) || insns[i - 1]?.slots === 2) continue;
    if (!isLoad(insns[i]!) || facts[i]?.ptr !== 'pkt' || plan.gather.has(i)) continue;
    const own = plan.cache.get(i);
    if (own?.fill) current = own;
    else if (current) plan.cache.set(i, { rangeStart: current.rangeStart, rangeEnd: current.rangeEnd, fill: false });
  }
}

/** Run the passes; returns the slots that emit nothing. */
export function planMemoryAccess(insns: readonly Insn[], facts: LoweringFacts): Set<number> {
  const targets = jumpTargets(insns);
  const plan: MemoryPlan = { skipped: new Set(), gather: new Map(), cache: new Map() };
  dropContextCopy(insns, plan.skipped);
  dropClassicLoadCleanup(insns, targets, plan.skipped);
  gatherCopies(insns, facts.insns, targets, plan.skipped, plan.gather);
  planPacketCache(insns, facts.insns, targets, plan);
  plans.set(insns, plan);
  return plan.skipped;
}

