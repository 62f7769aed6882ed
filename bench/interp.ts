/**
 * Group `interp`: the reference interpreter's nanoseconds per packet against
 * the kernel's own BPF_PROG_TEST_RUN on the same program and packet, measured
 * in the same run and quoted as a ratio, plus the interpreter's eBPF
 * instructions per second. The kernel side is measured twice: through
 * nicoff's kernel runner (the program as nicoff's loader linked it) and
 * through `bpftool prog loadall` + `bpftool prog run pinned ... repeat N`
 * (the object as libbpf loads it).
 *
 * Packets: runProgram copies its packet argument into a fresh frame on every
 * call, so every interpreter run starts from the same bytes. The kernel does
 * not restore the frame between the repetitions of one BPF_PROG_TEST_RUN, so
 * for a program that rewrites its packet (xdp_icmp_echo) repetitions 2..N see
 * the rewritten bytes; see `kernelSteadyState`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BpfObject, BpfProgram } from '../src/ebpf/bpf-object.js';
import { createMapRuntime, runProgram } from '../src/ebpf/interp/index.js';
import { isKernelRunnerAvailable, programRequestFromObject, runInKernelSync } from '../src/ebpf/kernel/kernel-runner.js';
import { loadObject } from '../src/ebpf/load-object.js';
import { readCapture } from '../src/pcap/index.js';
import { REPO_ROOT, type BenchFigure, type GroupResult } from './group-result.js';
import { bpftoolNsPerPacket, formatNs, formatRatio, KERNEL_REPEAT, KERNEL_SIDES, kernelRunnerNsPerPacket, timeCalibrated } from './engine-vs-kernel.js';
import { machineFacts } from './machine-facts.js';
import { median, medianAndSpread, significant } from './statistics.js';

const COMMAND = 'npm run bench -- interp';
/** Timed batches per side; each figure is the median batch. */
const BATCHES = 5;
/** An interpreter batch runs at least this long (its packet count is calibrated once). */
const INTERP_BATCH_MS = 250;

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
   * The packet the interpreter times: the packet the kernel's repetitions
   * 2..N actually run on (see kernelSteadyState). It is the pcap packet unless
   * the program rewrites it.
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

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** One run on a fresh map state: the output frame and return value (kernel runner, or the interpreter when there is no kernel). */
function runOnceFresh(ex: PreparedExample, packet: Uint8Array, onKernel: boolean): { packet: Uint8Array; retval: number } | undefined {
  if (!onKernel) {
    const result = runProgram(ex.prog, ex.obj, createMapRuntime(ex.obj.maps), packet, {});
    return { packet: result.packet, retval: Number(result.retval) };
  }
  const result = runInKernelSync({ ...programRequestFromObject(ex.obj, ex.prog, [{ data: packet }]), dumpMapsAtEnd: false });
  const run = result.runs[0];
  if (!result.loaded || !run?.ok) return undefined;
  return { packet: run.dataOut, retval: run.retval };
}

/**
 * The packet the kernel's repetitions see once they settle. BPF_PROG_TEST_RUN
 * with repeat N runs the program N times on one frame and does not restore it
 * in between, so when the program rewrites its packet, repetitions 2..N run
 * on the rewritten bytes and the kernel's average is (almost entirely) the
 * cost of that second path. Runs the program on its own output until the
 * output stops changing (a fixed point, which repetitions 2..N then all see)
 * or gives up after a few rounds and says so. Decided by the kernel when the
 * kernel runner is there, else by the interpreter.
 */
function kernelSteadyState(ex: PreparedExample): { packet: Uint8Array; rounds: string[]; fixedPoint: boolean; by: string } | undefined {
  const onKernel = isKernelRunnerAvailable().ok;
  const by = onKernel ? 'the kernel runner' : 'the interpreter (no kernel runner)';
  let packet = ex.packet;
  const rounds: string[] = [];
  for (let round = 0; round < 4; round++) {
    const out = runOnceFresh(ex, packet, onKernel);
    if (!out) return undefined;
    if (sameBytes(out.packet, packet)) return round === 0 ? undefined : { packet, rounds, fixedPoint: true, by };
    rounds.push(`run ${round + 1} returned ${out.retval} and rewrote the packet`);
    packet = out.packet;
  }
  return { packet, rounds, fixedPoint: false, by };
}

