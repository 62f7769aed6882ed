/**
 * Static cycle estimate of a lowered program under the reference latency
 * model (src/nfp-backend/sim/latency-model.ts): the worst path and the
 * typical path per packet, from the entry to the firmware's done address.
 *
 * Costs are the simulator's: one cycle per issued word (defer slots
 * included), a taken branch's unfilled shadow, the sleep of a CPP command by
 * the memory it reaches (CTM for the packet, EMEM for map values and atomic
 * adds, from the verifier's pointer kind), and a firmware helper's cost on
 * the map kind the verifier saw R1 point to (the program's costliest kind
 * when paths disagree).
 *
 * "Typical" is the expected cycles when every conditional branch goes each way
 * half the time: a fixed, reproducible stand-in for a traffic mix. Programs
 * with a loop or a BPF-to-BPF call get no static figure (the reason says so).
 */
import { branchShadowCycles, helperCycles, LATENCY_MODEL_V1, type LatencyModel } from '../nfp-backend/sim/latency-model.js';
import { FIRMWARE_HELPERS } from '../nfp-backend/image/nfp-image.js';
import { isBranch } from './optimize/word-effects.js';
import type { LoweringFacts } from './lowering-facts.js';
import type { CodeLayout, EmittedWord } from './nfp-code.js';

export interface PathCycles {
  /** Everything: issued words, branch shadows, sleeps. */
  cycles: number;
  /** Of which the context sleeps on memory or a helper (other contexts may run). */
  sleep: number;
  /** Issued words on the path. */
  instructions: number;
}

export interface StaticCycleEstimate {
  latencyModel: string;
  worst?: PathCycles;
  typical?: PathCycles;
  /** Why there is no figure (loop, BPF-to-BPF call). */
  unavailable?: string;
  /** Modelled card throughput for the worst and typical paths, packets/s (see `modelledPacketsPerSecond`). */
  worstPps?: number;
  typicalPps?: number;
  lineRatePps: number;
}

export interface StaticCycleInput {
  words: readonly EmittedWord[];
  layout: CodeLayout;
  facts: LoweringFacts;
  /** Map kinds by map index (a helper whose map is not known is charged as the costliest present). */
  mapKinds: readonly ('hash' | 'array')[];
  latency?: LatencyModel;
}

class NotEstimable extends Error {}

interface Edge {
  to: number | 'done';
  cycles: number;
  sleep: number;
  instructions: number;
  probability: number;
}

/** Sleep of one word: a CPP command that swaps the context out waits for its memory. */
function wordSleep(input: StaticCycleInput, latency: LatencyModel, word: EmittedWord): number {
  const insn = word.insn;
  if (insn.format !== 'cmd' || insn.ctxSwap === 3) return 0;
  const ptr = word.ebpfInsn === undefined ? undefined : input.facts.insns[word.ebpfInsn]?.ptr;
  if (ptr === 'pkt' || ptr === 'ctx') return latency.memory.ctm.value;
  if (ptr === 'stack') return latency.memory.lm.value;
  return latency.memory.emem.value;
}

function targetPc(input: StaticCycleInput, word: EmittedWord): number | 'done' | 'helper' {
  const t = word.target;
  if (!t) throw new NotEstimable('a branch without a target');
  switch (t.kind) {
    case 'ebpf':
      return input.layout.ebpfStart[t.insn]!;
    case 'label':
      if (t.label.pc === undefined) throw new NotEstimable(`unplaced label ${t.label.name}`);
      return t.label.pc;
    case 'exit':
      if (input.layout.exit === undefined) throw new NotEstimable('a branch to an outro that is not there');
      return input.layout.exit;
    case 'abort':
      if (input.layout.abort === undefined) throw new NotEstimable('a branch to an abort block that is not there');
      return input.layout.abort;
    case 'next-packet':
      return 'done';
    case 'helper':
      return 'helper';
    default:
      throw new NotEstimable('BPF-to-BPF calls are not estimated statically');
  }
}

