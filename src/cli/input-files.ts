/** Reading the files named on the command line, with coded errors. */
import { readFileSync } from 'node:fs';
import { fail } from '../diagnostics/diagnostic.js';

export function readInputFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : (e.code ?? e.message);
    fail('NC1001', { reason }, { file: path });
  }
}