// ---------------------------------------------------------------------------
// The three measurements.

interface InterpreterTiming {
  nsPerPacket: number[];
  packetsPerBatch: number;
  retval: number;
  /** eBPF instructions one run executes (ld_imm64 counts once), from the result of the first run. */
  insnsPerPacket: number;
}

/**
 * The interpreter on `packet`: one map runtime for the whole measurement (map
 * state persists, as in the kernel), runProgram in a loop. runProgram copies
 * `packet` into a fresh frame every call, so every run starts from the same bytes.
 */
function interpreterNsPerPacket(ex: PreparedExample, packet: Uint8Array): InterpreterTiming {
  const maps = createMapRuntime(ex.obj.maps);
  const { prog, obj } = ex;
  const first = runProgram(prog, obj, maps, packet, {});
  const timed = timeCalibrated(
    (count) => {
      for (let i = 0; i < count; i++) runProgram(prog, obj, maps, packet, {});
    },
    { first: 16, maxCount: 1 << 24, batchMs: INTERP_BATCH_MS, batches: BATCHES },
  );
  return { nsPerPacket: timed.nsPerItem, packetsPerBatch: timed.count, retval: Number(first.retval), insnsPerPacket: first.insnsExecuted };
}

function perSecond(insns: number, nsPerPacket: number): number {
  return (insns / nsPerPacket) * 1e9;
}

function millions(value: number): string {
  return `${significant(value / 1e6, 3)} M eBPF insns/s`;
}

