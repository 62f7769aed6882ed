/**
 * Run a sequence of packets through the reference interpreter, the way
 * `nicoff run --engine ref` does: maps persist across packets, a fault in one
 * packet is recorded and the run goes on with the next.
 */
import type { BpfObject, BpfProgram } from './bpf-object.js';
import { createMapRuntime, runProgram, type MapRuntime } from './interp/index.js';
import { verdictForwards, verdictName } from './verdicts.js';
import { NicoffError, type Diagnostic } from '../diagnostics/diagnostic.js';

export interface PacketOutcome {
  /** 1-based packet number in the capture. */
  packet: number;
  verdict?: string;
  retval?: bigint;
  forwards?: boolean;
  output?: Uint8Array;
  insns?: number;
  error?: Diagnostic;
}

export interface CaptureRunSummary {
  program: string;
  type: string;
  packets: number;
  verdicts: Record<string, number>;
  errors: number;
  insnsExecuted: number;
  /** Mean wall time per packet run, nanoseconds, over all repeats. */
  nsPerPacket: number;
  outcomes: PacketOutcome[];
  maps: MapRuntime;
}

export interface CaptureRunOptions {
  /** Run each packet this many times (maps keep counting); outcomes come from the first run. */
  repeat?: number;
  ktimeNs?: () => bigint;
  prandom?: () => number;
}

export function runCaptureOnInterpreter(
  obj: BpfObject,
  prog: BpfProgram,
  packets: readonly Uint8Array[],
  opts: CaptureRunOptions = {},
): CaptureRunSummary {
  const repeat = Math.max(1, opts.repeat ?? 1);
  const maps = createMapRuntime(obj.maps);
  const verdicts: Record<string, number> = {};
  const outcomes: PacketOutcome[] = [];
  let errors = 0;
  let insnsExecuted = 0;
  const start = process.hrtime.bigint();
  packets.forEach((data, i) => {
    const packet = i + 1;
    let outcome: PacketOutcome = { packet };
    for (let r = 0; r < repeat; r++) {
      try {
        const res = runProgram(prog, obj, maps, data, { packetNumber: packet, ktimeNs: opts.ktimeNs, prandom: opts.prandom });
        insnsExecuted += res.insnsExecuted;
        if (r === 0) {
          outcome = {
            packet,
            retval: res.retval,
            verdict: verdictName(prog.type, res.retval),
            forwards: verdictForwards(prog.type, res.retval),
            output: res.packet,
            insns: res.insnsExecuted,
          };
        }
      } catch (err) {
        if (!(err instanceof NicoffError)) throw err;
        if (r === 0) outcome = { packet, error: err.diagnostic };
        break;
      }
    }
    if (outcome.error) errors++;
    else verdicts[outcome.verdict!] = (verdicts[outcome.verdict!] ?? 0) + 1;
    outcomes.push(outcome);
  });
  const elapsed = Number(process.hrtime.bigint() - start);
  return {
    program: prog.name,
    type: prog.type,
    packets: packets.length,
    verdicts,
    errors,
    insnsExecuted,
    nsPerPacket: packets.length ? elapsed / (packets.length * repeat) : 0,
    outcomes,
    maps,
  };
}
