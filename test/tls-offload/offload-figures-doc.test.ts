/**
 * docs/TLS-OFFLOAD.md quotes the offload and resync figures of every shared
 * trace. This regenerates them with tools/tls-offload-figures.ts (a fresh
 * replay of each trace in each NIC mode) and fails when the doc differs, so the
 * doc stays what `npm run docs:tls` and `nicoff tls replay` say today.
 */
import { expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { BEGIN, DOC, END, offloadFigureTables } from '../../tools/tls-offload-figures.js';
import { canRunOracle, skipUnlessOracle } from '../support/tshark-oracle.js';

if (!canRunOracle) {
  skipUnlessOracle('offload-figures-doc');
} else {
  test('the figures in docs/TLS-OFFLOAD.md are what a fresh replay of every shared trace gives (`npm run docs:tls` rewrites them)', async () => {
    const doc = readFileSync(DOC, 'utf8');
    const quoted = doc.slice(doc.indexOf(BEGIN), doc.indexOf(END) + END.length);
    expect(quoted.length).toBeGreaterThan(BEGIN.length + END.length);
    expect(quoted).toBe(await offloadFigureTables());
  }, 120_000);
}
