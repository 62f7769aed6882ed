/**
 * Differential verification: the same program through nicoff's verifier and
 * through the running kernel's (via the kernel runner), and the pair of
 * verdicts classified. An accept by nicoff that the kernel refuses is
 * unsound (a program nicoff would let through that the kernel knows to be
 * unsafe); a refusal of what the kernel accepts is imprecise.
 *
 * Used by `npm run oracle:verifier` (tools/oracle-verifier.ts), the oracle and
 * mutation-fuzz tests, and the verifier benchmark.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { NicoffError } from '../diagnostics/diagnostic.js';
import { encodeAssembled } from '../ebpf/assemble.js';
import { programRequestFromObject, runInKernel, runInKernelSync } from '../ebpf/kernel/kernel-runner.js';
import type { KernelRunRequest, KernelRunResult } from '../ebpf/kernel/runner-protocol.js';
import { loadObject } from '../ebpf/load-object.js';
import { BPF_PSEUDO_BTF_ID, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, isKfuncCall, isLdImm64 } from '../ebpf/opcodes.js';
import { corpusRequest, kernelErrorLine, parseCorpusCase, type CorpusCase } from './corpus-file.js';
import { mutateProgram, type Mutation } from './mutate.js';
import { verifyInputFromCorpus, verifyInputFromObject } from './program-input.js';
import { verifyProgram } from './verify-program.js';
import type { VerifyInput, VerifyOptions } from './verify-types.js';

export type DifferentialClass = 'both-accept' | 'both-reject' | 'unsound' | 'imprecise' | 'not-comparable';

export const DIFFERENTIAL_CLASSES: readonly DifferentialClass[] = ['both-accept', 'both-reject', 'unsound', 'imprecise', 'not-comparable'];

/** One program to verify both ways. */
export interface DifferentialCase {
  /** Where it came from: `examples/xdp_pass.o:xdp_pass`, `test/verifier/corpus/foo.bpf`. */
  name: string;
  input: VerifyInput;
  /** The kernel runner request that loads the same instructions with the same maps. */
  request: KernelRunRequest;
  /** A corpus case's recorded `// kernel:` verdict (a cache; corpus.test.ts re-checks it live). */
  recordedVerdict?: 'accept' | 'reject';
}

export interface NicoffVerdict {
  accepted: boolean;
  /** The refusal's code and message; for a crash, the exception. */
  code?: string;
  message?: string;
  kernelStyle?: string;
  processedInsns?: number;
  timeNs?: number;
  /** verifyProgram threw something other than a coded diagnostic: a bug in nicoff. */
  crashed?: boolean;
}

export interface KernelVerdict {
  accepted: boolean;
  /** The verifier's error line, or why the load could not happen. */
  error?: string;
  errnoName?: string;
  processedInsns?: number;
}

export interface DifferentialOutcome {
  name: string;
  class: DifferentialClass;
  /** Why the verdicts cannot be compared (not-comparable only). */
  reason?: string;
  nicoff?: NicoffVerdict;
  kernel?: KernelVerdict;
}

// ---------------------------------------------------------------------------
// Collecting cases

/** Every program of an object; throws the loader's diagnostic for a bad object. */
export function casesFromObject(path: string, shownAs = path): DifferentialCase[] {
  const obj = loadObject(new Uint8Array(readFileSync(path)), { path });
  return obj.programs.map((prog) => ({
    name: `${shownAs}:${prog.name}`,
    input: verifyInputFromObject(obj, prog),
    request: programRequestFromObject(obj, prog),
  }));
}

export function caseFromCorpus(c: CorpusCase, shownAs = c.file): DifferentialCase {
  return { name: shownAs, input: verifyInputFromCorpus(c), request: corpusRequest(c), ...(c.kernel ? { recordedVerdict: c.kernel } : {}) };
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else if (entry.endsWith('.o') || entry.endsWith('.bpf')) out.push(path);
  }
  return out;
}

/**
 * Every program of every *.o and every corpus case (*.bpf) under `dir`,
 * recursively, named relative to `base`. A file that does not load becomes a
 * not-comparable outcome instead of stopping the run.
 */
export function collectCases(dir: string, base = process.cwd()): { cases: DifferentialCase[]; unreadable: DifferentialOutcome[] } {
  const cases: DifferentialCase[] = [];
  const unreadable: DifferentialOutcome[] = [];
  for (const path of filesUnder(dir)) {
    const shownAs = relative(base, path) || path;
    try {
      if (path.endsWith('.o')) cases.push(...casesFromObject(path, shownAs));
      else cases.push(caseFromCorpus(parseCorpusCase(readFileSync(path, 'utf8'), shownAs)));
    } catch (e) {
      unreadable.push({ name: shownAs, class: 'not-comparable', reason: `cannot read: ${errorText(e)}` });
    }
  }
  return { cases, unreadable };
}

