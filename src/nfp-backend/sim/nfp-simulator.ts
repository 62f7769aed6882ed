/**
 * The software NFP: one NFP-4000 microengine (4 contexts) running a loaded
 * kernel-JIT-style image, with the firmware around it (firmware.ts), map
 * tables in EMEM (map-tables.ts) and the reference latency model
 * (latency-model.ts). Layout of memories: memory-map.ts. Semantics and
 * modelling choices: microengine.ts, cpp-commands.ts, execution-rules.ts.
 *
 * Maps persist across runPacket/runBatch calls. A packet that faults gives a
 * fault result (NC6040-NC6057) and the next packet runs normally.
 */
import { fail } from '../../diagnostics/diagnostic.js';
import { BlockTranslator } from './block-translator.js';
import type { LatencyModel } from './latency-model.js';
import { DecodedProgram, type EngineStep, Microengine, NfpFault, RUN } from './machine-state.js';
import { NfpMapTables } from './map-tables.js';
import { interpretStep, runContext } from './microengine.js';
import { startPacket } from './firmware.js';
import { hex, SOFTWARE_NFP_ARRAY_VALUES } from './memory-map.js';
import type { ArrayValueLayout, NfpFirmwareAbi, NfpLoadedProgram, NfpPacketInput, NfpPacketResult } from './sim-types.js';
import { faultResult, okResult, runBatchOnMe, type NfpBatchResult } from './throughput-model.js';

export type { NfpBatchResult, NfpThroughput } from './throughput-model.js';

export interface NfpSimulatorOptions {
  /** 'translate' (default): basic blocks compiled to JavaScript; 'interpret': the reference interpreter. */
  engine?: 'interpret' | 'translate';
  latency?: LatencyModel;
  /** Per packet (default 100,000 cycles); checked after every branch and helper call. */
  watchdogCycles?: number;
  /** Seed of the PseudoRndNum CSR sequence. */
  prandomSeed?: number;
  /** Called with the program-relative pc of every issued word (forces the interpret engine; for diagnosis, not speed). */
  onWord?: (pc: number) => void;
}

/** An image that computes array value addresses must assume the layout this firmware uses. */
function checkArrayValueLayout(abi: NfpFirmwareAbi): void {
  const a = abi.arrayValues;
  if (!a) return;
  const ours = SOFTWARE_NFP_ARRAY_VALUES;
  if (a.base === ours.base && a.tableStride === ours.tableStride) return;
  const show = (l: ArrayValueLayout): string => `base ${hex(l.base)}, table stride ${hex(l.tableStride)}`;
  fail('NC6060', { assumed: show(a), actual: show(ours) });
}

export class NfpSimulator {
  readonly program: NfpLoadedProgram;
  readonly engine: 'interpret' | 'translate';
  /** Host view of the card's maps (lookup/update/delete/entries). */
  readonly maps: NfpMapTables;
  private readonly me: Microengine;
  private readonly step: EngineStep;

  constructor(program: NfpLoadedProgram, options: NfpSimulatorOptions = {}) {
    this.program = program;
    this.engine = options.onWord ? 'interpret' : (options.engine ?? 'translate');
    const abi = program.abi;
    checkArrayValueLayout(abi);
    // Words past the end of the code store are invalid (they fault only if reached).
    const decoded = new DecodedProgram(program.words, abi.startPc, { checkEcc: true, codeStoreWords: abi.codeStoreWords });
    this.maps = new NfpMapTables(program.maps);
    this.me = new Microengine(decoded, abi, this.maps, {
      ...(options.latency ? { latency: options.latency } : {}),
      ...(options.watchdogCycles !== undefined ? { watchdogCycles: options.watchdogCycles } : {}),
      ...(options.prandomSeed !== undefined ? { prandomSeed: options.prandomSeed } : {}),
    });
    const onWord = options.onWord;
    const start = abi.startPc;
    this.step = onWord
      ? (me, s) => {
          onWord(s.pc - start);
          return interpretStep(me, s);
        }
      : this.engine === 'interpret'
        ? interpretStep
        : new BlockTranslator(this.me).step;
  }

  get latency(): LatencyModel {
    return this.me.latency;
  }

  /** One packet on context 0, alone on the ME. */
  runPacket(input: NfpPacketInput): NfpPacketResult {
    const me = this.me;
    const s = me.contexts[0]!;
    try {
      startPacket(s, input.bytes);
      while (runContext(me, s, this.step) !== RUN.done) {
        /* slept on a command or helper: the cycles are charged, run on */
      }
      return okResult(s);
    } catch (e) {
      if (e instanceof NfpFault) return faultResult(s, e);
      throw e;
    }
  }

  /**
   * Packets on `contexts` (1..4, default 4) contexts of one ME with cooperative
   * switching; results in input order, ME busy/idle cycles and the card
   * throughput model.
   */
  runBatch(inputs: readonly NfpPacketInput[], options: { contexts?: number } = {}): NfpBatchResult {
    const contexts = options.contexts ?? 4;
    if (!Number.isInteger(contexts) || contexts < 1 || contexts > 4) throw new RangeError(`contexts must be 1..4 (4-context mode), not ${contexts}`);
    return runBatchOnMe(this.me, this.step, inputs, contexts);
  }
}
