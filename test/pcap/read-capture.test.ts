import { expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture, CaptureFileWindow, scanCaptureFile, SECRETS_TYPE, type Capture } from '../../src/pcap/index.js';
import { NicoffError } from '../../src/diagnostics/diagnostic.js';
import {
  describeWithWireshark,
  hex,
  run,
  runOk,
  scratchDir,
  seededRandom,
  text2pcapInput,
  tsharkCount,
  tsharkFrames,
  writeScratch,
  type TsharkFrame,
} from './capture-oracle.js';
import {
  concatBytes,
  joinPcapng,
  le32,
  optionBytes,
  pcapngToBigEndian,
  pcapToBigEndian,
  splitPcapng,
} from './capture-crafting.js';

const rnd = seededRandom(0x5eed);

/** Random Ethernet frames (ethertype 0x88b5, "local experimental", so nothing dissects further). */
function randomPackets(count: number): { time: string; data: Uint8Array }[] {
  return Array.from({ length: count }, (_, i) => {
    const data = Uint8Array.from({ length: 14 + Math.floor(rnd() * 400) }, () => Math.floor(rnd() * 256));
    data[12] = 0x88;
    data[13] = 0xb5;
    const ns = String(Math.floor(rnd() * 1e9)).padStart(9, '0');
    return { time: `10:${String(10 + i).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.${ns}`, data };
  });
}

function expectSameAsTshark(capture: Capture, frames: TsharkFrame[]): void {
  expect(capture.packets.length).toBe(frames.length);
  capture.packets.forEach((p, i) => {
    const f = frames[i]!;
    expect({ i, bytes: hex(p.data), len: p.originalLength, capLen: p.data.length, ts: p.timestampNs }).toEqual({
      i,
      bytes: f.bytes,
      len: f.len,
      capLen: f.capLen,
      ts: f.timestampNs,
    });
    expect(capture.interfaces[p.interfaceId]!.section).toBe(f.section);
  });
}

