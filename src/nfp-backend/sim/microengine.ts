/**
 * Execution of decoded instructions on one context: the reference
 * interpreter (one record at a time), the dispatcher both engines share
 * (program / done / helper addresses, watchdog), and runFragment for unit tests.
 * The block translator (block-translator.ts) must match this file exactly.
 *
 * Semantics (nfp-microcode.md A.2, A.3, B.4-B.8; choices marked "model"):
 * - Condition codes: ALU ops set Z and N from the result; +, +carry, -, -carry,
 *   B-A set C (carry out; after subtraction C = NOT borrow) and V (signed
 *   overflow); logical ops and shifts clear C and V (model). +16/+8 give the
 *   16/8-bit sum zero-extended, C = carry out of bit 15/7, V = 0 (model; B.4
 *   only says "16-bit add"). mul_step last/last2 set Z/N from the word, clear
 *   C/V (model). no_cc keeps the codes; immed never touches them; ld_field only
 *   with load_cc (Z/N from its result, C/V cleared: model). predicate_cc faults.
 * - Side channels take their input from the IMMEDIATELY preceding instruction
 *   in execution order (defer slots and taken branches included), else NC6048:
 *     A operand (indirect shift amount): from alu or alu_shf (incl. dbl_shf,
 *       asr): its logical left operand, 0 when it has none;
 *     result (asr fill bit = its MSB; indirect_ref override word): from alu,
 *       alu_shf, immed (not nop), ld_field, mul_step last/last2, the immed fed
 *       by local_csr_rd.
 *   Anything else (branch, command, local_csr, nop, mul start/steps, a
 *   firmware helper, a ctx_swap sleep) leaves no side channel.
 * - Shifts: encoded amount 0 of a non-rotate class is indirect; alu_shf and
 *   ld_field use the A operand's bits 4:0 (0 = no shift); dbl_shf uses bits 5:0
 *   where 32 gives the high word and 33..63 fault (execution-rules.ts,
 *   inference). Rotate by 0 is no shift.
 * - Operands: every LM address is computed from the pointers at the start of
 *   the instruction; post-increment/decrement (+-4 bytes, wrapping in 4 KiB)
 *   applies at its end, in order left, right, destination. *l$indexN[k] must
 *   stay within the pointer's 16-word aligned window (NC6054, model). An access
 *   within 3 cycles of local_csr_wr to its pointer faults (NC6046).
 * - Partial writes (immed byte/half forms, ld_field without _w_clr) keep the
 *   other bytes of the destination register itself: for $xfer that is the
 *   transfer-out register, so immed + immed_w1 build a store value in $xfer.
 * - gpr_wrboth writes the same value to bank A and bank B.
 * - local_csr_rd: the next instruction (pc + 1, not a defer slot) must be
 *   immed[dst, 0]; dst gets the CSR value (NC6049 otherwise).
 * - Defer slots (branches, ctx_swap commands) hold straight-line instructions
 *   only: a branch, a ctx_swap command or local_csr_rd there faults (NC6051).
 *   A branch's condition (or rtn's register) is read before its slots run.
 * - A taken branch costs (maxDefer - defer) extra cycles (latency model).
 * - Formats, operations, operands and commands the kernel JIT never emits
 *   fault NC6041 when executed (execution-rules.ts lists what is simulated).
 */
import type { CmdInsn, NfpInsn } from '../isa/instruction.js';
import type { NfpOperand } from '../isa/operands.js';
import { cmdIssue, cmdPerform } from './cpp-commands.js';
import { runHelper, startPacket, type HelperKind } from './firmware.js';
import { csrRead, csrWrite } from './local-csrs.js';
import { NfpMapTables } from './map-tables.js';
import { DecodedProgram, type EngineStep, fault, lmEarlyFault, type MeContext, Microengine, PREV, RUN, STEP } from './machine-state.js';
import {
  branchShadow,
  byteMaskBits,
  csrFollowFault,
  dblShiftFault,
  deferSlotProblem,
  immedValue,
  isCsrImmed,
  lmWindowFault,
  notSimulatedFault,
  notSimulatedReasonOf,
  sideChannelFault,
} from './execution-rules.js';
import { MUL_TYPE_CODE, mulLast, mulStep } from './multiplier.js';
import { NIC_FIRMWARE_ABI } from './sim-types.js';
import { BlockTranslator } from './block-translator.js';
import type { NfpFirmwareAbi } from './sim-types.js';