/** The same parent with mutated instructions, for the kernel too. */
export function caseWithInput(parent: DifferentialCase, input: VerifyInput, name: string): DifferentialCase {
  return { name, input, request: { ...parent.request, insns: encodeAssembled(input.insns) } };
}

// ---------------------------------------------------------------------------
// The two verdicts

function errorText(e: unknown): string {
  if (e instanceof NicoffError) return `${e.diagnostic.code} ${e.diagnostic.message}`;
  return e instanceof Error ? e.message : String(e);
}

export function nicoffVerdict(input: VerifyInput, options: VerifyOptions = {}): NicoffVerdict {
  try {
    const r = verifyProgram(input, { target: 'host', ...options });
    const numbers = { processedInsns: r.stats.processedInsns, timeNs: r.stats.timeNs };
    if (r.ok) return { accepted: true, ...numbers };
    // The verifier reports its own internal failures as NC9xxx refusals; they are crashes, not verdicts.
    const crashed = r.error.category === 'internal' ? { crashed: true } : {};
    return { accepted: false, code: r.error.code, message: r.error.message, kernelStyle: r.kernelStyle, ...numbers, ...crashed };
  } catch (e) {
    // A coded diagnostic thrown instead of returned is still a refusal; anything else is a crash.
    if (e instanceof NicoffError) return { accepted: false, code: e.diagnostic.code, message: e.diagnostic.message };
    return { accepted: false, crashed: true, message: errorText(e) };
  }
}

export function kernelVerdict(result: KernelRunResult): KernelVerdict {
  const verdict: KernelVerdict = { accepted: result.loaded };
  if (result.processedInsns !== undefined) verdict.processedInsns = result.processedInsns;
  if (!result.loaded) {
    verdict.error = kernelErrorLine(result.log) || result.errnoName || 'load failed';
    if (result.errnoName) verdict.errnoName = result.errnoName;
  }
  return verdict;
}

/**
 * Why a case cannot be judged, whatever the verdicts: things the kernel
 * resolves from its own BTF or from data the runner does not pass.
 */
export function notComparableBeforehand(input: VerifyInput): string | undefined {
  for (let i = 0; i < input.insns.length; i++) {
    const insn = input.insns[i];
    if (isKfuncCall(insn)) return `insn ${i} calls a kfunc (resolved from the kernel's BTF, which nicoff does not have)`;
    if (isLdImm64(insn) && insn.src === BPF_PSEUDO_BTF_ID) return `insn ${i} loads a kernel BTF object (ld_imm64 src 3)`;
    if (isLdImm64(insn) && (insn.src === BPF_PSEUDO_MAP_IDX || insn.src === BPF_PSEUDO_MAP_IDX_VALUE)) {
      return `insn ${i} names a map through fd_array (ld_imm64 src ${insn.src}), which the runner does not pass`;
    }
    if (insn.slots === 2) i++;
  }
  return undefined;
}

/**
 * nicoff refusals that mark the edge of what it models rather than a verdict:
 * program types it does not verify (NC4086), kfuncs and kernel BTF objects it
 * has no BTF for (NC4006, NC4007, NC4013), fd_array map slots (NC4014).
 */
const NICOFF_OUT_OF_SCOPE = new Set(['NC4006', 'NC4007', 'NC4013', 'NC4014', 'NC4086']);

/** Kernel answers that say nothing about the program's safety. */
function kernelNotComparable(result: KernelRunResult): string | undefined {
  if (result.mapFailure) return `the kernel could not create map ${result.mapFailure.name} (${result.mapFailure.errnoName})`;
  if (result.loaded) return undefined;
  // EPERM: a capability is missing; ENOMEM/EFAULT: the kernel's own resources or a verifier-internal bug.
  if (result.errnoName === 'EPERM' || result.errnoName === 'ENOMEM' || result.errnoName === 'EFAULT') {
    return `the kernel refused with ${result.errnoName}: ${kernelErrorLine(result.log) || 'no log'}`;
  }
  return undefined;
}

export function classify(nicoff: NicoffVerdict, kernel: KernelVerdict): DifferentialClass {
  if (nicoff.accepted) return kernel.accepted ? 'both-accept' : 'unsound';
  return kernel.accepted ? 'imprecise' : 'both-reject';
}

