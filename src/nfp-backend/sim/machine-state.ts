/**
 * State of one simulated microengine: the decoded code store, local memory,
 * and per-context registers, plus the fault type every engine throws.
 *
 * Registers are Int32Array (V8 keeps int32 unboxed); the public views
 * (FragmentState, results) reinterpret the same bytes as Uint32Array.
 */
import { makeDiagnostic, NicoffError } from '../../diagnostics/diagnostic.js';
import type { DiagnosticCode } from '../../diagnostics/catalogue.js';
import { decodeInsn } from '../isa/codec.js';
import { computeEcc, NFP_BODY_MASK, storedEcc } from '../isa/ecc.js';
import type { CmdInsn, NfpInsn } from '../isa/instruction.js';
import { LATENCY_MODEL_V1, type LatencyModel } from './latency-model.js';
import { NfpMapTables } from './map-tables.js';
import { CTM_BUFFER_BYTES, CTM_DATA_OFFSET, CTM_RESIDENT_BYTES, LM_WORDS, packetNumber } from './memory-map.js';
import type { NfpFirmwareAbi } from './sim-types.js';

/** One engine step on a context: STEP.continue, STEP.branch or STEP.sleep. */
export type EngineStep = (me: Microengine, s: MeContext) => number;

/** What an engine step (one instruction, one branch group, one block) ended with. */
export const STEP = { continue: 0, branch: 1, sleep: 2 } as const;
/** What runContext ended with. */
export const RUN = { sleep: 2, done: 3, exit: 4 } as const;

/** Side-channel producer kinds (A.2): what the immediately preceding instruction left. */
export const PREV = { none: 0, result: 1, resultAndA: 2 } as const;

/** A fault of one packet's run (or of a fragment): a NicoffError that knows its pc. */
export class NfpFault extends NicoffError {
  readonly pc: number;
  constructor(code: DiagnosticCode, pc: number, args: Record<string, string | number>) {
    super(makeDiagnostic(code, { pc, ...args }));
    this.name = 'NfpFault';
    this.pc = pc;
  }
}

export function fault(code: DiagnosticCode, pc: number, args: Record<string, string | number> = {}): never {
  throw new NfpFault(code, pc, args);
}

export function wordHex(word: bigint): string {
  return `0x${word.toString(16).padStart(16, '0')}`;
}

/**
 * Decoded bodies, shared by every program (decoding re-encodes each word with
 * BigInt; tests and tools build many simulators of the same words). Records
 * are never mutated, so sharing is safe; the cache is bounded.
 */
const DECODED = new Map<bigint, { insn?: NfpInsn; problem?: string }>();
const DECODED_LIMIT = 1 << 16;

function decodeCached(body: bigint): { insn?: NfpInsn; problem?: string } {
  let hit = DECODED.get(body);
  if (hit) return hit;
  try {
    hit = { insn: decodeInsn(body) };
  } catch (e) {
    if (!(e instanceof NicoffError)) throw e;
    hit = { problem: e.diagnostic.message.replace(/^NFP instruction word \S+ cannot be decoded: /, '') };
  }
  if (DECODED.size >= DECODED_LIMIT) DECODED.clear();
  DECODED.set(body, hit);
  return hit;
}

/** The code store's program words, decoded once. An undecodable word faults only when executed. */
export class DecodedProgram {
  readonly start: number;
  readonly end: number;
  readonly words: readonly bigint[];
  readonly insns: (NfpInsn | undefined)[] = [];
  readonly problems: (string | undefined)[] = [];

  constructor(words: readonly bigint[], start: number, options: { checkEcc: boolean; codeStoreWords?: number }) {
    this.start = start;
    this.end = start + words.length;
    this.words = words;
    const limit = options.codeStoreWords ?? Infinity;
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      let problem: string | undefined;
      if (start + i >= limit) problem = `pc ${start + i} is past the ${limit}-word code store`;
      else if (word >> 52n !== 0n) problem = `bits 63:52 are set (a loaded word has no relocation byte)`;
      else if (options.checkEcc || storedEcc(word) !== 0) {
        const want = computeEcc(word & NFP_BODY_MASK);
        if (storedEcc(word) !== want) problem = `ECC 0x${storedEcc(word).toString(16)} does not match the body's 0x${want.toString(16)}`;
      }
      const decoded = problem ? { problem } : decodeCached(word & NFP_BODY_MASK);
      this.insns.push(decoded.insn);
      this.problems.push(decoded.problem);
    }
  }

  contains(pc: number): boolean {
    return pc >= this.start && pc < this.end;
  }

  /** The decoded record at `pc`, or the NC6040 fault for an undecodable word. */
  insnAt(pc: number): NfpInsn {
    const insn = this.insns[pc - this.start];
    if (insn === undefined) invalidWordFault(this, pc);
    return insn;
  }
}