export async function runInterpGroup(): Promise<GroupResult> {
  const figures: BenchFigure[] = [];
  const notes: string[] = [];
  const raw: Record<string, unknown>[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'nicoff-bench-interp-'));
  const loadAtStart = loadavg()[0];
  try {
    for (const example of EXAMPLES) {
      const ex = prepare(example);
      if (typeof ex === 'string') {
        notes.push(`${example.name}: skipped (${ex})`);
        continue;
      }
      const steady = kernelSteadyState(ex);
      if (steady) {
        ex.timedPacket = steady.packet;
        notes.push(
          `${example.name}: the program rewrites its packet (${steady.rounds.join('; ')}, according to ${steady.by}). ` +
            'BPF_PROG_TEST_RUN does not restore the frame between repetitions, so the kernel figures are 1 run on the pcap packet plus ' +
            `${KERNEL_REPEAT - 1} runs on the rewritten one, averaged. ` +
            (steady.fixedPoint
              ? 'The rewritten packet is a fixed point (the program leaves it unchanged), so the interpreter is timed on fresh copies of that rewritten packet, the path the kernel figures measure; '
              : 'The packet did not settle within 4 runs, so the kernel\'s repetitions cycle; the interpreter is timed on the last rewritten packet only, and the ratio is approximate; ') +
            'the interpreter\'s own cost on the pcap packet is given separately.',
        );
      }
      process.stderr.write(`[interp] ${example.name}: ${ex.instructions} instructions, packet #${ex.packetIndex} (${ex.packet.length} B)\n`);
      const interp = interpreterNsPerPacket(ex, ex.timedPacket);
      const interpOnPcapPacket = ex.timedPacket !== ex.packet ? interpreterNsPerPacket(ex, ex.packet) : undefined;
      const kernel = {
        kernelRunner: kernelRunnerNsPerPacket(ex.obj, ex.prog, ex.packet, BATCHES),
        bpftool: bpftoolNsPerPacket(ex.objectPath, ex.prog.name, ex.packet, BATCHES, { pin: ex.example.name, scratch }),
      };
      const name = `${example.name} (${ex.instructions} insns, pcap packet #${ex.packetIndex}, ${ex.packet.length} B: ${example.packetWanted})`;
      const entry: Record<string, unknown> = {
        example: example.name,
        instructions: ex.instructions,
        packetIndex: ex.packetIndex,
        packetBytes: ex.packet.length,
        timedPacketRewritten: ex.timedPacket !== ex.packet,
      };
      const s = medianAndSpread(interp.nsPerPacket);
      const rate = perSecond(interp.insnsPerPacket, median(interp.nsPerPacket));
      entry.interpreter = {
        ...s,
        packetsPerBatch: interp.packetsPerBatch,
        batches: BATCHES,
        retval: interp.retval,
        insnsExecutedPerPacket: interp.insnsPerPacket,
        insnsPerSecond: significant(rate, 3),
      };
      const onWhat = ex.timedPacket !== ex.packet ? ' (on the rewritten packet the kernel repeats on)' : '';
      figures.push({ figure: `${name}: interpreter per packet${onWhat}`, value: formatNs(s.median), command: COMMAND });
      figures.push({
        figure: `${name}: interpreter speed (${interp.insnsPerPacket} insns executed per packet${onWhat ? ', on the rewritten packet' : ''})`,
        value: millions(rate),
        command: COMMAND,
      });
      if (interpOnPcapPacket) {
        const p = medianAndSpread(interpOnPcapPacket.nsPerPacket);
        const pRate = perSecond(interpOnPcapPacket.insnsPerPacket, median(interpOnPcapPacket.nsPerPacket));
        entry.interpreterOnPcapPacket = {
          ...p,
          packetsPerBatch: interpOnPcapPacket.packetsPerBatch,
          batches: BATCHES,
          retval: interpOnPcapPacket.retval,
          insnsExecutedPerPacket: interpOnPcapPacket.insnsPerPacket,
          insnsPerSecond: significant(pRate, 3),
        };
        figures.push({
          figure: `${name}: interpreter per packet on the pcap packet itself (returns ${interpOnPcapPacket.retval}, ${interpOnPcapPacket.insnsPerPacket} insns; no kernel counterpart)`,
          value: `${formatNs(p.median)}, ${millions(pRate)}`,
          command: COMMAND,
        });
      }
      for (const { side, key } of KERNEL_SIDES) {
        const measured = kernel[key];
        if (typeof measured === 'string') {
          entry[key] = { unavailable: measured };
          figures.push({ figure: `${name}: kernel (${side}) per packet`, value: `kernel: unavailable (${measured})`, command: COMMAND });
          continue;
        }
        const k = medianAndSpread(measured.nsPerPacket);
        entry[key] = { ...k, repeat: KERNEL_REPEAT, batches: BATCHES, retval: measured.retval };
        figures.push({ figure: `${name}: kernel (${side}, repeat ${KERNEL_REPEAT}) per packet`, value: `${k.median} ns`, command: COMMAND });
        const slower = median(interp.nsPerPacket) / Math.max(k.median, 1);
        entry[`ratioVs_${key}`] = significant(slower, 3);
        figures.push({ figure: `${name}: interpreter / kernel (${side})`, value: formatRatio(slower), command: COMMAND });
        if (interp.retval !== measured.retval) {
          notes.push(`${example.name}: interpreter returned ${interp.retval}, kernel (${side}) ${measured.retval} (its last repetition), on the timed packet`);
        }
      }
      raw.push(entry);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  // The interpreter side is a single-threaded user-space loop and feels other work on the machine far more than the kernel's figures do.
  notes.push(`1-minute load average: ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end, on ${machineFacts().cpus} CPUs`);
  return {
    group: 'interp',
    date: new Date().toISOString(),
    machine: machineFacts(),
    method:
      `One program and one packet per example, all sides in the same run. Interpreter (src/ebpf/interp, imported directly): createMapRuntime once, then runProgram in a loop, each call on a fresh copy of the packet (batch length calibrated to ≥ ${INTERP_BATCH_MS} ms, JIT warm), median of ${BATCHES} batches; ` +
      'its speed is the eBPF instructions one run executes (insnsExecuted; ld_imm64 counts once) divided by the median time per packet. ' +
      `Kernel: BPF_PROG_TEST_RUN with repeat ${KERNEL_REPEAT} (the kernel's own average), median of ${BATCHES} batches after one dropped warm-up batch, ` +
      'once through nicoff\'s kernel runner (the program as nicoff links it) and once through `bpftool prog loadall` into a unique /sys/fs/bpf pin, removed afterwards. ' +
      'Ratios divide the medians of the two sides, measured seconds apart in the same run. The kernel reports whole nanoseconds (its average is an integer division), so single-digit kernel figures carry ±1 ns. ' +
      'Map state persists across repetitions on every side, as it does in the kernel; the packet does not persist on the interpreter side, so for a program that rewrites its packet the interpreter is timed on the packet the kernel\'s repetitions 2..N see (see the notes).',
    figures,
    notes,
    raw: { examples: raw },
  };
}
