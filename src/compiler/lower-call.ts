/**
 * Calls and returns: firmware helpers (by helper id), BPF-to-BPF calls with
 * their register save trampolines, and exits. An exit in the main program
 * branches to the outro through the loader's exit relocation.
 */
import { BPF_CALL, BPF_EXIT, BPF_JMP } from '../ebpf/opcodes.js';
import { loadImmediate, unrestrictedImmediate } from './immediates.js';
import { LoweringGap, type Lowering, type LoweringContext } from './lowering-context.js';
import type { NfpCode } from './nfp-code.js';
import { emitVerdictStub } from './program-frame.js';
import { splitAddress40 } from '../nfp-backend/sim/memory-map.js';
import { both, imm, lm, onlyA, onlyB, regA, regB, IMM_GPR, PACKET_LENGTH_GPR, STACK_BASE_GPR } from './nfp-registers.js';

const HELPER_MAP_LOOKUP = 1;
const HELPER_MAP_UPDATE = 2;
const HELPER_MAP_DELETE = 3;
const HELPER_PRANDOM = 7;
const HELPER_PERF_OUTPUT = 25;
const HELPER_ADJUST_HEAD = 44;
const HELPER_ADJUST_TAIL = 65;

/** Local CSR numbers as the assembler names them. */
const CSR_ACT_LM_ADDR0 = 100;
const CSR_ACT_LM_ADDR2 = 148;
const CSR_PSEUDO_RANDOM = 328;

/** Smallest frame the firmware accepts (ETH_HLEN): adjust_head/tail refuse to go below it. */
const MIN_PACKET_LENGTH = 14;
/** -EINVAL, the helpers' failure return. */
const EINVAL_RESULT = -22;

/** The verifier's register type numbers the perf output helper is told about. */
const POINTER_TYPE_NUMBERS: Record<string, number> = { map_value: 4, stack: 6, packet: 8 };

/** The packet vector's length word and its packet-start offset. */
const PV_LENGTH = lm(1, 0);
const PV_START = lm(1, 2);

function setR0(code: NfpCode, value: number): void {
  loadImmediate(code, both(0), value);
  loadImmediate(code, both(1), value < 0 ? -1 : 0);
}

/**
 * Branch to the firmware helper with two defer slots: A0 gets R1 (or the
 * caller's extra setup), B0 the absolute return address (immed-relative).
 */
function branchToHelper(ctx: LoweringContext, helperId: number, firstDeferSlot: () => void): void {
  const { code } = ctx;
  const ret = code.label('helper-return');
  code.br('br', { kind: 'helper', helperId }, 2);
  firstDeferSlot();
  code.immed(onlyB(0), 0, {}, { kind: 'label', label: ret });
  code.place(ret);
}

function mapCall(ctx: LoweringContext, helperId: number): void {
  const { code } = ctx;
  const off = ctx.facts?.arg2off;
  // The firmware reads the key through LM pointer 0; re-point it unless the key sits at the frame start.
  const repoint = off === undefined || ctx.frameDepth + off !== 0;
  if (repoint) code.localCsrWrite(CSR_ACT_LM_ADDR0, regB(4));
  if (helperId === HELPER_MAP_UPDATE) code.localCsrWrite(CSR_ACT_LM_ADDR2, regB(6));
  branchToHelper(ctx, helperId, () => code.mov(onlyA(0), regA(2)));
  if (repoint) {
    code.localCsrWrite(CSR_ACT_LM_ADDR0, regA(STACK_BASE_GPR));
    code.nop(3); // the CSR write takes effect three cycles later
  }
}

/** Bytes of the frame `*l$index0[0..15]` reaches without moving a pointer. */
const LM0_REACH = 64;

/**
 * An array lookup as an address computation (the host kernel's
 * array_map_gen_lookup, on the NFP): R0 = slot0 + key * slotBytes when
 * key < max_entries, else 0. Needs the array's placement (the firmware keeps
 * its values flat) and the key where LM pointer 0 reaches it; returns false to
 * leave the call to the firmware.
 *
 * Table bases are multiples of a stride that divides 2^32 and a table's slots
 * fit inside its stride, so the slot offset only fills zero bits of the base's
 * low word: an OR adds it, and bits 39:32 never change.
 */
