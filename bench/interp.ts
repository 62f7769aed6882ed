/**
 * Group `interp`: the reference interpreter's nanoseconds per packet against
 * the kernel's own BPF_PROG_TEST_RUN on the same program and packet, measured
 * in the same run and quoted as a ratio. The kernel side is measured twice:
 * through nicoff's kernel runner (the program as nicoff's loader linked it)
 * and through `bpftool prog loadall` + `bpftool prog run pinned ... repeat N`
 * (the object as libbpf loads it).
 *
 * The interpreter is imported dynamically through `loadInterpreter` below, so
 * this group (and the typecheck) does not depend on src/ebpf/interp/ existing
 * or on its final signatures: the group records "interpreter: unavailable"
 * until the expected exports are there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BpfObject, BpfProgram, MapDef } from '../src/ebpf/bpf-object.js';
import { isKernelRunnerAvailable, programRequestFromObject, runInKernelSync } from '../src/ebpf/kernel/kernel-runner.js';
import { loadObject } from '../src/ebpf/load-object.js';
import { readCapture } from '../src/pcap/index.js';
import { REPO_ROOT, type BenchFigure, type GroupResult } from './group-result.js';
import { machineFacts } from './machine-facts.js';
import { median, significant, spread } from './statistics.js';

const COMMAND = 'npm run bench -- interp';
/** Timed batches per side; each figure is the median batch. */
const BATCHES = 5;
/** An interpreter batch runs at least this long (its packet count is calibrated once). */
const INTERP_BATCH_MS = 250;
/** BPF_PROG_TEST_RUN repeat count per kernel batch. */
const KERNEL_REPEAT = 1_000_000;

// ---------------------------------------------------------------------------
// The interpreter, as this group expects it (src/ebpf/interp/, not final yet).

interface InterpreterApi {
  createMapRuntime(maps: MapDef[]): unknown;
  runProgram(prog: BpfProgram, obj: BpfObject, maps: unknown, packet: Uint8Array, opts?: Record<string, unknown>): unknown;
}

/** Module paths tried in order; tsx maps the .js to the .ts source. */
const INTERPRETER_MODULES = ['../src/ebpf/interp/index.js', '../src/ebpf/interp/interpreter.js', '../src/ebpf/interp/run-program.js'];

/**
 * NICOFF_BENCH_INTERP_MODULE (an absolute path) replaces the list, to time
 * an interpreter elsewhere (a branch's work tree) against this kernel.
 */
async function loadInterpreter(): Promise<{ api: InterpreterApi; module: string } | { reason: string }> {
  const override = process.env.NICOFF_BENCH_INTERP_MODULE;
  const seen: string[] = [];
  for (const specifier of override ? [pathToFileURL(override).href] : INTERPRETER_MODULES) {
    const source = override ? override : new URL(specifier.replace(/\.js$/, '.ts'), import.meta.url);
    if (!existsSync(source)) continue;
    const mod = (await import(specifier)) as Partial<InterpreterApi>;
    seen.push(`${specifier}: ${Object.keys(mod).join(', ') || 'no exports'}`);
    if (typeof mod.createMapRuntime === 'function' && typeof mod.runProgram === 'function') {
      return { api: mod as InterpreterApi, module: specifier };
    }
  }
  return {
    reason: seen.length
      ? `no createMapRuntime + runProgram exports (${seen.join('; ')})`
      : 'src/ebpf/interp/ is not there yet',
  };
}

