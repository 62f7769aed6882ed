/**
 * The shape of bench/results/<group>.json: the figures a group quotes (already
 * formatted, each with the command that reproduces it) and the raw numbers
 * behind them. docs/BENCHMARKS.md is rendered from these files only.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MachineFacts } from './machine-facts.js';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const REPO_ROOT = join(BENCH_DIR, '..');

export interface BenchFigure {
  /** What was measured, e.g. "loadObject, generated 126k-instruction object: time per load". */
  figure: string;
  /** The value as quoted, units included ("12.3 ms", "41x"). */
  value: string;
  /** Shell command, run from the repository root, that measures this figure again. */
  command: string;
}

export interface GroupResult {
  group: string;
  /** ISO timestamp of the run. */
  date: string;
  machine: MachineFacts;
  /** One paragraph on method: repetitions, what a ratio compares. */
  method: string;
  figures: BenchFigure[];
  /** Things the reader must know (a side that was unavailable and why). */
  notes: string[];
  /** The measurements behind the figures (medians, spreads, sample counts), kept small. */
  raw: Record<string, unknown>;
}

export function writeGroupResult(result: GroupResult): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${result.group}.json`);
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

export function readAllGroupResults(): GroupResult[] {
  let names: string[];
  try {
    names = readdirSync(RESULTS_DIR).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names.sort().map((n) => JSON.parse(readFileSync(join(RESULTS_DIR, n), 'utf8')) as GroupResult);
}
