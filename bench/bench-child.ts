/** Runs a bench/*-child.ts script in a fresh Node process (tsx loader) and parses its one JSON answer line. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_DIR, REPO_ROOT } from './group-result.js';

export function runBenchChild<T>(script: string, args: string[], nodeFlags: string[] = []): T {
  const child = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', join(BENCH_DIR, script), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (child.error) throw child.error;
  const lastLine = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status !== 0 || !lastLine.startsWith('{')) {
    throw new Error(`${script} ${args.join(' ')} failed (status ${child.status}): ${child.stderr.trim().slice(-600)}`);
  }
  return JSON.parse(lastLine) as T;
}
