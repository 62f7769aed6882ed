#!/usr/bin/env node
// Runs the type check and every jest suite, then prints the one line CI reads:
// `tests: N passed, N failed`. Exits non-zero if anything failed or no test ran.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tc = spawnSync('npx', ['tsc', '-p', '.', '--noEmit'], { stdio: 'inherit' });
const dir = mkdtempSync(join(tmpdir(), 'nicoff-jest-'));
const out = join(dir, 'results.json');
const jest = spawnSync(
  process.execPath,
  ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--json', `--outputFile=${out}`, ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, NODE_NO_WARNINGS: '1' } },
);
let passed = 0;
let failed = 0;
let suitesFailed = 0;
try {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests;
  suitesFailed = r.numFailedTestSuites;
} catch {
  failed += 1; // jest did not produce results: count it as a failure
}
rmSync(dir, { recursive: true, force: true });
if (tc.status !== 0) {
  console.log('typecheck: failed');
  failed += 1;
}
if (suitesFailed > 0 && failed === 0) failed = suitesFailed; // a suite that failed to load has no tests
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 || jest.status !== 0 ? 1 : 0);
