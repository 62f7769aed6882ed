import { describe, test, expect } from '@jest/globals';
import { readFileSync, existsSync } from 'node:fs';
import { HELPERS, helperById, helperByName, helperAllowed } from '../../src/ebpf/helpers.js';

const DEFS = '/usr/include/bpf/bpf_helper_defs.h';

describe('helper table', () => {
  test('ids and names agree with libbpf bpf_helper_defs.h', () => {
    if (!existsSync(DEFS)) {
      process.stderr.write(`${DEFS} missing: id check skipped\n`);
      return;
    }
    const text = readFileSync(DEFS, 'utf8');
    const ids = new Map<string, number>();
    for (const m of text.matchAll(/\(\*bpf_(\w+)\)\((.*)\) = \(void \*\) (\d+);/g)) ids.set(m[1], Number(m[3]));
    for (const h of HELPERS) expect([h.name, ids.get(h.name)]).toEqual([h.name, h.id]);
  });
  test('argument counts agree with the C prototypes', () => {
    if (!existsSync(DEFS)) return;
    const text = readFileSync(DEFS, 'utf8');
    for (const m of text.matchAll(/\(\*bpf_(\w+)\)\((.*)\) = \(void \*\) (\d+);/g)) {
      const h = helperById(Number(m[3]));
      if (!h || h.name === 'trace_printk') continue;
      const n = m[2].trim() === 'void' ? 0 : m[2].split(',').length;
      expect([h.name, h.args.length]).toEqual([h.name, n]);
    }
  });
  test('lookups by id and name; per-type availability', () => {
    expect(helperById(44)?.name).toBe('xdp_adjust_head');
    expect(helperByName('bpf_map_lookup_elem')?.ret).toBe('map_value_or_null');
    expect(helperByName('skb_store_bytes')?.changesPacketData).toBe(true);
    expect(helperAllowed(9, 'xdp')).toBe(false);
    expect(helperAllowed(44, 'xdp')).toBe(true);
    expect(helperAllowed(1, 'socket_filter')).toBe(true);
    expect(helperById(5)?.nondeterministic).toBe(true);
    const ids = HELPERS.map((h) => h.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