function outcomeOf(c: DifferentialCase, nicoff: NicoffVerdict | undefined, kernel: KernelRunResult | Error, before: string | undefined): DifferentialOutcome {
  const base = { name: c.name, ...(nicoff ? { nicoff } : {}) };
  if (before) return { ...base, class: 'not-comparable', reason: before };
  if (kernel instanceof Error) return { ...base, class: 'not-comparable', reason: `kernel runner: ${errorText(kernel)}` };
  const k = kernelVerdict(kernel);
  const out = { ...base, kernel: k };
  const reason = kernelNotComparable(kernel);
  if (reason) return { ...out, class: 'not-comparable', reason };
  if (nicoff?.crashed) return { ...out, class: 'not-comparable', reason: `nicoff crashed: ${nicoff.message}` };
  if (nicoff?.code && NICOFF_OUT_OF_SCOPE.has(nicoff.code)) return { ...out, class: 'not-comparable', reason: `nicoff: ${nicoff.code} ${nicoff.message}` };
  return { ...out, class: classify(nicoff!, k) };
}

/** One case, both sides, synchronously. */
export function runDifferential(c: DifferentialCase, options: VerifyOptions = {}): DifferentialOutcome {
  const before = notComparableBeforehand(c.input);
  const nicoff = nicoffVerdict(c.input, options);
  let kernel: KernelRunResult | Error;
  try {
    kernel = before ? new Error('not loaded') : runInKernelSync(c.request);
  } catch (e) {
    kernel = e instanceof Error ? e : new Error(String(e));
  }
  return outcomeOf(c, nicoff, kernel, before);
}

export interface DifferentialRunOptions extends VerifyOptions {
  /** Kernel loads in flight at once (each is a runner process). Default 4. */
  concurrency?: number;
  /** Called after each case, for progress output. */
  onOutcome?: (o: DifferentialOutcome, done: number, total: number) => void;
}

/**
 * Many cases: kernel loads run in parallel runner processes while nicoff
 * verifies in this thread, so the kernel side costs little beyond nicoff's.
 * Outcomes come back in the order of `cases`.
 */