/** The ways control leaves word `pc`, each with the cost of the word, its defer slots and the shadow. */
function edgesOf(input: StaticCycleInput, latency: LatencyModel, pc: number): Edge[] {
  const word = input.words[pc]!;
  const insn = word.insn;
  const own = { cycles: 1 + wordSleep(input, latency, word), sleep: wordSleep(input, latency, word), instructions: 1 };
  if (!isBranch(insn)) return [{ to: pc + 1, ...own, probability: 1 }];
  if (insn.format === 'rtn' || insn.format === 'jump' || insn.format === 'ctx_arb') throw new NotEstimable('BPF-to-BPF calls are not estimated statically');
  // Defer slots run on both ways; they are plain words (the lowerings never put a branch there).
  let deferCycles = 0;
  let deferSleep = 0;
  for (let k = 1; k <= insn.defer; k++) {
    const slot = input.words[pc + k];
    if (!slot || isBranch(slot.insn)) throw new NotEstimable('a branch in a defer slot');
    const s = wordSleep(input, latency, slot);
    deferCycles += 1 + s;
    deferSleep += s;
  }
  const base = { cycles: own.cycles + deferCycles, sleep: own.sleep + deferSleep, instructions: 1 + insn.defer };
  const target = targetPc(input, word);
  const shadow = branchShadowCycles(latency, insn);
  const conditional = !(insn.format === 'br' && insn.condition === 'br');
  const after = pc + 1 + insn.defer;
  if (target === 'helper') {
    const t = word.target as { helperId: number };
    const map = word.ebpfInsn === undefined ? undefined : input.facts.insns[word.ebpfInsn]?.callMap;
    const kind = map === undefined ? undefined : input.mapKinds[map];
    const helper = FIRMWARE_HELPERS.get(t.helperId);
    // Unknown map: the costliest kind present (hash, unless every map is an array).
    const isArray = kind ? kind === 'array' : input.mapKinds.length > 0 && input.mapKinds.every((k) => k === 'array');
    const cost = helper ? helperCycles(latency, helper, isArray) : 0;
    // The firmware returns to B0, which every helper lowering sets to the word after the defer slots.
    return [{ to: after, cycles: base.cycles + shadow + cost, sleep: base.sleep + cost, instructions: base.instructions, probability: 1 }];
  }
  const taken: Edge = { to: target, cycles: base.cycles + shadow, sleep: base.sleep, instructions: base.instructions, probability: conditional ? 0.5 : 1 };
  if (!conditional) return [taken];
  return [taken, { to: after, ...base, probability: 0.5 }];
}

const ZERO: PathCycles = { cycles: 0, sleep: 0, instructions: 0 };

function estimatePaths(input: StaticCycleInput, latency: LatencyModel): { worst: PathCycles; typical: PathCycles } {
  const n = input.words.length;
  const worst: (PathCycles | undefined)[] = new Array(n);
  const typical: (PathCycles | undefined)[] = new Array(n);
  const state = new Uint8Array(n); // 0 new, 1 on the stack, 2 done
  // Iterative post-order DFS (programs can be thousands of words deep).
  const stack: { pc: number; edges: Edge[]; next: number }[] = [];
  const visit = (pc: number): void => {
    if (pc >= n) throw new NotEstimable('control runs off the end of the program');
    state[pc] = 1;
    stack.push({ pc, edges: edgesOf(input, latency, pc), next: 0 });
  };
  visit(0);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (top.next < top.edges.length) {
      const e = top.edges[top.next++]!;
      if (e.to === 'done') continue;
      if (state[e.to] === 1) throw new NotEstimable('the program has a loop');
      if (state[e.to] === 0) visit(e.to);
      continue;
    }
    stack.pop();
    let w: PathCycles | undefined;
    const t: PathCycles = { cycles: 0, sleep: 0, instructions: 0 };
    for (const e of top.edges) {
      const restW = e.to === 'done' ? ZERO : worst[e.to]!;
      const restT = e.to === 'done' ? ZERO : typical[e.to]!;
      const candidate = { cycles: e.cycles + restW.cycles, sleep: e.sleep + restW.sleep, instructions: e.instructions + restW.instructions };
      if (!w || candidate.cycles > w.cycles) w = candidate;
      t.cycles += e.probability * (e.cycles + restT.cycles);
      t.sleep += e.probability * (e.sleep + restT.sleep);
      t.instructions += e.probability * (e.instructions + restT.instructions);
    }
    worst[top.pc] = w!;
    typical[top.pc] = t;
    state[top.pc] = 2;
  }
  return { worst: worst[0]!, typical: typical[0]! };
}

/**
 * Card packets per second for a path: each microengine overlaps the sleeps of
 * its contexts, so a packet occupies it for max(busy, total / contexts) cycles.
 */
export function modelledPacketsPerSecond(path: PathCycles, latency: LatencyModel = LATENCY_MODEL_V1): number {
  const busy = path.cycles - path.sleep;
  const perPacket = Math.max(busy, path.cycles / latency.contextsPerMe.value, 1);
  return (latency.clockHz.value / perPacket) * latency.microengines.value;
}

export function estimateStaticCycles(input: StaticCycleInput): StaticCycleEstimate {
  const latency = input.latency ?? LATENCY_MODEL_V1;
  const lineRatePps = latency.portLineRatePps.value * latency.ports.value;
  try {
    const { worst, typical } = estimatePaths(input, latency);
    return {
      latencyModel: latency.name,
      worst,
      typical,
      worstPps: modelledPacketsPerSecond(worst, latency),
      typicalPps: modelledPacketsPerSecond(typical, latency),
      lineRatePps,
    };
  } catch (e) {
    if (e instanceof NotEstimable) return { latencyModel: latency.name, unavailable: e.message, lineRatePps };
    throw e;
  }
}
