/**
 * Seeded mutation fuzzing: every mutated capture either reads or throws a
 * NicoffError with an NC2xxx code. Each case is also fed to the incremental
 * parser in small pieces, and read from a file through a small window
 * (capture-file.ts), which must both agree with the whole-file read.
 */
import { expect, test } from '@jest/globals';
import { NicoffError } from '../../src/diagnostics/diagnostic.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CaptureFileWindow,
  scanCaptureFile,
  type CaptureFileScan,
  CaptureParser,
  LINKTYPE,
  SECRETS_TYPE,
  networkPayload,
  readCapture,
  writePcap,
  writePcapng,
  type CapturedPacket,
} from '../../src/pcap/index.js';
import { concatBytes, joinPcapng, le32, optionBytes, pcapngToBigEndian, pcapToBigEndian, splitPcapng } from './capture-crafting.js';
import { seededRandom } from './capture-oracle.js';

const rnd = seededRandom(20261127);
const int = (n: number): number => Math.floor(rnd() * n);

function randomPackets(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    data: Uint8Array.from({ length: int(120) }, () => int(256)),
    timestampNs: BigInt(i) * 999_999_937n,
  }));
}

function seeds(): Uint8Array[] {
  const pcap = writePcap(randomPackets(6), { linkType: LINKTYPE.ETHERNET });
  const pcapng = writePcapng(randomPackets(6), {
    linkType: LINKTYPE.LINUX_SLL2,
    fcsLen: 4,
    secrets: [{ type: SECRETS_TYPE.TLS_KEY_LOG, data: new TextEncoder().encode('CLIENT_RANDOM aa bb\n') }],
  });
  const blocks = splitPcapng(writePcapng(randomPackets(3), { linkType: LINKTYPE.RAW, tsResolution: { base: 2, exponent: 30 } }));
  const exotic = joinPcapng([
    ...blocks,
    { type: 3, body: concatBytes(le32(40), new Uint8Array(40)) },
    { type: 2, body: concatBytes(le32(0, 0, 5, 8, 8), new Uint8Array(8)) },
    { type: 0x0badcafe, body: new Uint8Array(9) },
    { type: 1, body: concatBytes(le32(113, 64), optionBytes([[9, Uint8Array.of(0x83)], [2, new TextEncoder().encode('eth0')]])) },
  ]);
  return [
    pcap,
    writePcap(randomPackets(4), { linkType: LINKTYPE.IPV6, nanosecond: true }),
    pcapToBigEndian(pcap),
    pcapng,
    pcapngToBigEndian(pcapng),
    exotic,
    concatBytes(pcapng, exotic),
  ];
}

const INTERESTING = [0, 1, 3, 4, 8, 11, 12, 16, 28, 32, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff];

function mutate(seed: Uint8Array): Uint8Array {
  let b: Uint8Array = Uint8Array.from(seed);
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    const at = int(b.length);
    switch (int(6)) {
      case 0: // bit flip
        b[at] = b[at]! ^ (1 << int(8));
        break;
      case 1: // random byte
        b[at] = int(256);
        break;
      case 2: { // interesting 32-bit value at an aligned offset (lengths, ids, counts)
        const aligned = at & ~3;
        if (aligned + 4 <= b.length) new DataView(b.buffer).setUint32(aligned, INTERESTING[int(INTERESTING.length)]!, rnd() < 0.5);
        break;
      }
      case 3: // truncate
        b = b.slice(0, at);
        break;
      case 4: { // duplicate a slice somewhere else
        const len = int(64);
        const copy = b.slice(at, at + len);
        const to = int(b.length);
        b = concatBytes(b.subarray(0, to), copy, b.subarray(to));
        break;
      }
      default: { // delete a slice
        b = concatBytes(b.subarray(0, at), b.subarray(at + int(32)));
      }
    }
  }
  return b;
}

/** Feed the incremental parser in small pieces, as the streaming reader does. */
function parseInPieces(bytes: Uint8Array): { packets: CapturedPacket[]; leftover: number } {
  const packets: CapturedPacket[] = [];
  const parser = new CaptureParser((p) => packets.push(p));
  let start = 0;
  let end = 0;
  while (end < bytes.length) {
    end = Math.min(bytes.length, end + 1 + int(200));
    start += parser.parse(bytes.subarray(start, end), start).consumed;
  }
  return { packets, leftover: bytes.length - start };
}

