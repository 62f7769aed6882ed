/** Reading the files named on the command line, with coded errors. */
import { readFileSync } from 'node:fs';
import { fail } from '../diagnostics/diagnostic.js';

export function readInputFile(path: string): Uint8Array {
  try {
    // A plain Uint8Array over the Buffer's own memory: no copy (captures run to hundreds of MB).
    const buffer = readFileSync(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : (e.code ?? e.message);
    fail('NC1001', { reason }, { file: path });
  }
}