// ---------------------------------------------------------------------------
// The interpreter

function lmIndex(s: MeContext, op: Extract<NfpOperand, { kind: 'lm' }>, pc: number): number {
  const p = op.pointer;
  if (s.lmReady[p]! > s.cycles) lmEarlyFault(s, pc, p);
  const w = s.lmAddr[p]! >>> 2;
  if (op.postModify === 'none' && (w & 15) + op.offset > 15) lmWindowFault(pc, op, s.lmAddr[p]!);
  return op.postModify === 'none' ? w + op.offset : w;
}

/** Index of an LM operand (checks done now), or -1 for other kinds. */
function lmIndexOf(s: MeContext, op: NfpOperand, pc: number): number {
  return op.kind === 'lm' ? lmIndex(s, op, pc) : -1;
}

function source(s: MeContext, op: NfpOperand, lmAt: number): number {
  switch (op.kind) {
    case 'gpr':
      return op.bank === 'A' ? s.a[op.index]! : s.b[op.index]!;
    case 'xfer':
      return s.xin[op.index]!;
    case 'imm':
      return op.value;
    case 'lm':
      return s.lm[lmAt]!;
    default:
      return 0;
  }
}

/** Current value of a destination (for partial writes): transfer-out for $xfer. */
function destOld(s: MeContext, op: NfpOperand, lmAt: number): number {
  switch (op.kind) {
    case 'gpr':
      return op.bank === 'A' ? s.a[op.index]! : s.b[op.index]!;
    case 'xfer':
      return s.xout[op.index]!;
    case 'lm':
      return s.lm[lmAt]!;
    default:
      return 0;
  }
}

function writeDest(s: MeContext, op: NfpOperand, v: number, wrboth: boolean, lmAt: number): void {
  switch (op.kind) {
    case 'gpr':
      if (wrboth) {
        s.a[op.index] = v;
        s.b[op.index] = v;
      } else if (op.bank === 'A') s.a[op.index] = v;
      else s.b[op.index] = v;
      return;
    case 'xfer':
      s.xout[op.index] = v;
      return;
    case 'lm':
      s.lm[lmAt] = v;
      return;
    default:
      return;
  }
}

function postModify(s: MeContext, op: NfpOperand): void {
  if (op.kind === 'lm' && op.postModify !== 'none') {
    const p = op.pointer;
    s.lmAddr[p] = (s.lmAddr[p]! + (op.postModify === 'inc' ? 4 : -4)) & 0xffc;
  }
}

function shifted(s: MeContext, shift: { kind: string; amount: number | 'indirect' }, x: number, y: number): number {
  if (shift.kind === 'double-right' && shift.amount === 'indirect') {
    const k = s.pa & 63;
    return k === 0 ? y : k === 32 ? x : (y >>> k) | (x << (32 - k));
  }
  const n = shift.amount === 'indirect' ? s.pa & 31 : shift.amount;
  switch (shift.kind) {
    case 'rotate':
      return n === 0 ? y : (y >>> n) | (y << (32 - n));
    case 'right':
      return (y >>> n) | 0;
    case 'left':
      return y << n;
    default:
      return n === 0 ? y : (y >>> n) | (x << (32 - n));
  }
}

/** Logical results (and shifts, ld_field with load_cc, mul_step last) set Z/N from the word and clear C and V (model). */
function setLogicalCc(s: MeContext, r: number): void {
  s.fr = r;
  s.fc = 0;
  s.fv = 0;
}

/** The logical operations: alu's on (A, B), alu_shf's on (A, shifted B). */
function logicalResult(op: string, x: number, y: number): number {
  switch (op) {
    case 'B':
      return y;
    case '~B':
      return ~y;
    case 'AND':
      return x & y;
    case '~AND':
      return ~x & y;
    case 'AND~':
      return x & ~y;
    case 'OR':
      return x | y;
    case 'XOR':
      return x ^ y;
    default:
      throw new Error(`alu op ${op}`);
  }
}