export function invalidWordFault(program: DecodedProgram, pc: number): never {
  const i = pc - program.start;
  return fault('NC6040', pc, { word: wordHex(program.words[i]!), reason: program.problems[i] ?? 'not decoded' });
}

/** An issued command, checked and resolved to simulated memory (cpp-commands.ts). */
export class CmdLatch {
  insn: CmdInsn | null = null;
  pc = 0;
  mem: Uint8Array = new Uint8Array(0);
  offset = 0;
  bytes = 0;
  address = 0;
  memClass = 0;
  imm = 0;
  wide = false;
}

/** Per-context registers, side channels and the context's packet buffer. */
export class MeContext {
  readonly index: number;
  /** A, B, transfer-in, transfer-out in one buffer, so a packet start clears them with one fill. */
  private readonly regs = new Int32Array(192);
  readonly a = this.regs.subarray(0, 32);
  readonly b = this.regs.subarray(32, 64);
  /** Transfer-in (sources, command read data) and transfer-out (destinations, command write data). */
  readonly xin = this.regs.subarray(64, 128);
  readonly xout = this.regs.subarray(128, 192);
  /** LM address pointers (byte addresses, bits 11:2) and the cycle from which each may be used. */
  readonly lmAddr = new Int32Array(4);
  readonly lmReady = new Float64Array(4);
  readonly lm: Int32Array;
  readonly me: Microengine;

  pc = 0;
  /** The instruction that passed control to `pc` (for NC6043). */
  fromPc = 0;
  cycles = 0;
  instructions = 0;
  stallCtm = 0;
  stallImem = 0;
  stallEmem = 0;
  stallHelper = 0;
  /** Cycles of the sleep the context has just entered (command or helper). */
  sleep = 0;

  /** Condition codes: Z and N from fr (fr == 0, fr < 0), C and V as 0/1. */
  fr = 0;
  fc = 0;
  fv = 0;
  /** Side channels: kind of the preceding instruction (PREV), its A operand and its result. */
  pk = 0;
  pa = 0;
  pr = 0;
  /** Interpreter only: pc of a local_csr_rd whose value the next immed takes, else -1. */
  csrPc = -1;
  csrValue = 0;

  /** mul_step sequence: 0 idle, 1 started; type 2 = 16x16, 3 = 32x32 once a step named it. */
  mulState = 0;
  mulType = 0;
  mulSteps = 0;
  mulA = 0;
  mulB = 0;

  /** A ctx_swap command whose data moves when the context swaps out (after its defer slots). */
  readonly swapCmd = new CmdLatch();
  /** A command without swap (possibly in those defer slots), performed at issue. */
  readonly nowCmd = new CmdLatch();

  readonly ctm = new Uint8Array(CTM_BUFFER_BYTES);
  /** CTM bytes [0, ctmDirty) may be non-zero (packet copy and command writes); the rest is zero. */
  ctmDirty = CTM_BUFFER_BYTES;
  /**
   * The packet as it arrived. Its CTM copy is made on the first CTM access
   * (loadCtm), so a program that never touches packet memory costs no copy;
   * bytes beyond the CTM-resident part are carried through from here unchanged.
   */
  packetIn: Uint8Array = new Uint8Array(0);
  ctmLoaded = true;
  readonly packetNumber: number;
  perfEvents: Uint8Array[] = [];

  constructor(me: Microengine, index: number) {
    this.me = me;
    this.index = index;
    this.lm = me.lm;
    this.packetNumber = packetNumber(index);
  }