/** The program's return value, whatever the interpreter calls it. */
function interpreterReturnValue(result: unknown): number | undefined {
  if (typeof result === 'number') return result;
  if (result && typeof result === 'object') {
    for (const key of ['retval', 'returnValue', 'r0', 'action']) {
      const v = (result as Record<string, unknown>)[key];
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Examples and their representative packets.

interface BenchExample {
  name: string;
  /** Which packet of examples/<name>.pcap is timed, in words for the doc. */
  packetWanted: string;
  pick: (packet: Uint8Array) => boolean;
}

/** Ethertype after any 802.1Q/802.1ad tags, and where the network header starts. */
function networkLayer(p: Uint8Array): { ethertype: number; offset: number } | undefined {
  let offset = 12;
  for (;;) {
    if (p.length < offset + 2) return undefined;
    const ethertype = (p[offset] << 8) | p[offset + 1];
    if (ethertype !== 0x8100 && ethertype !== 0x88a8) return { ethertype, offset: offset + 2 };
    offset += 4;
  }
}

function ipv4Header(p: Uint8Array): { protocol: number; l4: number } | undefined {
  const net = networkLayer(p);
  if (!net || net.ethertype !== 0x0800 || p.length < net.offset + 20) return undefined;
  const ihl = (p[net.offset] & 0x0f) * 4;
  return { protocol: p[net.offset + 9], l4: net.offset + ihl };
}

const EXAMPLES: BenchExample[] = [
  { name: 'xdp_pass', packetWanted: 'the first packet', pick: () => true },
  { name: 'xdp_proto_count', packetWanted: 'the first IPv4 TCP packet', pick: (p) => ipv4Header(p)?.protocol === 6 },
  {
    name: 'xdp_udp53',
    packetWanted: 'the first IPv4 UDP packet to port 53',
    pick: (p) => {
      const ip = ipv4Header(p);
      return ip?.protocol === 17 && p.length >= ip.l4 + 4 && ((p[ip.l4 + 2] << 8) | p[ip.l4 + 3]) === 53;
    },
  },
  {
    name: 'xdp_icmp_echo',
    packetWanted: 'the first IPv4 ICMP echo request',
    pick: (p) => {
      const ip = ipv4Header(p);
      return ip?.protocol === 1 && p[ip.l4] === 8;
    },
  },
  { name: 'xdp_ipv6_parse', packetWanted: 'the longest IPv6 packet (most extension headers)', pick: (p) => networkLayer(p)?.ethertype === 0x86dd },
];

interface PreparedExample {
  example: BenchExample;
  objectPath: string;
  obj: BpfObject;
  prog: BpfProgram;
  /** The pcap packet, as both kernel sides are given it. */
  packet: Uint8Array;
  /**
   * The packet the interpreter times: the pcap packet, or, when the program
   * rewrites it, the packet after one kernel run, because BPF_PROG_TEST_RUN
   * does not restore the packet between repetitions and repetitions 2..N see
   * the rewritten bytes.
   */
  timedPacket: Uint8Array;
  packetIndex: number;
  instructions: number;
}

function prepare(example: BenchExample): PreparedExample | string {
  const objectPath = join(REPO_ROOT, 'examples', `${example.name}.o`);
  const pcapPath = join(REPO_ROOT, 'examples', `${example.name}.pcap`);
  if (!existsSync(objectPath)) return `examples/${example.name}.o is missing`;
  if (!existsSync(pcapPath)) return `examples/${example.name}.pcap is missing`;
  const obj = loadObject(readFileSync(objectPath), { path: objectPath });
  const prog = obj.programs.find((p) => p.type === 'xdp');
  if (!prog) return `examples/${example.name}.o has no XDP program`;
  const packets = readCapture(readFileSync(pcapPath), { file: pcapPath }).packets;
  const candidates = packets.map((p, index) => ({ data: p.data, index })).filter((p) => p.data.length >= 14 && example.pick(p.data));
  if (example.name === 'xdp_ipv6_parse') candidates.sort((a, b) => b.data.length - a.data.length);
  const chosen = candidates[0];
  if (!chosen) return `no packet in examples/${example.name}.pcap is ${example.packetWanted}`;
  const instructions = prog.insns.length - prog.insns.filter((i) => i.slots === 2).length;
  const packet = new Uint8Array(chosen.data);
  return { example, objectPath, obj, prog, packet, timedPacket: packet, packetIndex: chosen.index, instructions };
}

/** The packet after one kernel run when the program rewrote it (see PreparedExample.timedPacket), else undefined. */
function packetAfterOneKernelRun(ex: PreparedExample): { packet: Uint8Array; retval: number } | undefined {
  if (!isKernelRunnerAvailable().ok) return undefined;
  const result = runInKernelSync({ ...programRequestFromObject(ex.obj, ex.prog, [{ data: ex.packet }]), dumpMapsAtEnd: false });
  const run = result.runs[0];
  if (!result.loaded || !run?.ok) return undefined;
  const same = run.dataOut.length === ex.packet.length && run.dataOut.every((b, i) => b === ex.packet[i]);
  return same ? undefined : { packet: run.dataOut, retval: run.retval };
}

// ---------------------------------------------------------------------------
// The three measurements.

function interpreterNsPerPacket(api: InterpreterApi, ex: PreparedExample): { nsPerPacket: number[]; packetsPerBatch: number; retval?: number } {
  const maps = api.createMapRuntime(ex.obj.maps);
  const runOnce = (): unknown => api.runProgram(ex.prog, ex.obj, maps, ex.timedPacket, {});
  const retval = interpreterReturnValue(runOnce());
  // Calibrate: grow the count (x2 to x8 a step) until one batch lasts INTERP_BATCH_MS; this also warms the JIT.
  let packetsPerBatch = 16;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < packetsPerBatch; i++) runOnce();
    const elapsed = performance.now() - start;
    if (elapsed >= INTERP_BATCH_MS || packetsPerBatch >= 1 << 24) break;
    packetsPerBatch = Math.ceil(packetsPerBatch * Math.min(8, Math.max(2, (INTERP_BATCH_MS * 1.1) / Math.max(elapsed, 1))));
  }
  const nsPerPacket: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < packetsPerBatch; i++) runOnce();
    nsPerPacket.push(Number(process.hrtime.bigint() - start) / packetsPerBatch);
  }
  return { nsPerPacket, packetsPerBatch, ...(retval !== undefined ? { retval } : {}) };
}

