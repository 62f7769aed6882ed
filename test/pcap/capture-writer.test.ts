import { expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture, writePcap, writePcapng, SECRETS_TYPE, type PacketToWrite } from '../../src/pcap/index.js';
import { describeWithWireshark, hex, runOk, scratchDir, seededRandom, tsharkFrames, writeScratch } from './capture-oracle.js';

const rnd = seededRandom(0xbeef);
const packets: PacketToWrite[] = Array.from({ length: 30 }, (_, i) => {
  const data = Uint8Array.from({ length: 14 + Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256));
  data[12] = 0x88;
  data[13] = 0xb5;
  const timestampNs = 1_700_000_000_000_000_000n + BigInt(i) * 1_234_567_891n + BigInt(Math.floor(rnd() * 1e9));
  return { data, timestampNs, originalLength: data.length + (i % 5 === 0 ? 100 : 0) };
});
// Whole frames of at least 60 bytes: shorter ones have no room for an FCS after the header in tshark's view.
const wholePackets = packets.filter((p) => p.data.length >= 60).map((p) => ({ ...p, originalLength: p.data.length }));
const truncatedTo = (ns: bigint, unit: bigint): bigint => ns - (ns % unit);

describeWithWireshark('written captures read back identically in tshark', () => {
  const dir = scratchDir();
  const cases: [string, Uint8Array, bigint][] = [
    ['us.pcap', writePcap(packets, { linkType: 1 }), 1000n],
    ['ns.pcap', writePcap(packets, { linkType: 1, nanosecond: true }), 1n],
    ['ns.pcapng', writePcapng(packets, { linkType: 1 }), 1n],
    ['us.pcapng', writePcapng(packets, { linkType: 1, tsResolution: { base: 10, exponent: 6 } }), 1000n],
  ];
  test.each(cases)('%s', (name, bytes, unit) => {
    const frames = tsharkFrames(writeScratch(dir, name, bytes));
    expect(frames.map((f) => [f.bytes, f.len, f.timestampNs])).toEqual(
      packets.map((p) => [hex(p.data), p.originalLength, truncatedTo(p.timestampNs!, unit)]),
    );
    // And nicoff's reader agrees with both.
    const back = readCapture(bytes);
    expect(back.packets.map((p) => [hex(p.data), p.originalLength, p.timestampNs])).toEqual(
      frames.map((f) => [f.bytes, f.len, f.timestampNs]),
    );
  });

  test('pcapng secrets survive an editcap round trip', () => {
    const keylog = 'CLIENT_RANDOM ' + 'ab'.repeat(32) + ' ' + 'cd'.repeat(48) + '\n';
    const src = writeScratch(
      dir,
      'secrets.pcapng',
      writePcapng(packets, { linkType: 1, secrets: [{ type: SECRETS_TYPE.TLS_KEY_LOG, data: Buffer.from(keylog) }] }),
    );
    const copy = join(dir, 'copy.pcapng');
    runOk('editcap', [src, copy]); // editcap carries DSBs over: it must have parsed ours.
    const back = readCapture(readFileSync(copy));
    expect(back.secrets.map((s) => [s.type, Buffer.from(s.data).toString()])).toEqual([[SECRETS_TYPE.TLS_KEY_LOG, keylog]]);
    expect(back.packets.length).toBe(packets.length);
  });

  test('FCS length in the pcap link-type field and the pcapng if_fcslen option', () => {
    const packets = wholePackets;
    // Wireshark 4.0 ignores the pcap header's FCS bits (draft-ietf-opsawg-pcap), so only pcapng has an oracle.
    expect(readCapture(writePcap(packets, { linkType: 1, fcsLen: 4 })).interfaces[0]!.fcsLen).toBe(4);
    for (const [name, bytes] of [['fcs.pcapng', writePcapng(packets, { linkType: 1, fcsLen: 4 })]] as const) {
      expect(readCapture(bytes).interfaces[0]!.fcsLen).toBe(4);
      const frames = tsharkFrames(writeScratch(dir, name, bytes));
      frames.forEach((f, i) => {
        const eth = f.layers.eth as Record<string, [string]>;
        expect(eth['eth.fcs_raw']?.[0]).toBe(hex(packets[i]!.data.subarray(packets[i]!.data.length - 4)));
      });
    }
  });
});

test('writePcap produces the documented header', () => {
  const bytes = writePcap([], { linkType: 101, nanosecond: true, snapLen: 1500 });
  expect(hex(bytes)).toBe('4d3cb2a1' + '02000400' + '00000000' + '00000000' + 'dc050000' + '65000000');
});