export async function runDifferentialAll(cases: readonly DifferentialCase[], options: DifferentialRunOptions = {}): Promise<DifferentialOutcome[]> {
  const { concurrency = 4, onOutcome, ...verifyOptions } = options;
  const outcomes: DifferentialOutcome[] = new Array(cases.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const index = next++;
      const c = cases[index];
      const before = notComparableBeforehand(c.input);
      const pending: Promise<KernelRunResult | Error> = before
        ? Promise.resolve(new Error('not loaded'))
        : runInKernel(c.request).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
      // Let the runner process start before this thread is busy verifying.
      await new Promise((resolve) => setImmediate(resolve));
      const nicoff = nicoffVerdict(c.input, verifyOptions);
      outcomes[index] = outcomeOf(c, nicoff, await pending, before);
      onOutcome?.(outcomes[index], ++done, cases.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return outcomes;
}

/**
 * The kernel's verdict alone on many cases (parallel runner processes, in
 * order): for picking the parents of a mutation campaign. A case the runner
 * cannot load gets undefined.
 */
export async function kernelVerdictsAll(cases: readonly DifferentialCase[], concurrency = 4): Promise<(KernelVerdict | undefined)[]> {
  const verdicts: (KernelVerdict | undefined)[] = new Array(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const index = next++;
      const c = cases[index];
      if (notComparableBeforehand(c.input)) continue;
      try {
        const result = await runInKernel(c.request);
        verdicts[index] = kernelNotComparable(result) ? undefined : kernelVerdict(result);
      } catch {
        verdicts[index] = undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return verdicts;
}

export interface ParentSelection {
  /** Leave out parents whose kernel verification processes more instructions (bounded loops: seconds per mutant). */
  maxProcessedInsns: number;
  concurrency?: number;
}

/**
 * The programs worth mutating: accepted by the live kernel (corpus cases
 * recorded as rejects are not even loaded), within the processed-instruction
 * budget, and of a kind nicoff verifies at all (a kprobe's mutants could
 * never be compared).
 */
export async function selectMutationParents(cases: readonly DifferentialCase[], selection: ParentSelection): Promise<DifferentialCase[]> {
  const candidates = cases.filter((c) => c.recordedVerdict !== 'reject');
  const verdicts = await kernelVerdictsAll(candidates, selection.concurrency);
  return candidates.filter((c, i) => {
    const k = verdicts[i];
    if (!k?.accepted || (k.processedInsns ?? Infinity) > selection.maxProcessedInsns) return false;
    const code = nicoffVerdict(c.input).code;
    return code === undefined || !NICOFF_OUT_OF_SCOPE.has(code);
  });
}

// ---------------------------------------------------------------------------
// Summary

export interface DifferentialSummary {
  total: number;
  counts: Record<DifferentialClass, number>;
  /** Names (with the disagreement or reason) in the classes a reader must look at. */
  unsound: string[];
  imprecise: string[];
  notComparable: string[];
  /** Programs the kernel accepted (the base of the imprecision rate). */
  kernelAccepted: number;
}

export function summarizeDifferential(outcomes: readonly DifferentialOutcome[]): DifferentialSummary {
  const counts = Object.fromEntries(DIFFERENTIAL_CLASSES.map((c) => [c, 0])) as Record<DifferentialClass, number>;
  const summary: DifferentialSummary = { total: outcomes.length, counts, unsound: [], imprecise: [], notComparable: [], kernelAccepted: 0 };
  for (const o of outcomes) {
    counts[o.class]++;
    if (o.kernel?.accepted && o.class !== 'not-comparable') summary.kernelAccepted++;
    if (o.class === 'unsound') summary.unsound.push(`${o.name}: kernel: ${o.kernel?.error}`);
    if (o.class === 'imprecise') summary.imprecise.push(`${o.name}: nicoff: ${o.nicoff?.code} ${o.nicoff?.message}`);
    if (o.class === 'not-comparable') summary.notComparable.push(`${o.name}: ${o.reason}`);
  }
  return summary;
}

/** The table the oracle script and tests print: counts per class, then the names in the classes that need reading. */
export function formatDifferentialTable(summary: DifferentialSummary): string {
  const labels: Record<DifferentialClass, string> = {
    'both-accept': 'both accept',
    'both-reject': 'both reject',
    unsound: 'unsound (nicoff accepts, kernel rejects)',
    imprecise: 'imprecise (nicoff rejects, kernel accepts)',
    'not-comparable': 'not comparable',
  };
  const width = Math.max(...Object.values(labels).map((l) => l.length));
  const lines = DIFFERENTIAL_CLASSES.map((c) => `${labels[c].padEnd(width)}  ${String(summary.counts[c]).padStart(5)}`);
  lines.push(`${'total'.padEnd(width)}  ${String(summary.total).padStart(5)}`);
  const section = (title: string, names: string[]): void => {
    if (names.length) lines.push('', `${title}:`, ...names.map((n) => `  ${n}`));
  };
  section('unsound', summary.unsound);
  section('imprecise', summary.imprecise);
  section('not comparable', summary.notComparable);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// Mutation campaign

export interface MutantOutcome extends DifferentialOutcome {
  parent: string;
  mutation: Mutation;
}

export interface MutationCampaignOptions extends DifferentialRunOptions {
  /** Mutants in total, spread evenly over the parents. */
  mutants: number;
  /** Mutant k gets seed firstSeed + k. Default 1. */
  firstSeed?: number;
}

export interface MutationCampaignResult {
  outcomes: MutantOutcome[];
  summary: DifferentialSummary;
  /** Wall time of the whole campaign, both sides, ms. */
  wallMs: number;
  /** Sum of nicoff's own verification times, ms. */
  nicoffMs: number;
}

/**
 * Mutate `parents` (programs the kernel accepts) into `mutants` programs and
 * judge each both ways. Mutant k is `mutateProgram(parents[k % n].input,
 * firstSeed + k)`: the seed alone replays it.
 */
export async function runMutationCampaign(parents: readonly DifferentialCase[], options: MutationCampaignOptions): Promise<MutationCampaignResult> {
  const { mutants, firstSeed = 1, ...runOptions } = options;
  if (parents.length === 0) throw new Error('runMutationCampaign: no parent programs');
  const cases: DifferentialCase[] = [];
  const meta: { parent: string; mutation: Mutation }[] = [];
  for (let k = 0; k < mutants; k++) {
    const parent = parents[k % parents.length];
    const m = mutateProgram(parent.input, firstSeed + k);
    cases.push(caseWithInput(parent, m.input, `${parent.name}~${m.mutation.seed}`));
    meta.push({ parent: parent.name, mutation: m.mutation });
  }
  const start = performance.now();
  const outcomes = (await runDifferentialAll(cases, runOptions)).map((o, k) => ({ ...o, ...meta[k] }));
  const wallMs = performance.now() - start;
  const nicoffMs = outcomes.reduce((sum, o) => sum + (o.nicoff?.timeNs ?? 0), 0) / 1e6;
  return { outcomes, summary: summarizeDifferential(outcomes), wallMs, nicoffMs };
}

/** How to replay a mutant: parent, seed and what changed. */
export function describeMutant(o: MutantOutcome): string {
  return `parent ${o.parent}, seed ${o.mutation.seed}: ${o.mutation.kind}: ${o.mutation.description}` +
    (o.kernel?.error ? `; kernel: ${o.kernel.error}` : '') +
    (o.nicoff && !o.nicoff.accepted ? `; nicoff: ${o.nicoff.code} ${o.nicoff.message}` : '');
}
