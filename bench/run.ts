/**
 * `npm run bench [-- group...]`: runs the named benchmark groups (all when
 * none is named), writes bench/results/<group>.json for each, then renders
 * docs/BENCHMARKS.md from every result file present.
 */
import { relative } from 'node:path';
import { regenerateBenchmarksDoc } from './benchmarks-doc.js';
import { REPO_ROOT, writeGroupResult, type GroupResult } from './group-result.js';
import { runCompilerGroup } from './compiler.js';
import { runDeviceGroup } from './device.js';
import { runInterpGroup } from './interp.js';
import { runLoaderGroup } from './loader.js';
import { runNfpSimGroup } from './nfp-sim.js';
import { runTlsGroup } from './tls.js';
import { runVerifierGroup } from './verifier.js';

const GROUPS: Record<string, () => GroupResult | Promise<GroupResult>> = {
  loader: runLoaderGroup,
  interp: runInterpGroup,
  verifier: runVerifierGroup,
  'nfp-sim': runNfpSimGroup,
  compiler: runCompilerGroup,
  tls: runTlsGroup,
  device: runDeviceGroup,
};

async function main(): Promise<void> {
  const named = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = named.filter((n) => !(n in GROUPS));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark group ${unknown.join(', ')}; groups: ${Object.keys(GROUPS).join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  let failed = false;
  for (const group of named.length ? named : Object.keys(GROUPS)) {
    const start = performance.now();
    try {
      const result = await GROUPS[group]();
      const path = writeGroupResult(result);
      process.stderr.write(`[${group}] ${((performance.now() - start) / 1000).toFixed(0)} s, wrote ${relative(REPO_ROOT, path)}\n`);
      for (const f of result.figures) process.stdout.write(`${group}: ${f.figure}: ${f.value}\n`);
      for (const n of result.notes) process.stdout.write(`${group}: note: ${n}\n`);
    } catch (e) {
      failed = true;
      process.stderr.write(`[${group}] failed: ${(e as Error).stack ?? e}\n`);
    }
  }
  process.stderr.write(`wrote ${relative(REPO_ROOT, regenerateBenchmarksDoc())}\n`);
  if (failed) process.exitCode = 1;
}

await main();
