/**
 * Group `nfp-sim`: the software NFP (src/nfp-backend/sim) running the six
 * kernel-JIT golden images of ../shared/nfp-golden, beside the kernel's own
 * BPF_PROG_TEST_RUN of the same eBPF program on the same packet, measured in
 * the same run and quoted as a ratio (the model: bench/interp.ts).
 *
 * Per program and engine (translate, interpret): simulated NFP instructions
 * per second and wall nanoseconds per packet on one representative packet
 * (runPacket in a loop, maps persisting), the simulated cycles one packet
 * takes, and the throughput model's packets per second from a 4-context
 * runBatch over the program's whole packet set (a model: its cycle costs are
 * not documented hardware figures, nfp-microcode.md H).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NfpSimulator } from '../src/nfp-backend/sim/nfp-simulator.js';
import { EXAMPLES_DIR, loadGoldenProgram, packetSet, type GoldenProgram } from '../test/support/nfp-golden-programs.js';
import { GOLDEN_DIR, GOLDEN_PROGRAM_NAMES, goldenProgramsAvailable, type GoldenProgramName } from '../test/support/golden-word-table.js';
import { type BenchFigure, type GroupResult } from './group-result.js';
import { bpftoolNsPerPacket, formatNs, formatRatio, KERNEL_REPEAT, KERNEL_SIDES, kernelRunnerNsPerPacket, timeCalibrated, type KernelTiming } from './engine-vs-kernel.js';
import { machineFacts } from './machine-facts.js';
import { median, medianAndSpread, significant } from './statistics.js';

const COMMAND = 'npm run bench -- nfp-sim';
const BATCHES = 5;
/** A simulator batch runs at least this long (its packet count is calibrated once). */
const SIM_BATCH_MS = 250;
/** Seed of the packet sets (the faithfulness test's own seed). */
const PACKET_SEED = 20260;
const ENGINES = ['translate', 'interpret'] as const;
type Engine = (typeof ENGINES)[number];

