/**
 * The verifier corpus format (test/verifier/corpus/*.bpf): one raw program
 * per file, in the spirit of the kernel's test_verifier cases. A header of
 * `// key: value` lines, then the instructions in assemble.ts syntax:
 *
 *   // rule: packet access needs a bounds check
 *   // type: xdp                       (xdp, sched_cls, sched_act, socket_filter, cgroup_skb, kprobe)
 *   // maps: counters:array:4:8:1      (name:type:key:value:entries; repeatable)
 *   // license: MIT                    (optional; default GPL, passed to the kernel)
 *   // kernel: reject                  (the live kernel's verdict, recorded)
 *   // kernel-error: invalid access to packet
 *
 * `kernel-error` is a substring of the kernel's error line (the last log line
 * other than the statistics). The recorded verdict is a cache: the corpus
 * test re-checks it against the running kernel.
 */
import { fail } from '../diagnostics/diagnostic.js';
import { assembleProgram, encodeAssembled } from '../ebpf/assemble.js';
import { MAP_TYPE, type ProgramType } from '../ebpf/bpf-object.js';
import type { Insn } from '../ebpf/insn.js';
import { PROG_TYPE } from '../ebpf/kernel/kernel-enums.js';
import type { KernelMapSpec, KernelRunRequest, KernelRunResult } from '../ebpf/kernel/runner-protocol.js';

export type CorpusProgramType = 'xdp' | 'sched_cls' | 'sched_act' | 'socket_filter' | 'cgroup_skb' | 'kprobe';
export type KernelVerdict = 'accept' | 'reject';

export interface CorpusMap {
  name: string;
  type: keyof typeof MAP_TYPE;
  keySize: number;
  valueSize: number;
  maxEntries: number;
}

export interface CorpusCase {
  file: string;
  rule: string;
  type: CorpusProgramType;
  maps: CorpusMap[];
  /** The license string the program is loaded with (`// license:`; default GPL). */
  license: string;
  kernel?: KernelVerdict;
  kernelError?: string;
  insns: Insn[];
}

const PROGRAM_TYPES: readonly CorpusProgramType[] = ['xdp', 'sched_cls', 'sched_act', 'socket_filter', 'cgroup_skb', 'kprobe'];
const HEADER_LINE = /^\/\/\s*([a-z-]+):\s*(.*?)\s*$/;

function parseMap(text: string, file: string, line: number): CorpusMap {
  const parts = text.split(':');
  const [name, type, key, value, entries] = parts;
  const numbers = [key, value, entries].map(Number);
  if (parts.length !== 5 || !(type in MAP_TYPE) || numbers.some((n) => !Number.isInteger(n) || n < 0)) {
    fail('NC1026', { line, reason: `map spec ${text} is not name:type:key:value:entries` }, { file });
  }
  return { name, type: type as keyof typeof MAP_TYPE, keySize: numbers[0], valueSize: numbers[1], maxEntries: numbers[2] };
}

export function parseCorpusCase(text: string, file: string): CorpusCase {
  const corpus: Omit<CorpusCase, 'insns'> = { file, rule: '', type: 'xdp', maps: [], license: 'GPL' };
  let typeSeen = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(HEADER_LINE);
    if (!m) continue;
    const [, key, value] = m;
    const bad = (reason: string): never => fail('NC1026', { line: i + 1, reason }, { file });
    switch (key) {
      case 'type':
        if (!PROGRAM_TYPES.includes(value as CorpusProgramType)) bad(`program type ${value} is not one of ${PROGRAM_TYPES.join(', ')}`);
        corpus.type = value as CorpusProgramType;
        typeSeen = true;
        break;
      case 'maps':
        for (const spec of value.split(/[\s,]+/).filter(Boolean)) corpus.maps.push(parseMap(spec, file, i + 1));
        break;
      case 'kernel':
        if (value !== 'accept' && value !== 'reject') bad(`kernel verdict ${value} is not accept or reject`);
        corpus.kernel = value as KernelVerdict;
        break;
      case 'kernel-error':
        corpus.kernelError = value;
        break;
      case 'license':
        if (value === '') bad('empty license');
        corpus.license = value;
        break;
      case 'rule':
        corpus.rule = value;
        break;
      default:
        // Other `// word:` lines are ordinary comments.
        break;
    }
  }
  if (!typeSeen) fail('NC1026', { line: 1, reason: 'no `// type:` header' }, { file });
  return { ...corpus, insns: assembleProgram(text, { file }) };
}

/** The kernel runner request that loads the case (no packets: only the verdict matters). */
export function corpusRequest(c: CorpusCase): KernelRunRequest {
  const maps: KernelMapSpec[] = c.maps.map((m) => ({
    name: m.name,
    type: MAP_TYPE[m.type],
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: 0,
  }));
  return {
    progType: PROG_TYPE[c.type as ProgramType],
    license: c.license,
    insns: encodeAssembled(c.insns),
    maps,
    logLevel: 1,
    packets: [],
    dumpMapsAtEnd: false,
  };
}

/**
 * The verifier's error line: the last log line that is not one of its closing
 * statistics or the state dump it prints after an infinite loop.
 */
export function kernelErrorLine(log: string): string {
  const lines = log
    .split('\n')
    // A message printed without its newline runs into the statistics line that follows.
    .map((l) => l.replace(/processed \d+ insns \(limit \d+\).*$/, '').trim())
    .filter((l) => l !== '' && !/^processed \d+ insns/.test(l) && !/^(verification time|cur state:|old state:)/.test(l));
  return lines.at(-1) ?? '';
}

export interface RecordedVerdict {
  kernel: KernelVerdict;
  kernelError?: string;
}

export function verdictFromKernel(result: KernelRunResult): RecordedVerdict {
  if (result.loaded) return { kernel: 'accept' };
  if (result.mapFailure) {
    return { kernel: 'reject', kernelError: `map ${result.mapFailure.name}: ${result.mapFailure.errnoName}` };
  }
  return { kernel: 'reject', kernelError: kernelErrorLine(result.log) || result.errnoName || 'error' };
}

/**
 * The file text with its `kernel:` / `kernel-error:` lines replaced by the
 * given verdict (placed after the last header line when absent).
 */
export function withRecordedVerdict(text: string, verdict: RecordedVerdict): string {
  const lines = text.split('\n').filter((l) => !/^\/\/\s*kernel(-error)?:/.test(l));
  let lastHeader = -1;
  for (let i = 0; i < lines.length && (HEADER_LINE.test(lines[i]) || lines[i].startsWith('//')); i++) lastHeader = i;
  const recorded = [`// kernel: ${verdict.kernel}`];
  if (verdict.kernelError !== undefined) recorded.push(`// kernel-error: ${verdict.kernelError}`);
  lines.splice(lastHeader + 1, 0, ...recorded);
  return lines.join('\n');
}
