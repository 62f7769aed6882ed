/** Output files appear whole or not at all: write a temporary file beside the target, then rename. */
import { renameSync, writeFileSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { fail } from '../diagnostics/diagnostic.js';

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* the temporary file may never have been created */
    }
    fail('NC1001', { reason: `cannot write: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }, { file: path });
  }
}