function aluResult(s: MeContext, op: string, x: number, y: number): number {
  let r: number;
  switch (op) {
    case '+':
    case '+carry':
      r = (x + y + (op === '+' ? 0 : s.fc)) | 0;
      s.fr = r;
      s.fc = ((x & y) | ((x | y) & ~r)) >>> 31;
      s.fv = ((x ^ r) & (y ^ r)) >>> 31;
      return r;
    case '-':
    case '-carry':
      r = (x - y - (op === '-' ? 0 : 1 - s.fc)) | 0;
      s.fr = r;
      s.fc = 1 - (((~x & y) | ((~x | y) & r)) >>> 31);
      s.fv = ((x ^ y) & (x ^ r)) >>> 31;
      return r;
    case 'B-A':
      r = (y - x) | 0;
      s.fr = r;
      s.fc = 1 - (((~y & x) | ((~y | x) & r)) >>> 31);
      s.fv = ((y ^ x) & (y ^ r)) >>> 31;
      return r;
    case '+16': {
      const t = (x & 0xffff) + (y & 0xffff);
      r = t & 0xffff;
      s.fr = r;
      s.fc = t >>> 16;
      s.fv = 0;
      return r;
    }
    case '+8': {
      const t = (x & 0xff) + (y & 0xff);
      r = t & 0xff;
      s.fr = r;
      s.fc = t >>> 8;
      s.fv = 0;
      return r;
    }
    default:
      r = logicalResult(op, x, y);
      setLogicalCc(s, r);
      return r;
  }
}

/** The end of alu and alu_shf: write the result, post-modify LM pointers (left, right, dest), leave both side channels. */
function finishAlu(s: MeContext, insn: Extract<NfpInsn, { format: 'alu' | 'alu_shf' }>, di: number, x: number, r: number): void {
  writeDest(s, insn.dest, r, insn.wrboth, di);
  postModify(s, insn.left);
  postModify(s, insn.right);
  postModify(s, insn.dest);
  s.pk = PREV.resultAndA;
  s.pa = x;
  s.pr = r;
}

/** NC6041 for what the kernel JIT never emits (execution-rules.ts lists what is simulated). */
function requireSimulated(insn: NfpInsn, pc: number): void {
  const why = notSimulatedReasonOf(insn);
  if (why) notSimulatedFault(pc, insn, why);
}

