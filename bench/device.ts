/**
 * Devices (issue 6): `nicoff run --dev sim0` over a capture of one million
 * packets, for three examples of different size, beside the reference
 * interpreter over the same frames and the kernel (`bpftool prog run`) in
 * the same run.
 *
 * - end to end: `nicoff load` then `nicoff run --dev sim0 --pcap big.pcap
 *   --json` as processes of the built CLI, wall time of the run (Node start,
 *   capture parse, the run, the 65,536-packet throughput model, the state
 *   commit);
 * - in process: SoftwareNfpDevice.run on the parsed frames (the simulator
 *   and the device's map bookkeeping only);
 * - reference interpreter: runCaptureOnInterpreter on the same frames;
 * - kernel: `bpftool prog run ... repeat 1000000` on the capture's first
 *   IPv4 frame (bpftool runs one packet repeatedly, not a capture), ns per
 *   packet.
 * The capture is the example's own frames (>= 14 bytes) repeated in order.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOntoDevice } from '../src/compiler/device-load.js';
import { runCaptureOnInterpreter } from '../src/ebpf/run-capture.js';
import { loadObject } from '../src/ebpf/load-object.js';
import { SoftwareNfpDevice } from '../src/nfp-backend/device/software-device.js';
import { readCapture, writePcap, LINKTYPE } from '../src/pcap/index.js';
import { bpftoolNsPerPacket } from './engine-vs-kernel.js';
import { REPO_ROOT, type BenchFigure, type GroupResult } from './group-result.js';
import { machineFacts } from './machine-facts.js';

const COMMAND = '`npm run bench -- device` (needs `npm run build`)';
const PACKETS = 1_000_000;
const EXAMPLES = [
  { name: 'xdp_drop', size: 'smallest' },
  { name: 'xdp_proto_count', size: 'parser-sized' },
  { name: 'xdp_ipv6_parse', size: 'largest NFP-accepted' },
] as const;
const TARGET_PPS = 500_000;

const kpps = (pps: number): string => `${(pps / 1000).toFixed(0)} kpps`;

function bigCapture(name: string): Uint8Array[] {
  const file = join(REPO_ROOT, 'examples', `${name}.pcap`);
  const frames = readCapture(readFileSync(file), { file }).packets.map((p) => Uint8Array.from(p.data)).filter((d) => d.length >= 14);
  return Array.from({ length: PACKETS }, (_, i) => frames[i % frames.length]!);
}

function cli(args: string[]): { ms: number; status: number | null; stderr: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'cli', 'main.js'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { ms: performance.now() - t, status: r.status, stderr: r.stderr };
}

export function runDeviceGroup(): GroupResult {
  const figures: BenchFigure[] = [];
  const raw: Record<string, unknown>[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'nicoff-bench-device-'));
  try {
    for (const ex of EXAMPLES) {
      const objectPath = join(REPO_ROOT, 'examples', `${ex.name}.o`);
      const bytes = readFileSync(objectPath);
      const obj = loadObject(bytes, { path: objectPath });
      const prog = obj.programs[0]!;
      const frames = bigCapture(ex.name);
      const pcap = join(scratch, `${ex.name}.pcap`);
      writeFileSync(pcap, writePcap(frames.map((data, i) => ({ data, timestampNs: BigInt(i) * 1000n })), { linkType: LINKTYPE.ETHERNET }));

      // End to end, as a user runs it.
      const state = join(scratch, `state-${ex.name}`);
      const load = cli(['load', objectPath, '--dev', 'sim0', '--state-dir', state]);
      if (load.status !== 0) throw new Error(`nicoff load ${ex.name}: ${load.stderr}`);
      const run = cli(['run', '--dev', 'sim0', '--state-dir', state, '--pcap', pcap, '--json']);
      if (run.status !== 0) throw new Error(`nicoff run ${ex.name}: ${run.stderr}`);
      const endToEnd = PACKETS / (run.ms / 1000);

      // In process: the device alone.
      const device = new SoftwareNfpDevice('sim0', join(scratch, `inproc-${ex.name}`));
      loadOntoDevice(device, obj, prog, { objectPath, objectBytes: bytes });
      let t = performance.now();
      device.run(frames);
      const inProcess = PACKETS / ((performance.now() - t) / 1000);

      t = performance.now();
      runCaptureOnInterpreter(obj, prog, frames);
      const interp = PACKETS / ((performance.now() - t) / 1000);

      const probe = frames.find((f) => f.length >= 34 && f[12] === 0x08 && f[13] === 0x00) ?? frames[0]!;
      const kernel = bpftoolNsPerPacket(objectPath, prog.name, probe, 3, { pin: `device-${ex.name}`, scratch });
      const kernelPps = typeof kernel === 'string' ? undefined : 1e9 / Math.min(...kernel.nsPerPacket);

      raw.push({ example: ex.name, packets: PACKETS, endToEndMs: run.ms, endToEndPps: endToEnd, inProcessPps: inProcess, interpreterPps: interp, kernelPps: kernelPps ?? kernel });
      figures.push({
        figure: `${ex.name} (${ex.size}, ${prog.insns.length} eBPF slots): nicoff run --dev sim0 over ${PACKETS.toLocaleString('en')} packets, end to end`,
        value: `${kpps(endToEnd)} (${(run.ms / 1000).toFixed(2)} s)${ex.size === 'parser-sized' ? `; target ${kpps(TARGET_PPS)}: ${endToEnd >= TARGET_PPS ? 'met' : 'not met'}` : ''}`,
        command: COMMAND,
      });
      figures.push({
        figure: `${ex.name}: software NFP device in process / reference interpreter / kernel (bpftool prog run, repeat 1000000, one packet)`,
        value: `${kpps(inProcess)} / ${kpps(interp)} / ${kernelPps ? kpps(kernelPps) : `not measured: ${String(kernel)}`}`,
        command: COMMAND,
      });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return {
    group: 'device',
    date: new Date().toISOString(),
    machine: machineFacts(),
    method:
      'One process per command for the end-to-end figure (built CLI, dist/), wall time of `nicoff run --dev sim0` only (the load before it is not counted). In-process figures time one pass over the parsed frames. The kernel runs a single packet a million times (bpftool prog run repeat), which is the best case for it; the others run a million-packet capture. All in one run, one core each.',
    figures,
    notes: [`The parser-sized target is ${kpps(TARGET_PPS)} end to end on one core.`],
    raw: { runs: raw },
  };
}
