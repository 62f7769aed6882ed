/**
 * Run a sequence of packets through the software NFP the way `nicoff run
 * prog.nfp` does: maps persist across packets; a packet that faults (invalid
 * word, branch outside the code store, watchdog, bad address) is counted and
 * the run goes on with the next. The 4-context batch run gives the throughput
 * model; the per-packet figures come from each packet run alone.
 */
import { NfpSimulator, type NfpSimulatorOptions } from './nfp-simulator.js';
import type { NfpAction, NfpLoadedProgram, NfpMemoryClass, NfpPacketResult } from './sim-types.js';

export interface NfpCaptureOptions extends NfpSimulatorOptions {
  /** Run on this simulator (its maps as they are) instead of a new one. */
  simulator?: NfpSimulator;
  /** Keep every per-packet result in `results` (default true; a million-packet run passes false and uses onResult). */
  keepResults?: boolean;
  onResult?: (index: number, result: NfpPacketResult) => void;
  /** Packets the 4-context throughput model runs (default all; the first N otherwise). */
  throughputSample?: number;
}

export interface NfpCaptureSummary {
  packets: number;
  actions: Partial<Record<NfpAction, number>>;
  /** Fault counts by diagnostic code. */
  faults: Record<string, number>;
  results: NfpPacketResult[];
  /** Sums over the packets that reached the done address. */
  instructions: number;
  cycles: number;
  stalls: Record<NfpMemoryClass, number>;
  /** Packets by the cycles they took (packets that reached the done address). */
  cycleCounts: Map<number, number>;
  /** From a 4-context run of the same packets on fresh maps (overlapping memory latency). */
  throughput: ReturnType<NfpSimulator['runBatch']>['throughput'];
  simulator: NfpSimulator;
}

export function runCaptureOnNfp(program: NfpLoadedProgram, frames: readonly Uint8Array[], options: NfpCaptureOptions = {}): NfpCaptureSummary {
  const { simulator: given, keepResults = true, onResult, throughputSample, ...simOptions } = options;
  const simulator = given ?? new NfpSimulator(program, simOptions);
  const results: NfpPacketResult[] = [];
  const actions: Partial<Record<NfpAction, number>> = {};
  const faults: Record<string, number> = {};
  const stalls: Record<NfpMemoryClass, number> = { ctm: 0, imem: 0, emem: 0, 'map-helper': 0 };
  const cycleCounts = new Map<number, number>();
  let instructions = 0;
  let cycles = 0;
  for (let i = 0; i < frames.length; i++) {
    const r = simulator.runPacket({ bytes: frames[i]! });
    if (keepResults) results.push(r);
    onResult?.(i, r);
    if (r.status === 'fault') {
      faults[r.code] = (faults[r.code] ?? 0) + 1;
      continue;
    }
    actions[r.action] = (actions[r.action] ?? 0) + 1;
    instructions += r.stats.instructions;
    cycles += r.stats.cycles;
    cycleCounts.set(r.stats.cycles, (cycleCounts.get(r.stats.cycles) ?? 0) + 1);
    for (const k of Object.keys(stalls) as NfpMemoryClass[]) stalls[k] += r.stats.stalls[k];
  }
  // The batch runs on its own simulator so its map updates do not count twice.
  const sample = throughputSample === undefined ? frames : frames.slice(0, throughputSample);
  const throughput = new NfpSimulator(program, simOptions).runBatch(sample.map((bytes) => ({ bytes })), { contexts: 4 }).throughput;
  return { packets: frames.length, actions, faults, results, instructions, cycles, stalls, cycleCounts, throughput, simulator };
}