/** A straight-line instruction (also what a defer slot may hold). `s.cycles` is its issue cycle. */
function execSimple(s: MeContext, insn: NfpInsn, pc: number): void {
  requireSimulated(insn, pc);
  switch (insn.format) {
    case 'alu': {
      const li = lmIndexOf(s, insn.left, pc);
      const ri = lmIndexOf(s, insn.right, pc);
      const di = lmIndexOf(s, insn.dest, pc);
      const x = source(s, insn.left, li);
      const y = source(s, insn.right, ri);
      let r: number;
      if (insn.noCc) {
        const fr = s.fr;
        const fc = s.fc;
        const fv = s.fv;
        r = aluResult(s, insn.op, x, y);
        s.fr = fr;
        s.fc = fc;
        s.fv = fv;
      } else r = aluResult(s, insn.op, x, y);
      finishAlu(s, insn, di, x, r);
      break;
    }
    case 'alu_shf': {
      const indirect = insn.shift.amount === 'indirect';
      if (indirect && s.pk !== PREV.resultAndA) sideChannelFault(pc, `${insn.op === 'asr' ? 'asr' : 'a shift'} by indirect amount`, 'its amount (the A operand)', s.pk);
      if (insn.op === 'asr' && s.pk === PREV.none) sideChannelFault(pc, 'asr', 'its fill bit (the result MSB)', s.pk);
      const li = lmIndexOf(s, insn.left, pc);
      const ri = lmIndexOf(s, insn.right, pc);
      const di = lmIndexOf(s, insn.dest, pc);
      if (indirect && insn.shift.kind === 'double-right' && (s.pa & 63) > 32) dblShiftFault(pc, s.pa);
      const x = source(s, insn.left, li);
      const y = source(s, insn.right, ri);
      let r: number;
      if (insn.op === 'asr') {
        const n = indirect ? s.pa & 31 : (insn.shift.amount as number);
        r = n === 0 ? y : (y >>> n) | (s.pr < 0 ? -1 << (32 - n) : 0);
      } else r = logicalResult(insn.op, x, shifted(s, insn.shift, x, y));
      if (!insn.noCc) setLogicalCc(s, r);
      finishAlu(s, insn, di, x, r);
      break;
    }
    case 'immed': {
      const di = lmIndexOf(s, insn.dest, pc);
      let r: number;
      if (s.csrPc >= 0) {
        r = s.csrValue;
        s.csrPc = -1;
      } else r = immedValue(insn, insn.width === 'word' ? 0 : destOld(s, insn.dest, di));
      writeDest(s, insn.dest, r, insn.wrboth, di);
      postModify(s, insn.dest);
      s.pk = PREV.result;
      s.pr = r;
      break;
    }
    case 'nop':
      s.pk = PREV.none;
      break;
    case 'ld_field': {
      if (insn.shift.amount === 'indirect' && s.pk !== PREV.resultAndA) sideChannelFault(pc, 'ld_field by indirect amount', 'its amount (the A operand)', s.pk);
      const ti = lmIndexOf(s, insn.target, pc);
      const si = lmIndexOf(s, insn.source, pc);
      const old = destOld(s, insn.target, ti);
      const sh = shifted(s, insn.shift, 0, source(s, insn.source, si));
      const m = byteMaskBits(insn.byteMask);
      const r = insn.clearUnmasked ? sh & m : (old & ~m) | (sh & m);
      writeDest(s, insn.target, r, insn.wrboth, ti);
      postModify(s, insn.target);
      postModify(s, insn.source);
      if (insn.loadCc) setLogicalCc(s, r);
      s.pk = PREV.result;
      s.pr = r;
      break;
    }
    case 'local_csr': {
      if (insn.value === undefined) {
        s.csrValue = csrRead(s, pc, insn.csr);
        s.csrPc = pc;
      } else {
        const vi = lmIndexOf(s, insn.value, pc);
        csrWrite(s, pc, insn.csr, source(s, insn.value, vi));
        postModify(s, insn.value);
      }
      s.pk = PREV.none;
      break;
    }
    case 'mul_step': {
      const typeCode = MUL_TYPE_CODE[insn.type];
      if (typeCode !== 0 && (insn.step === 'last' || insn.step === 'last2')) {
        const di = lmIndexOf(s, insn.left, pc);
        const r = mulLast(s, pc, typeCode, insn.step === 'last2');
        writeDest(s, insn.left, r, insn.wrboth, di);
        postModify(s, insn.left);
        if (!insn.noCc) setLogicalCc(s, r);
        s.pk = PREV.result;
        s.pr = r;
      } else {
        const li = lmIndexOf(s, insn.left, pc);
        const ri = lmIndexOf(s, insn.right, pc);
        mulStep(s, pc, typeCode, typeCode === 0 ? 0 : ['step1', 'step2', 'step3', 'step4'].indexOf(insn.step), source(s, insn.left, li), source(s, insn.right, ri));
        postModify(s, insn.left);
        postModify(s, insn.right);
        s.pk = PREV.none;
      }
      break;
    }
    case 'cmd': {
      issueCommand(s, insn, pc);
      cmdPerform(s, s.nowCmd);
      s.pk = PREV.none;
      break;
    }
    default:
      notSimulatedFault(pc, insn, `${insn.format} outside a branch position`);
  }
  s.cycles++;
  s.instructions++;
}

function issueCommand(s: MeContext, insn: CmdInsn, pc: number): void {
  const ai = lmIndexOf(s, insn.a, pc);
  const bi = lmIndexOf(s, insn.b, pc);
  cmdIssue(s, pc, insn, source(s, insn.a, ai), source(s, insn.b, bi), s.pk, s.pr);
}

/** A branch or ctx_swap command at `ownerPc` has issued (one cycle, no side channel left); its `count` defer slots run. */
function issueAndRunDeferSlots(me: Microengine, s: MeContext, ownerPc: number, count: number): void {
  s.cycles++;
  s.instructions++;
  s.pk = PREV.none;
  const prog = me.program;
  for (let k = 1; k <= count; k++) {
    const dpc = ownerPc + k;
    if (!prog.contains(dpc)) fault('NC6043', ownerPc, { target: dpc, first: prog.start, last: prog.end - 1 });
    const insn = prog.insnAt(dpc);
    const problem = deferSlotProblem(insn);
    if (problem) fault('NC6051', dpc, { what: problem, branch: ownerPc });
    execSimple(s, insn, dpc);
  }
}