function kernelRunnerNsPerPacket(ex: PreparedExample): { nsPerPacket: number[]; retval: number } | string {
  const availability = isKernelRunnerAvailable();
  if (!availability.ok) return availability.reason;
  const packets = Array.from({ length: BATCHES + 1 }, () => ({ data: ex.packet, repeat: KERNEL_REPEAT }));
  const result = runInKernelSync({ ...programRequestFromObject(ex.obj, ex.prog, packets), dumpMapsAtEnd: false });
  if (!result.loaded) return `the kernel refused the program: ${result.errnoName ?? 'error'} ${result.log.trim().split('\n').slice(-2).join(' | ')}`;
  const runs = result.runs.slice(1); // the first batch warms caches and is dropped
  const durations: number[] = [];
  let retval = -1;
  for (const run of runs) {
    if (!run.ok) return `BPF_PROG_TEST_RUN failed with ${run.errnoName}`;
    durations.push(run.durationNs);
    retval = run.retval;
  }
  return { nsPerPacket: durations, retval };
}

function bpftoolNsPerPacket(ex: PreparedExample, scratch: string): { nsPerPacket: number[]; retval: number } | string {
  if (!existsSync('/sys/fs/bpf')) return '/sys/fs/bpf is not mounted';
  const pinDir = `/sys/fs/bpf/nicoff-bench-${process.pid}-${ex.example.name}`;
  const packetFile = join(scratch, `${ex.example.name}.bin`);
  writeFileSync(packetFile, ex.packet);
  const load = spawnSync('bpftool', ['prog', 'loadall', ex.objectPath, pinDir], { encoding: 'utf8' });
  try {
    if (load.error) return `bpftool is not usable: ${load.error.message}`;
    if (load.status !== 0) return `bpftool prog loadall failed: ${(load.stderr || load.stdout).trim().split('\n').slice(-2).join(' | ')}`;
    const nsPerPacket: number[] = [];
    let retval = -1;
    for (let b = 0; b < BATCHES + 1; b++) {
      const run = spawnSync('bpftool', ['prog', 'run', 'pinned', join(pinDir, ex.prog.name), 'data_in', packetFile, 'repeat', String(KERNEL_REPEAT)], {
        encoding: 'utf8',
      });
      const answer = /Return value: (\d+), duration \(average\): (\d+)ns/.exec(`${run.stdout}${run.stderr}`);
      if (!answer) return `bpftool prog run failed: ${(run.stderr || run.stdout).trim().slice(-300)}`;
      retval = Number(answer[1]);
      if (b > 0) nsPerPacket.push(Number(answer[2]));
    }
    return { nsPerPacket, retval };
  } finally {
    rmSync(pinDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------

function summary(values: number[]): { median: number; min: number; max: number } {
  const s = spread(values);
  return { median: significant(median(values)), min: significant(s.min), max: significant(s.max) };
}

function ns(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} µs`;
  return value >= 100 ? `${Math.round(value)} ns` : `${value.toFixed(1)} ns`;
}

const ratio = (value: number): string => (value >= 10 ? `${Math.round(value)}x` : `${value.toFixed(1)}x`);

export async function runInterpGroup(): Promise<GroupResult> {
  const interpreter = await loadInterpreter();
  const figures: BenchFigure[] = [];
  const notes: string[] = [];
  const raw: Record<string, unknown>[] = [];
  if ('reason' in interpreter) notes.push(`interpreter: unavailable (${interpreter.reason})`);
  const scratch = mkdtempSync(join(tmpdir(), 'nicoff-bench-interp-'));
  try {
    for (const example of EXAMPLES) {
      const ex = prepare(example);
      if (typeof ex === 'string') {
        notes.push(`${example.name}: skipped (${ex})`);
        continue;
      }
      const rewritten = packetAfterOneKernelRun(ex);
      if (rewritten) {
        ex.timedPacket = rewritten.packet;
        notes.push(
          `${example.name}: the program rewrites the packet (first run returned ${rewritten.retval}) and BPF_PROG_TEST_RUN does not restore it between repetitions, ` +
            'so the kernel\'s repetitions 2..N run on the rewritten packet; the interpreter is timed on that rewritten packet too, and both sides time the path it takes.',
        );
      }
      process.stderr.write(`[interp] ${example.name}: ${ex.instructions} instructions, packet #${ex.packetIndex} (${ex.packet.length} B)\n`);
      const interp = 'api' in interpreter ? interpreterNsPerPacket(interpreter.api, ex) : undefined;
      const runner = kernelRunnerNsPerPacket(ex);
      const bpftool = bpftoolNsPerPacket(ex, scratch);
      const name = `${example.name} (${ex.instructions} insns, pcap packet #${ex.packetIndex}, ${ex.packet.length} B: ${example.packetWanted})`;
      const entry: Record<string, unknown> = {
        example: example.name,
        instructions: ex.instructions,
        packetIndex: ex.packetIndex,
        packetBytes: ex.packet.length,
        timedPacketRewritten: ex.timedPacket !== ex.packet,
      };
      if (interp) {
        const s = summary(interp.nsPerPacket);
        entry.interpreter = { ...s, packetsPerBatch: interp.packetsPerBatch, batches: BATCHES, retval: interp.retval };
        figures.push({ figure: `${name}: interpreter per packet`, value: ns(s.median), command: COMMAND });
      }
      for (const [side, measured] of [
        ['kernel runner', runner],
        ['bpftool prog run', bpftool],
      ] as const) {
        const key = side === 'kernel runner' ? 'kernelRunner' : 'bpftool';
        if (typeof measured === 'string') {
          entry[key] = { unavailable: measured };
          figures.push({ figure: `${name}: kernel (${side}) per packet`, value: `kernel: unavailable (${measured})`, command: COMMAND });
          continue;
        }
        const s = summary(measured.nsPerPacket);
        entry[key] = { ...s, repeat: KERNEL_REPEAT, batches: BATCHES, retval: measured.retval };
        figures.push({ figure: `${name}: kernel (${side}, repeat ${KERNEL_REPEAT}) per packet`, value: `${s.median} ns`, command: COMMAND });
        if (interp) {
          const slower = median(interp.nsPerPacket) / Math.max(s.median, 1);
          entry[`ratioVs_${key}`] = significant(slower, 3);
          figures.push({ figure: `${name}: interpreter / kernel (${side})`, value: ratio(slower), command: COMMAND });
          if (interp.retval !== undefined && interp.retval !== measured.retval) {
            notes.push(`${example.name}: interpreter returned ${interp.retval}, kernel (${side}) ${measured.retval}, on the timed packet`);
          }
        }
      }
      raw.push(entry);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return {
    group: 'interp',
    date: new Date().toISOString(),
    machine: machineFacts(),
    method:
      `One program and one packet per example, all sides in the same run. Interpreter: createMapRuntime once, then runProgram in a loop (batch length calibrated to ≥ ${INTERP_BATCH_MS} ms, JIT warm), median of ${BATCHES} batches. ` +
      `Kernel: BPF_PROG_TEST_RUN with repeat ${KERNEL_REPEAT} (the kernel's own average), median of ${BATCHES} batches after one dropped warm-up batch, ` +
      'once through nicoff\'s kernel runner (the program as nicoff links it) and once through `bpftool prog loadall` into a unique /sys/fs/bpf pin, removed afterwards. ' +
      'Ratios divide the medians of the two sides, measured seconds apart in the same run. The kernel reports whole nanoseconds (its average is an integer division), so single-digit kernel figures carry ±1 ns. Map state persists across repetitions on every side, as it does in the kernel.',
    figures,
    notes,
    raw: { examples: raw, interpreterModule: 'module' in interpreter ? interpreter.module : null },
  };
}