test('2,500 mutated captures: read or NC2xxx, never another exception', () => {
  const corpus = seeds();
  const outcomes = { read: 0, truncated: 0, refused: new Map<string, number>() };
  const started = Date.now();
  for (let i = 0; i < 2500; i++) {
    const input = mutate(corpus[i % corpus.length]!);
    let result;
    try {
      result = readCapture(input);
    } catch (e) {
      if (!(e instanceof NicoffError) || !/^NC2\d{3}$/.test(e.diagnostic.code)) {
        throw new Error(`case ${i}: unexpected ${String(e)}\n${Buffer.from(input).toString('hex')}`);
      }
      outcomes.refused.set(e.diagnostic.code, (outcomes.refused.get(e.diagnostic.code) ?? 0) + 1);
      continue;
    }
    outcomes.read++;
    if (result.truncation) outcomes.truncated++;
    for (const p of result.packets) {
      const iface = result.interfaces[p.interfaceId];
      expect(iface).toBeDefined();
      try {
        networkPayload(iface!.linkType, p.data, iface!.fcsLen);
      } catch (e) {
        expect((e as NicoffError).diagnostic?.code).toBe('NC2003');
      }
    }
    // Chunked parsing reaches the same packets and stops at the same place.
    const pieces = parseInPieces(input);
    expect(pieces.packets.map((p) => [p.interfaceId, p.timestampNs, p.originalLength, p.data.length])).toEqual(
      result.packets.map((p) => [p.interfaceId, p.timestampNs, p.originalLength, p.data.length]),
    );
    expect(pieces.leftover).toBe(result.truncation ? input.length - result.truncation.offset : 0);
  }
  console.log(
    `pcap fuzz: ${outcomes.read} read (${outcomes.truncated} truncated), refused ${JSON.stringify(Object.fromEntries(outcomes.refused))} in ${Date.now() - started} ms`,
  );
  expect(outcomes.read).toBeGreaterThan(200);
  expect(outcomes.refused.size).toBeGreaterThan(0);
});

test('400 mutated captures read from a file through windows of 1 to 300 bytes: what readCapture gives, or the same NC2xxx', () => {
  const corpus = seeds();
  const dir = mkdtempSync(join(tmpdir(), 'nicoff-window-'));
  try {
    for (let i = 0; i < 400; i++) {
      const input = mutate(corpus[i % corpus.length]!);
      const path = join(dir, `case-${i}.cap`);
      writeFileSync(path, input);
      let expected: ReturnType<typeof readCapture> | string;
      try {
        expected = readCapture(input);
      } catch (e) {
        expected = (e as NicoffError).diagnostic.code;
      }
      const window = new CaptureFileWindow(path, 1 + int(300));
      const seen: [number, string, number, string, number][] = [];
      let actual: CaptureFileScan | string;
      try {
        actual = scanCaptureFile(window, (p, at) =>
          seen.push([p.interfaceId, String(p.timestampNs), p.originalLength, Buffer.from(p.data).toString('hex'), at]),
        );
      } catch (e) {
        if (!(e instanceof NicoffError)) throw new Error(`case ${i}: unexpected ${String(e)}`);
        actual = e.diagnostic.code;
      } finally {
        window.close();
      }
      if (typeof expected === 'string') {
        expect([i, actual]).toEqual([i, expected]);
        continue;
      }
      expect(typeof actual).toBe('object');
      const scan = actual as CaptureFileScan;
      // The data offsets point at the packet's bytes in the file.
      const want = expected.packets.map((p) => [p.interfaceId, String(p.timestampNs), p.originalLength, Buffer.from(p.data).toString('hex'), p.data.byteOffset - input.byteOffset]);
      expect(seen).toEqual(want);
      expect(scan.packetCount).toBe(expected.packets.length);
      expect(scan.interfaces).toEqual(expected.interfaces);
      expect(scan.secrets.map((s) => [s.type, Buffer.from(s.data).toString('hex')])).toEqual(
        expected.secrets.map((s) => [s.type, Buffer.from(s.data).toString('hex')]),
      );
      expect(scan.truncation).toEqual(expected.truncation);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a capture file that is missing, a directory or empty: NC1001, NC1001, NC2001', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nicoff-window-'));
  try {
    const code = (path: string): string => {
      try {
        const window = new CaptureFileWindow(path);
        scanCaptureFile(window, () => undefined);
        return 'read';
      } catch (e) {
        return (e as NicoffError).diagnostic.code;
      }
    };
    writeFileSync(join(dir, 'empty.pcap'), new Uint8Array(0));
    expect([code(join(dir, 'missing.pcap')), code(dir), code(join(dir, 'empty.pcap'))]).toEqual(['NC1001', 'NC1001', 'NC2001']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