function branchOutside(me: Microengine, pc: number, target: number): never {
  return fault('NC6042', pc, { target, last: me.abi.codeStoreWords - 1 });
}

/** One step of the reference interpreter: an instruction, or a branch / ctx_swap command with its defer slots. */
export function interpretStep(me: Microengine, s: MeContext): number {
  const pc = s.pc;
  const insn = me.program.insnAt(pc);
  if (s.csrPc >= 0 && !isCsrImmed(insn)) csrFollowFault(s.csrPc, insn);
  const format = insn.format;
  if (format === 'br' || format === 'br_bit' || format === 'rtn') {
    requireSimulated(insn, pc);
    let taken: boolean;
    let target: number;
    if (insn.format === 'br') {
      taken = conditionHolds(s, insn.condition);
      target = insn.target;
    } else {
      const ri = lmIndexOf(s, insn.reg, pc);
      const v = source(s, insn.reg, ri);
      postModify(s, insn.reg);
      if (insn.format === 'br_bit') {
        taken = ((v >>> insn.bit) & 1) === (insn.branchIfSet ? 1 : 0);
        target = insn.target;
      } else {
        taken = true;
        target = v >>> 0;
      }
    }
    issueAndRunDeferSlots(me, s, pc, insn.defer);
    if (taken) {
      if (target >= me.abi.codeStoreWords) branchOutside(me, pc, target);
      s.cycles += branchShadow(me, insn);
      s.pc = target;
    } else s.pc = pc + 1 + insn.defer;
    s.fromPc = pc;
    return STEP.branch;
  }
  if (format === 'cmd' && insn.ctxSwap !== 3) {
    requireSimulated(insn, pc);
    issueCommand(s, insn, pc);
    issueAndRunDeferSlots(me, s, pc, insn.ctxSwap);
    cmdPerform(s, s.swapCmd);
    // Other contexts may run while this one sleeps: no side channel survives the swap.
    s.pk = PREV.none;
    s.pc = pc + 1 + insn.ctxSwap;
    s.fromPc = pc + insn.ctxSwap;
    return STEP.sleep;
  }
  execSimple(s, insn, pc);
  s.pc = pc + 1;
  s.fromPc = pc;
  return STEP.continue;
}

export function conditionHolds(s: MeContext, condition: string): boolean {
  const n = s.fr < 0 ? 1 : 0;
  switch (condition) {
    case 'beq':
      return s.fr === 0;
    case 'bne':
      return s.fr !== 0;
    case 'bmi':
      return n === 1;
    case 'bpl':
      return n === 0;
    case 'bcs':
      return s.fc === 1;
    case 'bcc':
      return s.fc === 0;
    case 'bvs':
      return s.fv === 1;
    case 'bvc':
      return s.fv === 0;
    case 'bge':
      return n === s.fv;
    case 'blt':
      return n !== s.fv;
    case 'ble':
      return s.fr === 0 || n !== s.fv;
    case 'bgt':
      return s.fr !== 0 && n === s.fv;
    default:
      return true;
  }
}

// ---------------------------------------------------------------------------
// The dispatcher both engines share

export function helperAt(abi: NfpFirmwareAbi, pc: number): HelperKind | undefined {
  const h = abi.helpers;
  if (pc === h.mapLookup) return 'mapLookup';
  if (pc === h.mapUpdate) return 'mapUpdate';
  if (pc === h.mapDelete) return 'mapDelete';
  if (pc === h.perfEventOutput) return 'perfEventOutput';
  return undefined;
}

function checkLimits(me: Microengine, s: MeContext): void {
  if (me.fragmentLimit) {
    if (s.instructions > me.fragmentLimit) fault('NC6056', s.pc, { first: me.program.start, last: me.program.end - 1, count: s.instructions });
  } else if (s.cycles > me.watchdogCycles) fault('NC6044', s.pc, { cycles: s.cycles, limit: me.watchdogCycles });
}

/**
 * Run a context until it sleeps (RUN.sleep: s.sleep cycles already charged),
 * reaches the done address (RUN.done) or, for fragments, leaves its words
 * (RUN.exit). Faults throw NfpFault. Limits are checked after every branch
 * (taken or not) and every helper call.
 */
