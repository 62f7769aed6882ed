/**
 * Pass `sort-copies`: clang writes a small packet memcpy as byte copy pairs
 * (`r2 = *(u8 *)(r1 + 8); *(u8 *)(r1 + 2) = r2`, ...) in whatever order its
 * scheduler liked, and the kernel's gathering pass only joins pairs whose
 * offsets ascend or descend one by one, so a 6-byte MAC swap becomes three
 * reads and three writes. Sorting the pairs of such a run by source offset
 * lets gathering make one read and one write of it.
 *
 * A run is sorted only when the order cannot matter: every pair copies
 * between the same pointer register (which the run does not change) through
 * the same temporary, at one width, with a constant distance between source
 * and destination; the bytes read and the bytes written do not overlap; no
 * jump lands inside the run; and the temporary is written again before any
 * read after the run (its final value is the only thing the order changes).
 * The permutation only moves instructions within the run, so every jump
 * offset outside it stays right.
 */
import type { Insn } from '../../ebpf/insn.js';
import { BPF_JMP, BPF_JMP32, BPF_LDX, BPF_MEM, BPF_STX } from '../../ebpf/opcodes.js';
import type { LoweringFacts } from '../lowering-facts.js';
import { accessBytes, jumpTargets } from '../packet-cache.js';

const cls = (code: number): number => code & 0x07;
const isLoad = (i: Insn): boolean => cls(i.code) === BPF_LDX && (i.code & 0xe0) === BPF_MEM;
const isStore = (i: Insn): boolean => cls(i.code) === BPF_STX && (i.code & 0xe0) === BPF_MEM;
const width = accessBytes;

/** Does straight-line code after `from` write `reg` before reading it (so its value at `from` is dead)? */
function deadAfter(insns: readonly Insn[], from: number, reg: number, targets: Set<number>): boolean {
  for (let i = from; i < insns.length; i++) {
    const insn = insns[i]!;
    const c = cls(insn.code);
    if (c === BPF_JMP || c === BPF_JMP32) return false; // control leaves straight-line code: assume live
    const reads = insn.src === reg || (c !== BPF_LDX && insn.dst === reg) || (c === BPF_STX && insn.src === reg);
    if (reads) return false;
    const writes = insn.dst === reg && (c === BPF_LDX || c === 0x04 || c === 0x07 || c === 0x00);
    if (writes) return true;
    if (targets.has(i + 1) && i + 1 < insns.length) return false;
  }
  return false;
}

interface Pair {
  load: number;
  srcOff: number;
  dstOff: number;
}

/** Sorted copies of `insns` and `facts`, or undefined when no run needed sorting. */
export function sortCopyRuns(insns: readonly Insn[], facts: LoweringFacts): { insns: Insn[]; facts: LoweringFacts } | undefined {
  const targets = jumpTargets(insns);
  const order = insns.map((_, i) => i);
  let changed = false;
  const pairAt = (i: number): Pair | undefined => {
    const ld = insns[i];
    const st = insns[i + 1];
    if (!ld || !st || !isLoad(ld) || !isStore(st) || ld.code !== (st.code & ~0x07 | BPF_LDX) || st.src !== ld.dst) return undefined;
    if (facts.insns[i]?.ptr !== 'pkt' || facts.insns[i + 1]?.ptr !== 'pkt' || ld.src !== st.dst || ld.dst === ld.src) return undefined;
    return { load: i, srcOff: ld.off, dstOff: st.off };
  };
  let i = 0;
  while (i < insns.length) {
    const first = pairAt(i);
    if (!first) {
      i++;
      continue;
    }
    const run: Pair[] = [first];
    let j = i + 2;
    for (;;) {
      const p = pairAt(j);
      if (!p || targets.has(j) || targets.has(j + 1) || targets.has(i + 1)) break;
      const a = insns[j]!;
      const b = insns[i]!;
      if (a.code !== b.code || a.dst !== b.dst || a.src !== b.src || p.dstOff - p.srcOff !== first.dstOff - first.srcOff) break;
      run.push(p);
      j += 2;
    }
    if (run.length >= 2) {
      const w = width(insns[i]!.code);
      const sorted = [...run].sort((x, y) => x.srcOff - y.srcOff);
      const contiguous = sorted.every((p, k) => k === 0 || p.srcOff === sorted[k - 1]!.srcOff + w);
      const lo = sorted[0]!.srcOff;
      const hi = sorted[sorted.length - 1]!.srcOff + w;
      const delta = first.dstOff - first.srcOff;
      const disjoint = lo + delta >= hi || hi + delta <= lo;
      const already = sorted.every((p, k) => p === run[k]);
      if (contiguous && disjoint && !already && deadAfter(insns, j, insns[i]!.dst, targets)) {
        sorted.forEach((p, k) => {
          order[i + 2 * k] = p.load;
          order[i + 2 * k + 1] = p.load + 1;
        });
        changed = true;
      }
    }
    i = j;
  }
  if (!changed) return undefined;
  return {
    insns: order.map((k) => insns[k]!),
    facts: { ...facts, insns: order.map((k) => facts.insns[k]), ...(facts.reached ? { reached: order.map((k) => facts.reached![k]!) } : {}) },
  };
}
