/**
 * docs/NFP-SIMULATOR.md repeats the reference latency model for readers; the
 * code's LATENCY_MODEL_V1 is the one table. This keeps the two from drifting:
 * every figure of the code must appear, with its value, in the doc's row.
 */
import { describe, test, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LATENCY_MODEL_V1 } from '../../../src/nfp-backend/sim/latency-model.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'NFP-SIMULATOR.md'), 'utf8');
const rows = new Map(
  doc
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| figure') && !l.startsWith('|---'))
    .map((l) => {
      const cells = l.split('|').map((c) => c.trim());
      return [cells[1]!, cells[2]!] as const;
    }),
);

const m = LATENCY_MODEL_V1;
/** Doc row name -> the value text the code's figures give. */
const expected: [string, string][] = [
  ['instruction issued (defer slots included)', `${m.instruction.value} cycle`],
  ['taken unconditional `br`', `${m.branchShadow.br.value} - defer extra cycles`],
  ['taken conditional branch, `br_bset`/`br_bclr`', `${m.branchShadow.conditional.value} - defer extra cycles`],
  ['`rtn`', `${m.branchShadow.rtn.value} - defer extra cycles`],
  ['LM pointer write delay', `${m.lmPointerWriteDelay.value} cycles`],
  ['context swap', `${m.contextSwap.value} cycles`],
  ['local memory, registers', `${m.memory.lm.value} stall`],
  ['CTM command', `${m.memory.ctm.value} cycles`],
  ['IMEM command', `${m.memory.imem.value} cycles`],
  ['EMEM command', `${m.memory.emem.value} cycles`],
  ['firmware map lookup, hash / array', `${m.helpers.mapLookupHash.value} / ${m.helpers.mapLookupArray.value} cycles`],
  ['firmware map update, hash / array', `${m.helpers.mapUpdateHash.value} / ${m.helpers.mapUpdateArray.value} cycles`],
  ['firmware map delete, hash / array', `${m.helpers.mapDeleteHash.value} / ${m.helpers.mapDeleteArray.value} cycles`],
  ['perf_event_output', `${m.helpers.perfEventOutput.value} cycles`],
  ['clock', `${m.clockHz.value / 1e6} MHz`],
  ['datapath microengines', `${m.microengines.value}`],
  ['contexts per microengine', `${m.contextsPerMe.value}`],
  ['line rate', `${m.ports.value} x ${m.portLineRatePps.value / 1e6} Mpps`],
];

describe('docs/NFP-SIMULATOR.md states latency model v1 as the code does', () => {
  test('the doc names the model version', () => {
    expect(doc).toContain(`## Reference latency model v${m.version}`);
  });
  test.each(expected)('%s', (row, value) => {
    expect(rows.get(row)).toBe(value);
  });
  test('the doc has no latency row the code lacks', () => {
    const tableRows = [...rows.keys()].filter((k) => expected.some(([r]) => r === k) || /cycle|stall|MHz|Mpps/.test(rows.get(k) ?? ''));
    expect(tableRows.filter((r) => !expected.some(([e]) => e === r) && r !== 'branch not taken')).toEqual([]);
  });
});