export function runContext(me: Microengine, s: MeContext, step: EngineStep): number {
  const prog = me.program;
  const start = prog.start;
  const end = prog.end;
  for (;;) {
    const pc = s.pc;
    if (pc >= start && pc < end) {
      const r = step(me, s);
      if (r === STEP.continue) continue;
      if (r === STEP.branch) {
        checkLimits(me, s);
        continue;
      }
      return RUN.sleep;
    }
    if (me.fragmentLimit) return RUN.exit;
    if (pc === me.abi.donePc) return RUN.done;
    const helper = helperAt(me.abi, pc);
    if (helper) {
      runHelper(s, pc, helper);
      checkLimits(me, s);
      return RUN.sleep;
    }
    return fault('NC6043', s.fromPc, { target: pc, first: start, last: end - 1 });
  }
}

// ---------------------------------------------------------------------------
// Fragments

export interface FragmentState {
  a: Uint32Array;
  b: Uint32Array;
  /** 1024 words. */
  lm: Uint32Array;
  /** 4 byte addresses. */
  lmAddr: Uint32Array;
}

export interface FragmentOptions {
  maxInstructions?: number;
  /** Default: the interpreter (the reference). */
  engine?: 'interpret' | 'translate';
  /** The packet the firmware entry sets up (default: none, length 0). */
  packet?: Uint8Array;
}

export interface FragmentResult extends FragmentState {
  exitPc: number;
  instructions: number;
  cycles: number;
  xferIn: Uint32Array;
  xferOut: Uint32Array;
  flags: { z: boolean; n: boolean; c: boolean; v: boolean };
  /** This context's 2 KiB CTM packet buffer (packet data at offset 128). */
  ctm: Uint8Array;
}

/**
 * Run `words` placed at basePc.. on context 0 after the firmware's entry setup
 * (A22 = LM pointer 0 = context 0's stack, LM pointer 1 = its packet vector),
 * with `init` overriding registers, LM and pointers. Stops when control leaves
 * basePc..basePc+n-1 (falling off the end gives exitPc = basePc + n). Words may
 * be loaded words (ECC checked) or bare 45-bit bodies. Faults throw NfpFault (a NicoffError).
 */
export function runFragment(
  words: readonly bigint[],
  basePc: number,
  init: Partial<{ a: ArrayLike<number>; b: ArrayLike<number>; lm: ArrayLike<number>; lmAddr: ArrayLike<number> }> = {},
  options: FragmentOptions = {},
): FragmentResult {
  const program = new DecodedProgram(words, basePc, { checkEcc: false });
  const abi: NfpFirmwareAbi = { ...NIC_FIRMWARE_ABI, startPc: basePc };
  const me = new Microengine(program, abi, new NfpMapTables([]));
  me.fragmentLimit = options.maxInstructions ?? 100_000;
  const s = me.contexts[0]!;
  startPacket(s, options.packet ?? new Uint8Array(0));
  const copy = (to: Int32Array, from: ArrayLike<number> | undefined, mask = -1): void => {
    if (from) for (let i = 0; i < Math.min(to.length, from.length); i++) to[i] = from[i]! & mask;
  };
  copy(s.a, init.a);
  copy(s.b, init.b);
  copy(me.lm, init.lm);
  copy(s.lmAddr, init.lmAddr, 0xffc);
  const step = options.engine === 'translate' ? new BlockTranslator(me).step : interpretStep;
  while (runContext(me, s, step) !== RUN.exit) {
    /* a ctx_swap command: the sleep is charged, run on */
  }
  s.loadCtm();
  const u32 = (x: Int32Array): Uint32Array => new Uint32Array(x.slice().buffer);
  return {
    a: u32(s.a),
    b: u32(s.b),
    lm: u32(me.lm),
    lmAddr: u32(s.lmAddr),
    exitPc: s.pc,
    instructions: s.instructions,
    cycles: s.cycles,
    xferIn: u32(s.xin),
    xferOut: u32(s.xout),
    flags: { z: s.fr === 0, n: s.fr < 0, c: s.fc === 1, v: s.fv === 1 },
    ctm: s.ctm.slice(),
  };
}
