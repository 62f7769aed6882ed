/**
 * The committed examples/<name>.pcap files: reproducible from
 * tools/make-example-pcaps.ts, one per example program, and every packet meant
 * to be valid dissects in tshark with good checksums and no error-level expert info.
 */
import { expect, test } from '@jest/globals';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLES_DIR, examplePackets, examplePcap } from '../../tools/make-example-pcaps.js';
import { describeWithWireshark, run } from './capture-oracle.js';

const examples = examplePackets();

test('every example program has a committed capture of 20-60 packets that the script reproduces', () => {
  const programs = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2));
  expect([...examples.keys()].sort()).toEqual(programs.sort());
  for (const [name, packets] of examples) {
    expect(packets.length).toBeGreaterThanOrEqual(20);
    expect(packets.length).toBeLessThanOrEqual(60);
    const path = join(EXAMPLES_DIR, `${name}.pcap`);
    expect(existsSync(path)).toBe(true);
    expect(Buffer.compare(readFileSync(path), examplePcap(packets))).toBe(0);
  }
});

const PI_ERROR = 0x00800000;

describeWithWireshark('example captures dissect cleanly in tshark', () => {
  test.each([...examples.keys()])('%s', (name) => {
    const r = run('tshark', [
      '-r', join(EXAMPLES_DIR, `${name}.pcap`), '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=;',
      '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
      '-e', 'frame.number', '-e', '_ws.expert.severity', '-e', '_ws.expert.message',
    ]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const packets = examples.get(name)!;
    expect(lines.length).toBe(packets.length);
    lines.forEach((line, i) => {
      const [, severities = '', messages = ''] = line.split('|');
      const worst = Math.max(0, ...severities.split(';').filter(Boolean).map(Number));
      const problem = worst >= PI_ERROR || /checksum/i.test(messages);
      expect({ name, packet: i + 1, note: packets[i]!.note, problem: problem ? messages : '' }).toEqual({
        name,
        packet: i + 1,
        note: packets[i]!.note,
        problem: packets[i]!.intent === 'valid' ? '' : expect.stringMatching(/./),
      });
    });
  });
});