/** A 64-byte IPv4/UDP frame to `dport`, fixed bytes. */
function udpFrame(dport: number, len = 64): Uint8Array {
  const p = new Uint8Array(len);
  p.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00]);
  p.set([0x45, 0, (len - 14) >> 8, (len - 14) & 0xff, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  p.set([0x30, 0x39, dport >> 8, dport & 0xff, (len - 34) >> 8, (len - 34) & 0xff, 0, 0], 34);
  for (let i = 42; i < len; i++) p[i] = i & 0xff;
  return p;
}

/** The timed packet per program, and in words for the doc. */
const REPRESENTATIVE: Record<GoldenProgramName, { packet: () => Uint8Array; what: string }> = {
  xdp_drop: { packet: () => udpFrame(9), what: '64 B IPv4/UDP' },
  xdp_pass: { packet: () => udpFrame(9), what: '64 B IPv4/UDP' },
  tc_shot: { packet: () => udpFrame(9), what: '64 B IPv4/UDP' },
  xdp_udp53: { packet: () => udpFrame(53), what: '64 B IPv4/UDP to port 53 (longest path, dropped)' },
  xdp_alu: { packet: () => udpFrame(9), what: '64 B IPv4/UDP (16-byte ALU path)' },
  xdp_count: { packet: () => udpFrame(9), what: '64 B IPv4/UDP (map lookup + atomic add)' },
};

/** Examples whose object loads to exactly the golden eBPF (bpftool needs an object to load). */
const OBJECT_FOR_BPFTOOL: Partial<Record<GoldenProgramName, string>> = {
  xdp_drop: 'xdp_drop.o',
  xdp_pass: 'xdp_pass.o',
  xdp_udp53: 'xdp_udp53.o',
  xdp_alu: 'xdp_alu.o',
  xdp_count: 'xdp_count.o',
};

interface SimTiming {
  nsPerPacket: number[];
  packetsPerBatch: number;
  instructions: number;
  cycles: number;
  action: string;
}

function simNsPerPacket(gp: GoldenProgram, engine: Engine, packet: Uint8Array): SimTiming | string {
  const sim = new NfpSimulator(gp.loaded, { engine });
  const first = sim.runPacket({ bytes: packet });
  if (first.status !== 'ok') return `faulted: ${first.code} ${first.message} at pc ${first.pc}`;
  const input = { bytes: packet };
  const timed = timeCalibrated(
    (count) => {
      for (let i = 0; i < count; i++) sim.runPacket(input);
    },
    { first: 64, maxCount: 1 << 26, batchMs: SIM_BATCH_MS, batches: BATCHES },
  );
  return { nsPerPacket: timed.nsPerItem, packetsPerBatch: timed.count, instructions: first.stats.instructions, cycles: first.stats.cycles, action: first.action };
}

/**
 * The whole packet set through runPacket (wall ns per packet, mean over the
 * set; each batch repeats the set until it lasts SIM_BATCH_MS) and a
 * 4-context runBatch on fresh maps (the throughput model).
 */
function simPacketSet(gp: GoldenProgram, engine: Engine, packets: Uint8Array[]) {
  const inputs = packets.map((bytes) => ({ bytes }));
  const sim = new NfpSimulator(gp.loaded, { engine });
  let instructions = 0;
  let cycles = 0;
  for (const i of inputs) {
    const r = sim.runPacket(i);
    instructions += r.stats.instructions;
    cycles += r.stats.cycles;
  }
  const timed = timeCalibrated(
    (rounds) => {
      for (let r = 0; r < rounds; r++) for (const i of inputs) sim.runPacket(i);
    },
    { first: 1, maxCount: 1 << 20, batchMs: SIM_BATCH_MS, batches: BATCHES, itemsPerCount: inputs.length },
  );
  const batch = new NfpSimulator(gp.loaded, { engine }).runBatch(inputs, { contexts: 4 });
  return { nsPerPacket: timed.nsPerItem, rounds: timed.count, instructions: instructions / inputs.length, cycles: cycles / inputs.length, batch };
}

// ---------------------------------------------------------------------------

const mips = (insnsPerSecond: number): string => `${significant(insnsPerSecond / 1e6, 3)} M NFP insns/s`;
const pps = (value: number): string => (value >= 1e6 ? `${significant(value / 1e6, 3)} Mpps` : `${significant(value / 1e3, 3)} kpps`);

export async function runNfpSimGroup(): Promise<GroupResult> {
  const figures: BenchFigure[] = [];
  const notes: string[] = [];
  const raw: Record<string, unknown>[] = [];
  const loadAtStart = loadavg()[0];
  if (!goldenProgramsAvailable()) {
    throw new Error(`the golden programs are not at ${GOLDEN_DIR}`);
  }
  const scratch = mkdtempSync(join(tmpdir(), 'nicoff-bench-nfp-sim-'));
  const perEngineInsns: Record<Engine, number[]> = { translate: [], interpret: [] };
  let disclaimer = '';
  try {
    for (const name of GOLDEN_PROGRAM_NAMES) {
      const gp = loadGoldenProgram(name);
      const packet = REPRESENTATIVE[name].packet();
      const set = packetSet(name, PACKET_SEED);
      const label = `${name} (${gp.loaded.words.length} NFP words, ${REPRESENTATIVE[name].what})`;
      process.stderr.write(`[nfp-sim] ${name}\n`);
      const entry: Record<string, unknown> = { program: name, nfpWords: gp.loaded.words.length, packetBytes: packet.length, packetSetSize: set.length };
      const simMedian: Partial<Record<Engine, number>> = {};
      for (const engine of ENGINES) {
        const t = simNsPerPacket(gp, engine, packet);
        if (typeof t === 'string') {
          entry[engine] = { unavailable: t };
          notes.push(`${name} (${engine}): ${t}`);
          continue;
        }
        const s = medianAndSpread(t.nsPerPacket);
        const rate = (t.instructions / median(t.nsPerPacket)) * 1e9;
        simMedian[engine] = median(t.nsPerPacket);
        perEngineInsns[engine].push(rate);
        const onSet = simPacketSet(gp, engine, set);
        const setNs = medianAndSpread(onSet.nsPerPacket);
        disclaimer = onSet.batch.throughput.disclaimer;
        entry[engine] = {
          ...s,
          packetsPerBatch: t.packetsPerBatch,
          batches: BATCHES,
          action: t.action,
          nfpInsnsPerPacket: t.instructions,
          cyclesPerPacket: t.cycles,
          nfpInsnsPerSecond: significant(rate, 3),
          packetSet: {
            nsPerPacket: setNs,
            roundsPerBatch: onSet.rounds,
            meanNfpInsnsPerPacket: significant(onSet.instructions, 4),
            meanCyclesPerPacket: significant(onSet.cycles, 4),
            batchMeCycles: onSet.batch.meCycles,
            modelPacketsPerSecond: significant(onSet.batch.throughput.packetsPerSecond, 4),
            lineRatePps: significant(onSet.batch.throughput.lineRatePps, 4),
          },
        };
        figures.push({ figure: `${label}: simulator (${engine}) per packet`, value: formatNs(s.median), command: COMMAND });
        figures.push({ figure: `${label}: simulator (${engine}) speed (${t.instructions} NFP insns per packet)`, value: mips(rate), command: COMMAND });
        if (engine === 'translate') {
          figures.push({ figure: `${label}: simulated cycles per packet (one context alone)`, value: `${t.cycles}`, command: COMMAND });
          figures.push({
            figure: `${name}: throughput model, 4-context runBatch over the ${set.length}-packet set (a model, not a measurement)`,
            value: `${pps(onSet.batch.throughput.packetsPerSecond)} (model)`,
            command: COMMAND,
          });
        }
        figures.push({ figure: `${name}: simulator (${engine}) per packet over the ${set.length}-packet set (mean ${significant(onSet.instructions, 3)} NFP insns)`, value: formatNs(setNs.median), command: COMMAND });
      }
      const object = OBJECT_FOR_BPFTOOL[name];
      const kernel: Record<(typeof KERNEL_SIDES)[number]['key'], KernelTiming> = {
        kernelRunner: kernelRunnerNsPerPacket(gp.obj, gp.prog, packet, BATCHES),
        bpftool: object
          ? bpftoolNsPerPacket(join(EXAMPLES_DIR, object), gp.prog.name, packet, BATCHES, { pin: `nfp-${name}`, scratch })
          : 'no object file holds this program (the golden listing only gives its eBPF bytes); the kernel runner figure stands alone',
      };
      for (const { side, key } of KERNEL_SIDES) {
        const measured = kernel[key];
        if (typeof measured === 'string') {
          entry[key] = { unavailable: measured };
          notes.push(`${name}: kernel (${side}) not measured: ${measured}`);
          continue;
        }
        const k = medianAndSpread(measured.nsPerPacket);
        entry[key] = { ...k, repeat: KERNEL_REPEAT, batches: BATCHES, retval: measured.retval };
        figures.push({ figure: `${name}: kernel (${side}, repeat ${KERNEL_REPEAT}) per packet, same eBPF and packet`, value: `${k.median} ns`, command: COMMAND });
        for (const engine of ENGINES) {
          const m = simMedian[engine];
          if (m === undefined) continue;
          const r = m / Math.max(k.median, 1);
          entry[`ratio_${engine}_vs_${key}`] = significant(r, 3);
          figures.push({ figure: `${name}: simulator (${engine}) / kernel (${side})`, value: formatRatio(r), command: COMMAND });
        }
      }
      raw.push(entry);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  for (const engine of ENGINES) {
    const rates = perEngineInsns[engine];
    if (rates.length) {
      figures.push({
        figure: `simulator (${engine}) speed, median over the ${rates.length} programs (target ≥ 50 M NFP insns/s)`,
        value: mips(median(rates)),
        command: COMMAND,
      });
    }
  }
  if (disclaimer) notes.push(`Throughput model: ${disclaimer}`);
  notes.push(`1-minute load average: ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end, on ${machineFacts().cpus} CPUs`);
  return {
    group: 'nfp-sim',
    date: new Date().toISOString(),
    machine: machineFacts(),
    method:
      'The six kernel-JIT golden images of ../shared/nfp-golden (loaded words as the code store holds them) on the software NFP, one NfpSimulator per program and engine, maps persisting. ' +
      `Per packet: runPacket on one representative packet in a loop (batch calibrated to ≥ ${SIM_BATCH_MS} ms, JIT warm), median of ${BATCHES} batches; ` +
      'simulated NFP instructions per second = the instructions one run issues (stats.instructions, defer slots included, firmware helpers not) / the median wall time per packet. ' +
      'Simulated cycles are the timing model\'s, and packets/s is the simulator\'s 4-context throughput model over the program\'s seeded packet set (test/support/nfp-golden-programs.ts): a model, not a hardware measurement. ' +
      `Kernel: BPF_PROG_TEST_RUN of the same eBPF program on the same packet with repeat ${KERNEL_REPEAT} (the kernel's own average), median of ${BATCHES} batches after one dropped warm-up batch, ` +
      'through nicoff\'s kernel runner and, where an object holds the program, through `bpftool prog loadall` + `bpftool prog run pinned ... repeat N`. ' +
      'Ratios divide the medians of the two sides, measured seconds apart in the same run; the kernel runs native x86 code, the simulator models a different machine instruction by instruction.',
    figures,
    notes,
    raw: { programs: raw },
  };
}
