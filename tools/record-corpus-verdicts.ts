/**
 * `npm run corpus:record [files...]`: load every verifier corpus case (or the
 * named ones) into the running kernel and rewrite its `// kernel:` and
 * `// kernel-error:` header lines with what the kernel said.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInKernelSync, kernelOracleOrSkip } from '../src/ebpf/kernel/kernel-runner.js';
import { corpusRequest, parseCorpusCase, verdictFromKernel, withRecordedVerdict } from '../src/verifier/corpus-file.js';

const CORPUS_DIR = join(import.meta.dirname, '..', 'test', 'verifier', 'corpus');

if (!kernelOracleOrSkip().ok) process.exit(1);
const files = process.argv.length > 2
  ? process.argv.slice(2)
  : readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.bpf')).sort().map((f) => join(CORPUS_DIR, f));

const counts = { accept: 0, reject: 0, changed: 0 };
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const verdict = verdictFromKernel(runInKernelSync(corpusRequest(parseCorpusCase(text, file))));
  counts[verdict.kernel]++;
  const updated = withRecordedVerdict(text, verdict);
  if (updated !== text) {
    counts.changed++;
    writeFileSync(file, updated);
    process.stdout.write(`${file}: ${verdict.kernel}${verdict.kernelError ? ` (${verdict.kernelError})` : ''}\n`);
  }
}
process.stdout.write(`${files.length} cases: ${counts.accept} accept, ${counts.reject} reject, ${counts.changed} rewritten\n`);
