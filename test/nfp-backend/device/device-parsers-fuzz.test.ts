/**
 * The parsers the device commands add, fuzzed: the key/value text forms
 * (map-value-layout.ts) and a software device's saved state
 * (device-state-store.ts). Bad input must give the coded diagnostic
 * (NC6104 for text, NC6101 for a damaged state), never another exception,
 * and valid input must round-trip.
 */
import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOntoDevice } from '../../../src/compiler/device-load.js';
import { NicoffError } from '../../../src/diagnostics/diagnostic.js';
import { loadObject } from '../../../src/ebpf/load-object.js';
import { formatValue, parseValue, type ValueLayout } from '../../../src/ebpf/map-value-layout.js';
import { SoftwareNfpDevice } from '../../../src/nfp-backend/device/software-device.js';
import { seeded } from '../../support/seeded-random.js';

const root = join(import.meta.dirname, '..', '..', '..');
const where = { device: 'sim0', map: 'm', part: 'value' as const };

const u32: ValueLayout = { kind: 'int', size: 4, signed: false, name: '__u32' };
const s16: ValueLayout = { kind: 'int', size: 2, signed: true, name: 'short' };
const u64: ValueLayout = { kind: 'int', size: 8, signed: false, name: '__u64' };
const LAYOUTS: ValueLayout[] = [
  u32,
  s16,
  u64,
  { kind: 'bytes', size: 6 },
  { kind: 'array', size: 8, count: 4, element: s16 },
  {
    kind: 'struct',
    size: 16,
    name: 'stats',
    fields: [
      { name: 'packets', offset: 0, layout: u32 },
      { name: 'port', offset: 4, layout: s16 },
      { name: 'pad', offset: 6, layout: { kind: 'bytes', size: 2 } },
      { name: 'bytes', offset: 8, layout: u64 },
    ],
  },
];

const ALPHABET = '0123456789abcdefxX{}[]=,- hex:_.packetsbytesport\t';

describe('key and value text forms', () => {
  test('every byte string round-trips through its typed text and its hex form', () => {
    const rand = seeded(61);
    for (const layout of LAYOUTS) {
      for (let i = 0; i < 300; i++) {
        const bytes = Uint8Array.from({ length: layout.size }, () => Math.floor(rand() * 256));
        expect(parseValue(layout, formatValue(layout, bytes), where)).toEqual(bytes);
        expect(parseValue(layout, `hex:${Buffer.from(bytes).toString('hex')}`, where)).toEqual(bytes);
      }
    }
  });

  test('random and mutated text gives bytes of the right size or NC6104, nothing else', () => {
    const rand = seeded(62);
    let refused = 0;
    let accepted = 0;
    for (let i = 0; i < 6000; i++) {
      const layout = LAYOUTS[i % LAYOUTS.length]!;
      let text: string;
      if (rand() < 0.5) {
        text = Array.from({ length: Math.floor(rand() * 24) }, () => ALPHABET[Math.floor(rand() * ALPHABET.length)]).join('');
      } else {
        const good = formatValue(layout, Uint8Array.from({ length: layout.size }, () => Math.floor(rand() * 256)));
        const at = Math.floor(rand() * (good.length + 1));
        const cut = Math.floor(rand() * 3);
        text = good.slice(0, at) + (rand() < 0.5 ? ALPHABET[Math.floor(rand() * ALPHABET.length)] : '') + good.slice(at + cut);
      }
      try {
        expect(parseValue(layout, text, where)).toHaveLength(layout.size);
        accepted++;
      } catch (e) {
        if (!(e instanceof NicoffError)) throw new Error(`${JSON.stringify(text)} for ${layout.kind}: ${String(e)}`);
        expect(e.diagnostic.code).toBe('NC6104');
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(1000);
    expect(accepted).toBeGreaterThan(100);
  });

  test('integers are range-checked for their width and sign', () => {
    expect(parseValue(s16, '-32768', where)).toEqual(Uint8Array.of(0x00, 0x80));
    expect(() => parseValue(s16, '32768', where)).toThrow(/NC6104: .*does not fit 2 byte/);
    expect(parseValue(u32, '0xffffffff', where)).toEqual(Uint8Array.of(255, 255, 255, 255));
    expect(() => parseValue(u32, '0x100000000', where)).toThrow(/NC6104/);
  });
});

describe('a software device state, damaged at random', () => {
  test('every mutation of state.json or the image is NC6101 (or harmless), never a crash', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'nicoff-state-fuzz-'));
    const objectPath = join(root, 'examples', 'xdp_blocklist.o');
    const bytes = readFileSync(objectPath);
    const obj = loadObject(bytes, { path: objectPath });
    const device = new SoftwareNfpDevice('sim0', stateDir);
    loadOntoDevice(device, obj, obj.programs[0]!, { objectPath, objectBytes: bytes });
    device.mapUpdate('blocked_sources', Uint8Array.of(1, 2, 3, 4), new Uint8Array(8), 'any');
    const dir = join(stateDir, 'devices', 'sim0');
    const files = ['state.json', 'image-1.nfp'].map((f) => ({ path: join(dir, f), original: readFileSync(join(dir, f)) }));
    const rand = seeded(63);
    let damaged = 0;
    for (let i = 0; i < 400; i++) {
      const file = files[i % files.length]!;
      const b = Buffer.from(file.original);
      const kind = Math.floor(rand() * 3);
      let mutated: Buffer;
      if (kind === 0) {
        b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
        mutated = b;
      } else if (kind === 1) mutated = b.subarray(0, Math.floor(rand() * b.length));
      else {
        const at = Math.floor(rand() * b.length);
        mutated = Buffer.concat([b.subarray(0, at), Buffer.from([Math.floor(rand() * 256)]), b.subarray(at)]);
      }
      writeFileSync(file.path, mutated);
      try {
        device.status();
        device.mapDump('blocked_sources');
      } catch (e) {
        if (!(e instanceof NicoffError)) throw new Error(`mutation ${i} of ${file.path}: ${String(e)}`);
        expect(e.diagnostic.code).toBe('NC6101');
        damaged++;
      }
      writeFileSync(file.path, file.original);
    }
    expect(damaged).toBeGreaterThan(350);
    expect(device.status().loaded?.program).toBe('xdp_blocklist');
  });
});