  /** Copy the arrived packet into the (otherwise zero) CTM buffer, once per packet. */
  loadCtm(): void {
    if (this.ctmLoaded) return;
    const ctm = this.ctm;
    if (this.ctmDirty > 0) ctm.fill(0, 0, this.ctmDirty);
    const bytes = this.packetIn;
    if (bytes.length <= CTM_RESIDENT_BYTES) ctm.set(bytes, CTM_DATA_OFFSET);
    else ctm.set(bytes.subarray(0, CTM_RESIDENT_BYTES), CTM_DATA_OFFSET);
    this.ctmDirty = CTM_DATA_OFFSET + Math.min(bytes.length, CTM_RESIDENT_BYTES);
    this.ctmLoaded = true;
  }

  resetRegisters(): void {
    this.regs.fill(0);
    const ready = this.lmReady;
    ready[0] = ready[1] = ready[2] = ready[3] = 0;
    this.fr = this.fc = this.fv = 0;
    this.pk = this.pa = this.pr = 0;
    this.csrPc = -1;
    this.mulState = this.mulType = this.mulSteps = 0;
    this.swapCmd.insn = null;
    this.cycles = this.instructions = 0;
    this.stallCtm = this.stallImem = this.stallEmem = this.stallHelper = 0;
    this.sleep = 0;
  }
}

/** Memory classes as small integers for the hot path (index into the stall counters). */
export const MEM_CLASS = { ctm: 0, imem: 1, emem: 2, helper: 3 } as const;

export interface MicroengineOptions {
  latency?: LatencyModel;
  watchdogCycles?: number;
  prandomSeed?: number;
}

export class Microengine {
  readonly program: DecodedProgram;
  readonly abi: NfpFirmwareAbi;
  readonly maps: NfpMapTables;
  readonly latency: LatencyModel;
  readonly watchdogCycles: number;
  readonly lm = new Int32Array(LM_WORDS);
  readonly contexts: MeContext[] = [];
  /** PseudoRndNum state (xorshift32; never 0). */
  prandom: number;
  /** Fragment runs: stop when control leaves the program, and the instruction cap (NC6056). */
  fragmentLimit = 0;

  constructor(program: DecodedProgram, abi: NfpFirmwareAbi, maps: NfpMapTables, options: MicroengineOptions = {}) {
    this.program = program;
    this.abi = abi;
    this.maps = maps;
    this.latency = options.latency ?? LATENCY_MODEL_V1;
    this.watchdogCycles = options.watchdogCycles ?? 100_000;
    this.prandom = (options.prandomSeed ?? 0x2545f491) >>> 0 || 1;
    for (let c = 0; c < 4; c++) this.contexts.push(new MeContext(this, c));
  }

  /** Sleep cycles of a memory class (model table). */
  memoryLatency(memClass: number): number {
    const m = this.latency.memory;
    return memClass === MEM_CLASS.ctm ? m.ctm.value : memClass === MEM_CLASS.imem ? m.imem.value : m.emem.value;
  }
}

/** Charge a sleep of `cycles` on a memory class to the context. */
export function chargeSleep(s: MeContext, memClass: number, cycles: number): void {
  s.sleep = cycles;
  s.cycles += cycles;
  if (memClass === MEM_CLASS.ctm) s.stallCtm += cycles;
  else if (memClass === MEM_CLASS.imem) s.stallImem += cycles;
  else if (memClass === MEM_CLASS.emem) s.stallEmem += cycles;
  else s.stallHelper += cycles;
}

/** NC6046: an access through pointer p before its local_csr_wr took effect (s.cycles = the access's cycle). */
export function lmEarlyFault(s: MeContext, pc: number, p: number): never {
  const written = s.lmReady[p]! - s.me.latency.lmPointerWriteDelay.value - 1;
  return fault('NC6046', pc, { pointer: p, cycles: s.cycles - written });
}

/** LM bytes (little-endian within words), wrapping at 4 KiB, into `out` (or a new array). */
export function lmReadBytes(lm: Int32Array, byteAddress: number, n: number, out: Uint8Array = new Uint8Array(n)): Uint8Array {
  for (let i = 0; i < n; i++) {
    const a = (byteAddress + i) & 0xfff;
    out[i] = lm[a >>> 2]! >>> (8 * (a & 3));
  }
  return out;
}