function lowerArrayLookupAsAddress(ctx: LoweringContext): boolean {
  const { code, facts } = ctx;
  if (!ctx.passes.has('array-addresses') || ctx.subprog !== 0) return false;
  const placement = facts?.callMap === undefined ? undefined : ctx.arrayMaps[facts.callMap];
  const off = facts?.arg2off;
  if (!placement || off === undefined) return false;
  const keyAt = ctx.frameDepth + off;
  const shift = Math.log2(placement.slotBytes);
  if (keyAt < 0 || keyAt % 4 !== 0 || keyAt + 4 > LM0_REACH || !Number.isInteger(shift)) return false;
  const key = lm(0, keyAt / 4);
  const [low, high] = splitAddress40(placement.slot0);
  const base = unrestrictedImmediate(code, low, { dst: onlyA(IMM_GPR), read: regA(IMM_GPR) });
  code.shf(both(0), base, 'OR', key, { kind: 'left', amount: shift });
  loadImmediate(code, both(1), high);
  const max = unrestrictedImmediate(code, placement.maxEntries, { dst: onlyB(IMM_GPR), read: regB(IMM_GPR) });
  const found = code.label('array-slot');
  code.aluCc(key, '-', max);
  code.br('bcc', { kind: 'label', label: found });
  setR0(code, 0);
  code.place(found);
  ctx.noteArrayAddress();
  return true;
}

function prandom(ctx: LoweringContext): void {
  ctx.code.emit({ format: 'local_csr', csr: CSR_PSEUDO_RANDOM });
  // The CSR read's value lands in the next instruction's result.
  ctx.code.immed(both(0), 0);
  ctx.code.immed(both(1), 0);
}

function perfOutput(ctx: LoweringContext): void {
  const type = ctx.facts?.arg1type;
  const number = type === undefined ? undefined : POINTER_TYPE_NUMBERS[type];
  if (number === undefined) throw new LoweringGap(ctx.index, `perf_event_output data pointer kind ${type ?? 'unknown'}`);
  branchToHelper(ctx, HELPER_PERF_OUTPUT, () => ctx.code.mov(onlyA(1), imm(number)));
}

function adjustHead(ctx: LoweringContext): void {
  const { code, caps } = ctx;
  const bounds = caps.adjustHead;
  if (!bounds) throw new LoweringGap(ctx.index, 'firmware cannot adjust the packet head');
  const delta = regA(4);
  if (ctx.facts?.adjustHeadOpt) {
    // Every call site passes one constant the firmware always has room for: no checks.
    code.alu({ operand: PV_START, wrboth: false }, delta, '+', PV_START);
    code.alu(onlyB(PACKET_LENGTH_GPR), regB(PACKET_LENGTH_GPR), '-', delta);
    code.alu({ operand: PV_LENGTH, wrboth: false }, PV_LENGTH, '-', delta);
    setR0(code, 0);
    return;
  }
  const fail = code.label('adjust-head-fail');
  const done = code.label('adjust-head-done');
  // New start offset (16-bit add) must stay within the firmware's bounds.
  code.alu(onlyA(IMM_GPR), delta, '+16', PV_START);
  code.aluCc(regA(IMM_GPR), '-', imm(bounds.offMin));
  code.br('bcc', { kind: 'label', label: fail });
  code.aluCc(imm(bounds.offMax), '-', regA(IMM_GPR));
  code.br('bcc', { kind: 'label', label: fail });
  // And the packet must keep at least an Ethernet header.
  code.alu(onlyB(IMM_GPR), regB(PACKET_LENGTH_GPR), '-', delta);
  code.aluCc(regB(IMM_GPR), '-', imm(MIN_PACKET_LENGTH));
  code.br('bmi', { kind: 'label', label: fail });
  setR0(code, 0);
  code.ldField({ operand: PV_START, wrboth: false }, 0b0011, regA(IMM_GPR));
  code.br('br', { kind: 'label', label: done }, 2);
  code.alu(onlyB(PACKET_LENGTH_GPR), regB(PACKET_LENGTH_GPR), '-', delta);
  code.alu({ operand: PV_LENGTH, wrboth: false }, PV_LENGTH, '-', delta);
  code.place(fail);
  setR0(code, EINVAL_RESULT);
  code.place(done);
}