function expectNicoffError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NicoffError);
    expect((e as NicoffError).diagnostic.code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describeWithWireshark('readCapture against tshark', () => {
  const dir = scratchDir();
  const input = writeScratch(dir, 'packets.txt', text2pcapInput(randomPackets(25)));
  const pcapUs = join(dir, 'us.pcap');
  const pcapNs = join(dir, 'ns.pcap');
  const pcapng = join(dir, 'ns.pcapng');
  const pcapngUs = join(dir, 'us.pcapng');
  runOk('text2pcap', ['-q', '-F', 'pcap', '-t', '%H:%M:%S.%f', input, pcapUs]);
  runOk('editcap', ['-F', 'nsecpcap', pcapUs, pcapNs]);
  // Nanosecond timestamps need text2pcap's pcapng output; editcap keeps them.
  runOk('text2pcap', ['-q', '-t', '%H:%M:%S.%f', input, pcapng]);
  runOk('editcap', ['-F', 'pcapng', pcapUs, pcapngUs]);
  const read = (path: string): Capture => readCapture(readFileSync(path), { file: path });

  test('microsecond pcap (little-endian)', () => {
    const c = read(pcapUs);
    expect(c.format).toBe('pcap');
    expect(c.interfaces).toEqual([{ linkType: 1, tsResolution: { base: 10, exponent: 6 }, snapLen: 262144, section: 0 }]);
    expectSameAsTshark(c, tsharkFrames(pcapUs));
    expect(c.truncation).toBeUndefined();
  });

  test('nanosecond pcap written by editcap', () => {
    const c = read(pcapNs);
    expect(c.interfaces[0]!.tsResolution).toEqual({ base: 10, exponent: 9 });
    expectSameAsTshark(c, tsharkFrames(pcapNs));
  });

  test('pcapng with nanosecond if_tsresol, and with the microsecond default', () => {
    const ns = read(pcapng);
    expect(ns.format).toBe('pcapng');
    expect(ns.interfaces[0]!.tsResolution).toEqual({ base: 10, exponent: 9 });
    expectSameAsTshark(ns, tsharkFrames(pcapng));
    expectSameAsTshark(read(pcapngUs), tsharkFrames(pcapngUs));
  });

  test('big-endian pcap and pcapng read the same as tshark reads them', () => {
    for (const [name, src, convert] of [
      ['be.pcap', pcapNs, pcapToBigEndian],
      ['be.pcapng', pcapng, pcapngToBigEndian],
    ] as const) {
      const path = writeScratch(dir, name, convert(readFileSync(src)));
      const frames = tsharkFrames(path);
      // The conversion itself is checked by tshark: same frames as the little-endian file.
      expect(frames.map((f) => [f.bytes, f.timestampNs])).toEqual(tsharkFrames(src).map((f) => [f.bytes, f.timestampNs]));
      expectSameAsTshark(read(path), frames);
    }
  });

  test('several pcapng sections with their own interfaces and link types', () => {
    const rawIp = join(dir, 'raw.pcapng');
    const ipPackets = randomPackets(5).map((p) => ({ ...p, data: p.data.subarray(14) }));
    for (const p of ipPackets) p.data[0] = 0x45;
    runOk('text2pcap', ['-q', '-l', '101', '-t', '%H:%M:%S.%f', writeScratch(dir, 'ip.txt', text2pcapInput(ipPackets)), rawIp]);
    const both = writeScratch(dir, 'sections.pcapng', concatBytes(readFileSync(pcapng), readFileSync(rawIp), readFileSync(pcapngUs)));
    const c = read(both);
    expect(c.interfaces.map((i) => [i.section, i.linkType])).toEqual([
      [0, 1],
      [1, 101],
      [2, 1],
    ]);
    const frames = tsharkFrames(both);
    expectSameAsTshark(c, frames);
    expect(new Set(frames.map((f) => f.section))).toEqual(new Set([0, 1, 2]));
  });

  test('if_tsresol as a power of 2 and as milliseconds', () => {
    const blocks = splitPcapng(readFileSync(pcapng));
    for (const [tsresol, base, exponent] of [
      [0x80 | 20, 2, 20],
      [3, 10, 3],
    ] as const) {
      const rewritten = blocks.map((b) => {
        if (b.type === 1) return { type: 1, body: concatBytes(le32(1, 65535), optionBytes([[9, Uint8Array.of(tsresol)]])) };
        if (b.type !== 6) return b;
        // Keep the packets, give them tick counts in the new unit.
        const body = b.body.slice();
        const view = new DataView(body.buffer);
        const ticks = ((BigInt(view.getUint32(4, true)) << 32n) | BigInt(view.getUint32(8, true))) * 7n;
        view.setUint32(4, Number(ticks >> 32n), true);
        view.setUint32(8, Number(ticks & 0xffffffffn), true);
        return { type: 6, body };
      });
      const path = writeScratch(dir, `tsresol-${tsresol}.pcapng`, joinPcapng(rewritten));
      const c = read(path);
      expect(c.interfaces[0]!.tsResolution).toEqual({ base, exponent });
      const frames = tsharkFrames(path);
      expect(c.packets.length).toBe(frames.length);
      // tshark prints 9 decimals and may round where nicoff rounds down: allow 1 ns.
      c.packets.forEach((p, i) => {
        const diff = p.timestampNs - frames[i]!.timestampNs;
        expect(diff >= -1n && diff <= 1n).toBe(true);
      });
    }
  });

  test('if_fcslen: the frame check sequence tshark finds is the one nicoff reports', () => {
    const blocks = splitPcapng(readFileSync(pcapng)).map((b) =>
      b.type === 1
        ? { type: 1, body: concatBytes(le32(1, 0), optionBytes([[9, Uint8Array.of(9)], [13, Uint8Array.of(4)]])) }
        : b,
    );
    const path = writeScratch(dir, 'fcs.pcapng', joinPcapng(blocks));
    const c = read(path);
    expect(c.interfaces[0]!.fcsLen).toBe(4);
    const frames = tsharkFrames(path);
    c.packets.forEach((p, i) => {
      const eth = frames[i]!.layers.eth as Record<string, unknown>;
      expect((eth['eth.fcs_raw'] as [string])[0]).toBe(hex(p.data.subarray(p.data.length - 4)));
    });
  });

  test('simple packet blocks, obsolete packet blocks and unknown blocks', () => {
    const blocks = splitPcapng(readFileSync(pcapng));
    const crafted = blocks.flatMap((b, i) => {
      if (b.type !== 6) return [b];
      const view = new DataView(b.body.buffer);
      const capLen = view.getUint32(12, true);
      const data = b.body.subarray(20, 20 + capLen);
      const unknown = { type: 0x0badcafe, body: Uint8Array.of(1, 2, 3, 4, 5) };
      if (i % 3 === 0) return [unknown, { type: 3, body: concatBytes(le32(capLen), data) }];
      if (i % 3 === 1) {
        const header = concatBytes(Uint8Array.of(0, 0, 0, 0), b.body.subarray(4, 20));
        return [{ type: 2, body: concatBytes(header, data) }];
      }
      return [b];
    });
    const path = writeScratch(dir, 'spb.pcapng', joinPcapng(crafted));
    expectSameAsTshark(read(path), tsharkFrames(path));
  });

  test('decryption secrets injected by editcap come back verbatim', () => {
    const keylog =
      'CLIENT_RANDOM 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef ' +
      'aa'.repeat(48) +
      '\nSERVER_TRAFFIC_SECRET_0 ' +
      '11'.repeat(32) +
      ' ' +
      '22'.repeat(32) +
      '\n';
    const keys = writeScratch(dir, 'keys.txt', keylog);
    const out = join(dir, 'dsb.pcapng');
    runOk('editcap', ['--inject-secrets', `tls,${keys}`, pcapng, out]);
    const c = read(out);
    expect(c.secrets.map((s) => [s.type, Buffer.from(s.data).toString()])).toEqual([[SECRETS_TYPE.TLS_KEY_LOG, keylog]]);
    expectSameAsTshark(c, tsharkFrames(out));
    // Big-endian DSB too.
    const be = read(writeScratch(dir, 'dsb-be.pcapng', pcapngToBigEndian(readFileSync(out))));
    expect(Buffer.from(be.secrets[0]!.data).toString()).toBe(keylog);
  });

  test('a capture cut anywhere keeps exactly the packets tshark keeps', () => {
    for (const src of [pcapUs, pcapng]) {
      const bytes = readFileSync(src);
      const full = read(src).packets.length;
      // A cut inside the file header makes tshark fall back to showing the bytes as one MIME frame: no oracle there.
      const firstRecord = src.endsWith('.pcap') ? 24 : new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
      const cuts = [
        ...Array.from({ length: 10 }, () => firstRecord + Math.floor(rnd() * (bytes.length - firstRecord))),
        bytes.length - 1,
        firstRecord + 3,
      ];
      for (const cut of cuts) {
        const path = writeScratch(dir, 'cut', bytes.subarray(0, cut));
        const c = readCapture(readFileSync(path));
        const oracle = tsharkCount(path);
        expect({ cut, n: c.packets.length }).toEqual({ cut, n: oracle.count });
        expect(c.truncation).toBeDefined();
        expect(oracle.error).not.toBe('');
        expect(c.packets.length).toBeLessThan(full);
      }
    }
  });

  test('reading the file through small windows gives the same packets, interfaces and truncation', () => {
    for (const src of [pcapNs, pcapng]) {
      const bytes = readFileSync(src);
      const whole = read(src);
      const cutPath = writeScratch(dir, 'stream-cut', bytes.subarray(0, bytes.length - 7));
      for (const [path, expected] of [
        [src, whole],
        [cutPath, readCapture(readFileSync(cutPath))],
      ] as const) {
        for (const chunk of [7, 64, 1 << 20]) {
          const window = new CaptureFileWindow(path, chunk);
          const got: unknown[] = [];
          const scan = scanCaptureFile(window, (p) => got.push({ ...p, data: hex(p.data) }));
          window.close();
          expect(got).toEqual(expected.packets.map((p) => ({ ...p, data: hex(p.data) })));
          expect(scan.interfaces).toEqual(expected.interfaces);
          expect(scan.truncation).toEqual(expected.truncation);
        }
      }
    }
  });
});

describeWithWireshark('readCapture refuses what tshark refuses', () => {
  const dir = scratchDir();
  test('garbage magic and empty input are NC2001', () => {
    const path = writeScratch(dir, 'garbage', Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24));
    expect(run('tshark', ['-r', path]).status).not.toBe(0);
    expectNicoffError(() => readCapture(readFileSync(path)), 'NC2001');
    expectNicoffError(() => readCapture(new Uint8Array(0)), 'NC2001');
  });

  test('impossible block lengths are NC2004', () => {
    const input = writeScratch(dir, 'p.txt', text2pcapInput(randomPackets(3)));
    const src = join(dir, 'p.pcapng');
    runOk('text2pcap', ['-q', input, src]);
    const bytes = readFileSync(src);
    const firstEpb = splitPcapng(bytes).slice(0, 2).reduce((n, b) => n + b.body.length + 12, 0);
    for (const badLength of [8, 30, 0x7ffffff0]) {
      const broken = Uint8Array.from(bytes);
      new DataView(broken.buffer).setUint32(firstEpb + 4, badLength, true);
      const path = writeScratch(dir, `bad-${badLength}.pcapng`, broken);
      expect(run('tshark', ['-r', path]).status).not.toBe(0);
      expectNicoffError(() => readCapture(broken), 'NC2004');
    }
  });
});

test('a pcap header alone is a capture with no packets', () => {
  const header = le32(0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1);
  const c = readCapture(header);
  expect(c.packets).toEqual([]);
  expect(c.truncation).toBeUndefined();
});
