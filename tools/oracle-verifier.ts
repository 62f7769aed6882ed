/**
 * `npm run oracle:verifier -- DIR...`: verify every program of every object
 * (*.o) and every corpus case (*.bpf) under each DIR, recursively, with nicoff
 * and with the running kernel, and print how the verdicts compare. Exit 1 when
 * nicoff accepts something the kernel refuses (unsound), 2 on bad usage or
 * when the kernel cannot be used.
 *
 *   --target nfp      judge nicoff's nfp target instead of host (its extra refusals show up as imprecise)
 *   --json            print the outcomes as JSON instead of the table
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isKernelRunnerAvailable } from '../src/ebpf/kernel/kernel-runner.js';
import {
  collectCases,
  formatDifferentialTable,
  runDifferentialAll,
  summarizeDifferential,
  type DifferentialOutcome,
} from '../src/verifier/differential.js';

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run oracle:verifier -- DIR... [--target host|nfp] [--json]\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({ options: { target: { type: 'string', default: 'host' }, json: { type: 'boolean', default: false } }, allowPositionals: true });
} catch (e) {
  usage((e as Error).message);
}
const { values: { target, json }, positionals: dirs } = parsed;

if (dirs.length === 0) usage('no directory given');
if (target !== 'host' && target !== 'nfp') usage(`--target is host or nfp, not ${target}`);
for (const d of dirs) if (!existsSync(d) || !statSync(d).isDirectory()) usage(`${d} is not a directory`);
const kernel = isKernelRunnerAvailable();
if (!kernel.ok) {
  process.stderr.write(`the kernel cannot be used: ${kernel.reason}\n`);
  process.exit(2);
}

const outcomes: DifferentialOutcome[] = [];
for (const dir of dirs) {
  const { cases, unreadable } = collectCases(dir);
  outcomes.push(...unreadable);
  outcomes.push(
    ...(await runDifferentialAll(cases, {
      target,
      concurrency: availableParallelism() * 2,
      onOutcome: (_o, done, total) => {
        if (process.stderr.isTTY) process.stderr.write(`\r${dir}: ${done}/${total}`);
      },
    })),
  );
  if (process.stderr.isTTY) process.stderr.write('\n');
}
const summary = summarizeDifferential(outcomes);
if (json) process.stdout.write(`${JSON.stringify({ summary, outcomes }, null, 2)}\n`);
else process.stdout.write(`${formatDifferentialTable(summary)}\n`);
process.exitCode = summary.counts.unsound > 0 ? 1 : 0;