function adjustTail(ctx: LoweringContext): void {
  const { code } = ctx;
  const delta = regA(4);
  const fail = code.label('adjust-tail-fail');
  const done = code.label('adjust-tail-done');
  code.alu(onlyA(IMM_GPR), regB(PACKET_LENGTH_GPR), '+', delta);
  code.br('bcc', { kind: 'label', label: fail });
  code.aluCc(regA(IMM_GPR), '-', imm(MIN_PACKET_LENGTH));
  code.br('bmi', { kind: 'label', label: fail });
  code.alu(onlyB(PACKET_LENGTH_GPR), regB(PACKET_LENGTH_GPR), '+', delta);
  code.alu({ operand: PV_LENGTH, wrboth: false }, PV_LENGTH, '+', delta);
  code.br('br', { kind: 'label', label: done }, 2);
  setR0(code, 0);
  code.place(fail);
  setR0(code, EINVAL_RESULT);
  code.place(done);
}

/** Function starts per program being lowered (the driver registers them; the context does not carry them). */
const FUNCTION_STARTS = new WeakMap<NfpCode, readonly number[]>();

export function registerFunctionStarts(code: NfpCode, starts: readonly number[]): void {
  FUNCTION_STARTS.set(code, starts);
}

function subprogStartsOf(ctx: LoweringContext): readonly number[] {
  return FUNCTION_STARTS.get(ctx.code) ?? [0];
}

/** LM frames of BPF-to-BPF calls are 64-byte aligned. */
const FRAME_ALIGN = 64;

function isPseudoCall(ctx: LoweringContext): boolean {
  return ctx.insn.src === 1;
}

/** First and one-past-last slot of the function that starts at `start`. */
function functionRange(ctx: LoweringContext, start: number): [number, number] {
  const starts = subprogStartsOf(ctx);
  const next = starts.find((s) => s > start);
  return [start, next ?? ctx.insns.length];
}

/** Whether a function reads or writes r6-r9 (then its caller's copies go through the push/pop trampolines). */
export function functionUsesCalleeSaved(insns: LoweringContext['insns'], from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const insn = insns[i]!;
    if (i > from && insns[i - 1]!.slots === 2) continue;
    if ((insn.dst >= 6 && insn.dst <= 9) || (insn.src >= 6 && insn.src <= 9)) return true;
  }
  return false;
}

function bpfToBpfCall(ctx: LoweringContext): void {
  const { code } = ctx;
  const callee = ctx.index + ctx.insn.imm + 1;
  const [from, to] = functionRange(ctx, callee);
  const usesSaved = functionUsesCalleeSaved(ctx.insns, from, to);
  const frame = Math.ceil(ctx.frameDepth / FRAME_ALIGN) * FRAME_ALIGN;
  const step = unrestrictedImmediate(code, frame, { dst: onlyB(IMM_GPR), read: regB(IMM_GPR) });
  code.alu(onlyA(STACK_BASE_GPR), regA(STACK_BASE_GPR), '+', step);
  code.localCsrWrite(CSR_ACT_LM_ADDR0, regA(STACK_BASE_GPR));
  const ret = code.label('call-return');
  if (usesSaved) {
    // Through the push trampoline: it returns (B21) into the callee.
    code.br('br', { kind: 'push-trampoline' }, 2);
    code.immed(onlyB(IMM_GPR), 0, {}, { kind: 'ebpf', insn: callee });
  } else {
    code.br('br', { kind: 'ebpf', insn: callee }, 1);
  }
  code.immed(onlyA(IMM_GPR), 0, {}, { kind: 'label', label: ret });
  code.place(ret);
  code.alu(onlyA(STACK_BASE_GPR), regA(STACK_BASE_GPR), '-', step);
  code.localCsrWrite(CSR_ACT_LM_ADDR0, regA(STACK_BASE_GPR));
  code.nop(3);
}

/** First word of a subprogram: park the return address at the frame start. */
export function emitSubprogEntry(code: NfpCode): void {
  code.mov({ operand: lm(0), wrboth: false }, regA(IMM_GPR));
}

