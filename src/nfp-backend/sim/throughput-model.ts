/**
 * Several packets on the contexts of one microengine, and what that means for
 * a whole card under the latency model.
 *
 * Scheduling (cooperative, as on the ME): a context runs until it sleeps on a
 * ctx_swap command or a firmware helper, or finishes its packet; then the next
 * ready context in round-robin order runs; if none is ready the ME idles until
 * the earliest wake-up. A context that finishes takes the next packet at once
 * (the firmware's receive path costs nothing in this model). Each packet's own
 * stats are what it would show alone; the batch adds ME busy and idle cycles.
 *
 * Card throughput = packets / ME cycles x clock x MEs, beside the 2x10GbE line
 * rate at 64-byte frames. It is a model (reference latency model), not a
 * measurement of a card.
 */
import type { LatencyModel } from './latency-model.js';
import { type EngineStep, type MeContext, type Microengine, NfpFault, RUN } from './machine-state.js';
import { finishPacket, startPacket } from './firmware.js';
import { runContext } from './microengine.js';
import type { NfpPacketInput, NfpPacketResult, NfpPacketStats } from './sim-types.js';

export interface NfpThroughput {
  packets: number;
  contextsPerMe: number;
  meCycles: number;
  cyclesPerPacket: number;
  packetsPerSecondPerMe: number;
  /** packetsPerSecondPerMe x microengines. */
  packetsPerSecond: number;
  clockHz: number;
  microengines: number;
  /** 2 x 14.88 Mpps: 64-byte frames on both 10GbE ports. */
  lineRatePps: number;
  portLineRatePps: number;
  /** packetsPerSecond / lineRatePps (above 1: the program is not the bottleneck). */
  lineRateFraction: number;
  latencyModel: string;
  disclaimer: string;
}

export interface NfpBatchResult {
  /** In input order. */
  results: NfpPacketResult[];
  contexts: number;
  meCycles: number;
  busyCycles: number;
  idleCycles: number;
  throughput: NfpThroughput;
}

export function packetStats(s: MeContext): NfpPacketStats {
  return {
    instructions: s.instructions,
    cycles: s.cycles,
    stalls: { ctm: s.stallCtm, imem: s.stallImem, emem: s.stallEmem, 'map-helper': s.stallHelper },
  };
}

export function faultResult(s: MeContext, e: NfpFault): NfpPacketResult {
  return { status: 'fault', code: e.diagnostic.code, message: e.diagnostic.message, pc: e.pc, stats: packetStats(s) };
}

export function okResult(s: MeContext): NfpPacketResult {
  return finishPacket(s, packetStats(s));
}

export function throughputOf(latency: LatencyModel, packets: number, meCycles: number, contexts: number): NfpThroughput {
  const clockHz = latency.clockHz.value;
  const microengines = latency.microengines.value;
  const perMe = meCycles > 0 ? (packets / meCycles) * clockHz : 0;
  const lineRatePps = latency.portLineRatePps.value * latency.ports.value;
  const packetsPerSecond = perMe * microengines;
  return {
    packets,
    contextsPerMe: contexts,
    meCycles,
    cyclesPerPacket: packets ? meCycles / packets : 0,
    packetsPerSecondPerMe: perMe,
    packetsPerSecond,
    clockHz,
    microengines,
    lineRatePps,
    portLineRatePps: latency.portLineRatePps.value,
    lineRateFraction: packetsPerSecond / lineRatePps,
    latencyModel: latency.name,
    disclaimer:
      `A model, not a measurement of a card: ${latency.name} cycle costs, ` +
      `${microengines} microengines x ${contexts} contexts at ${clockHz / 1e6} MHz each running this program as the simulated one did; ` +
      "only the program's cycles count (the firmware's receive, transmit and statistics work is left out), so it is an upper bound, " +
      'and no public source gives NFP-4000 memory latencies, so the absolute numbers are not card figures (docs/NFP-SIMULATOR.md).',
  };
}

/** Run `inputs` on `contexts` contexts of `me` (cooperative switching on sleeps). */
export function runBatchOnMe(me: Microengine, step: EngineStep, inputs: readonly NfpPacketInput[], contexts: number): NfpBatchResult {
  const n = inputs.length;
  const results: NfpPacketResult[] = new Array(n);
  const packetOf = new Int32Array(contexts).fill(-1);
  const wakeAt = new Float64Array(contexts);
  let next = 0;
  let now = 0;
  let busy = 0;
  let idle = 0;

  const begin = (c: number): void => {
    const s = me.contexts[c]!;
    packetOf[c] = -1;
    while (next < n) {
      const i = next++;
      try {
        startPacket(s, inputs[i]!.bytes);
        packetOf[c] = i;
        wakeAt[c] = now;
        return;
      } catch (e) {
        if (!(e instanceof NfpFault)) throw e;
        results[i] = faultResult(s, e);
      }
    }
  };
  for (let c = 0; c < contexts; c++) begin(c);

  let rr = 0;
  for (;;) {
    let chosen = -1;
    for (let k = 0; k < contexts; k++) {
      const c = (rr + k) % contexts;
      if (packetOf[c]! >= 0 && wakeAt[c]! <= now) {
        chosen = c;
        break;
      }
    }
    if (chosen < 0) {
      let earliest = Infinity;
      for (let c = 0; c < contexts; c++) if (packetOf[c]! >= 0) earliest = Math.min(earliest, wakeAt[c]!);
      if (earliest === Infinity) break;
      idle += earliest - now;
      now = earliest;
      continue;
    }
    rr = (chosen + 1) % contexts;
    const s = me.contexts[chosen]!;
    const before = s.cycles;
    const i = packetOf[chosen]!;
    let r: number;
    try {
      r = runContext(me, s, step);
    } catch (e) {
      if (!(e instanceof NfpFault)) throw e;
      r = -1;
      results[i] = faultResult(s, e);
    }
    const ran = s.cycles - before - (r === RUN.sleep ? s.sleep : 0);
    now += ran;
    busy += ran;
    if (r === RUN.sleep) {
      wakeAt[chosen] = now + s.sleep;
      continue;
    }
    if (r === RUN.done) {
      try {
        results[i] = okResult(s);
      } catch (e) {
        if (!(e instanceof NfpFault)) throw e;
        results[i] = faultResult(s, e);
      }
    }
    begin(chosen);
  }
  return { results, contexts, meCycles: now, busyCycles: busy, idleCycles: idle, throughput: throughputOf(me.latency, n, now, contexts) };
}