/** The push and pop trampolines: save/restore r6-r9 (GPRs 12-19) in LM words 1-8 of the callee frame. */
export function emitCallTrampolines(code: NfpCode): { pushTrampoline: number; popTrampoline: number } {
  const pushTrampoline = code.pc;
  for (let k = 0; k < 8; k++) {
    if (k === 5) code.emit({ format: 'rtn', reg: regB(IMM_GPR), defer: 3 });
    code.mov({ operand: lm(0, k + 1), wrboth: false }, regB(12 + k));
  }
  const popTrampoline = code.pc;
  for (let k = 0; k < 8; k++) {
    if (k === 5) code.emit({ format: 'rtn', reg: regA(IMM_GPR), defer: 3 });
    code.mov(both(12 + k), lm(0, k + 1));
  }
  return { pushTrampoline, popTrampoline };
}

/** Whether any BPF-to-BPF call goes to a function that needs the trampolines. */
export function programNeedsTrampolines(insns: LoweringContext['insns'], starts: readonly number[]): boolean {
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    if (i > 0 && insns[i - 1]!.slots === 2) continue;
    if (insn.code !== (BPF_JMP | BPF_CALL) || insn.src !== 1) continue;
    const callee = i + insn.imm + 1;
    const next = starts.find((s) => s > callee) ?? insns.length;
    if (functionUsesCalleeSaved(insns, callee, next)) return true;
  }
  return false;
}

function call(ctx: LoweringContext): void {
  if (isPseudoCall(ctx)) return bpfToBpfCall(ctx);
  const id = ctx.insn.imm;
  switch (id) {
    case HELPER_MAP_LOOKUP:
      if (lowerArrayLookupAsAddress(ctx)) return;
      return mapCall(ctx, id);
    case HELPER_MAP_UPDATE:
    case HELPER_MAP_DELETE:
      return mapCall(ctx, id);
    case HELPER_PRANDOM:
      return prandom(ctx);
    case HELPER_PERF_OUTPUT:
      return perfOutput(ctx);
    case HELPER_ADJUST_HEAD:
      return adjustHead(ctx);
    case HELPER_ADJUST_TAIL:
      return adjustTail(ctx);
    default:
      throw new LoweringGap(ctx.index, `helper ${id} has no NFP lowering`);
  }
}

/** R0 at a main-program exit when the verifier proves it one constant and the verdict-stubs pass is on. */
export function constantExitR0(ctx: Pick<LoweringContext, 'passes' | 'subprog' | 'facts'>): bigint | undefined {
  const r0 = ctx.facts?.exitR0;
  if (!ctx.passes.has('verdict-stubs') || ctx.subprog !== 0 || !r0 || r0.umin !== r0.umax) return undefined;
  return r0.umin;
}

function exit(ctx: LoweringContext): void {
  const { code } = ctx;
  const r0 = constantExitR0(ctx);
  if (r0 !== undefined) return emitVerdictStub(code, ctx.programType, r0);
  if (ctx.subprog === 0) return code.br('br', { kind: 'exit' });
  const starts = subprogStartsOf(ctx);
  const [from, to] = functionRange(ctx, starts[ctx.subprog]!);
  if (functionUsesCalleeSaved(ctx.insns, from, to)) {
    // The pop trampoline restores r6-r9 and returns through A21.
    code.br('br', { kind: 'pop-trampoline' }, 1);
    code.mov(onlyA(IMM_GPR), lm(0));
  } else {
    code.mov(onlyA(IMM_GPR), lm(0));
    code.emit({ format: 'rtn', reg: regA(IMM_GPR), defer: 0 });
  }
}

export const CALL_LOWERINGS: readonly [number, Lowering][] = [
  [BPF_JMP | BPF_CALL, call],
  [BPF_JMP | BPF_EXIT, exit],
];

/** Function starts when the caller gave none: the main program and every BPF-to-BPF call target, ascending. */
export function findFunctionStarts(insns: LoweringContext['insns']): number[] {
  const starts = new Set<number>([0]);
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    if (i > 0 && insns[i - 1]!.slots === 2) continue;
    if (insn.code === (BPF_JMP | BPF_CALL) && insn.src === 1) starts.add(i + insn.imm + 1);
  }
  return [...starts].sort((a, b) => a - b);
}
