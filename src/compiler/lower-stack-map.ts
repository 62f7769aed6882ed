/**
 * Stack (local memory) and map value memory: stack loads and stores through
 * LM pointer 0 or the LM3 window, map value loads, and atomic adds.
 *
 * The stack is this thread's slice of LM: `r10 - k` is LM byte
 * `frame depth - k` above A22, which LM pointer 0 holds (nfp-microcode.md
 * C.2). Map values live in EMEM and are reached with 40-bit CPP commands
 * (A.4); atomic adds use the memory unit's add, or its add_imm form when the
 * addend fits 16 bits (E.1 item 11).
 */
import { BPF_ADD, BPF_ATOMIC, BPF_DW, BPF_LDX, BPF_STX, BPF_W } from '../ebpf/opcodes.js';
import { loadImmediate, restrictedImmediate, unrestrictedImmediate } from './immediates.js';
import { LoweringGap, type Lowering, type LoweringContext } from './lowering-context.js';
import type { NfpCode } from './nfp-code.js';
import {
  both,
  imm,
  IMM_GPR,
  IMMA_GPR,
  lm,
  lowGpr,
  NO_DESTINATION,
  onlyA,
  onlyB,
  regA,
  regB,
  STACK_BASE_GPR,
  xfer,
  type Destination,
  type NfpOperand,
} from './nfp-registers.js';
import { accessBytes } from './packet-cache.js';
import type { NfpShift } from '../nfp-backend/isa/instruction.js';

/** Local CSR ActLMAddr3 as the assembler numbers it: the LM3 pointer the stack window uses. */
const CSR_ACT_LM_ADDR3 = 156;
/** A new LM pointer is usable three instructions after its CSR write. */
const LM_POINTER_LATENCY = 3;
/** Bytes of the frame `*l$index0[0..15]` reaches without moving a pointer. */
const LM0_REACH = 64;
/** `*l$indexN[k]` ORs k into the pointer, so an indexed window must be 32-byte aligned. */
const LM_WINDOW = 32;
/** Highest LM index a restricted operand (ld_field) can encode. */
const RESTRICTED_LM_INDEX_MAX = 7;

const ADDR_40_BA = 1;
/** Command override fields in the previous ALU result (nfp-microcode.md B.8). */
const OVERRIDE_LENGTH = 0x80;
const overrideLength = (field: number): number => OVERRIDE_LENGTH | (field << 8);
const overrideData = (kind: number): number => kind << 3;
/** ctx_swap field of a command: swap (with 0-2 defer slots), or fire and forget. */
const CTX_SWAP = 0;
const CTX_NO_SWAP = 3;
/** Largest addend the add_imm form carries. */
const ADD_IMM_MAX = 0xffff;

const IMM_A = { dst: onlyA(IMM_GPR), read: regA(IMM_GPR) };
const IMM_B = { dst: onlyB(IMM_GPR), read: regB(IMM_GPR) };
/** B21 holds the LM3 address being set up (the kernel's stack_imm). */
const LM3_ADDRESS = IMM_B;
const LM3_POST_INC = lm(3, 0, 'inc');

const NO_SHIFT: NfpShift = { kind: 'rotate', amount: 0 };

/** The shift that moves byte `from` of a word to byte `to`. */
function byteShift(from: number, to: number): NfpShift {
  if (from === to) return NO_SHIFT;
  return from < to ? { kind: 'left', amount: (to - from) * 8 } : { kind: 'right', amount: (from - to) * 8 };
}

function plainDestination(operand: NfpOperand): Destination {
  return { operand, wrboth: false };
}

// ---- stack ----

/** Where a stack access goes once its pointer is set up. */
interface StackWindow {
  /** LM pointer 0 (frame base) or 3 (moved to the access). */
  pointer: 0 | 3;
  /** Byte offset from that pointer. */
  off: number;
  /** The access crosses a 32-byte window: walk it word by word with `*l$index3++`. */
  walk: boolean;
}

/** One piece of a stack access: at most a word on each side, never crossing a word in LM. */
interface StackSlice {
  gpr: number;
  gprByte: number;
  off: number;
  size: number;
  first: boolean;
  newGpr: boolean;
  last: boolean;
}

/**
 * Pick how to reach `size` bytes at frame offset `off`: LM0 directly when
 * they lie in its first 64 bytes, else point LM3 at their 32-byte window, or
 * at their first word when they straddle two windows.
 */
function stackWindow(code: NfpCode, off: number, size: number): StackWindow {
  if (off + size <= LM0_REACH) return { pointer: 0, off, walk: false };
  const window = Math.floor(off / LM_WINDOW) * LM_WINDOW;
  const sameWindow = window === Math.floor((off + size - 1) / LM_WINDOW) * LM_WINDOW;
  const base = sameWindow ? window : Math.floor(off / 4) * 4;
  const step = unrestrictedImmediate(code, base, LM3_ADDRESS);
  code.alu(LM3_ADDRESS.dst, regA(STACK_BASE_GPR), '+', step);
  return { pointer: 3, off: off - base, walk: !sameWindow };
}

/** Split the access at LM word and register word boundaries, in address order. */
function stackSlices(firstGpr: number, off: number, size: number): StackSlice[] {
  const slices: StackSlice[] = [];
  let gpr = firstGpr;
  let gprByte = 0;
  let left = size;
  while (left > 0) {
    const end = Math.min(off + Math.min(left, 4 - gprByte), (Math.floor(off / 4) + 1) * 4);
    const piece = end - off;
    const previous = slices[slices.length - 1];
    slices.push({ gpr, gprByte, off, size: piece, first: !previous, newGpr: previous?.gpr !== gpr, last: piece === left });
    gprByte += piece;
    if (gprByte >= 4) {
      gprByte -= 4;
      gpr++;
    }
    left -= piece;
    off += piece;
  }
  return slices;
}

/** The LM operand of a slice: walking uses the current word of LM3 (post-incremented when the register word is done). */
function sliceLm(window: StackWindow, slice: StackSlice, advance: boolean): NfpOperand {
  if (window.walk) return advance ? LM3_POST_INC : lm(3);
  return lm(window.pointer, Math.floor(slice.off / 4));
}

function loadStackSlice(code: NfpCode, window: StackWindow, s: StackSlice): void {
  const advance = window.walk && s.newGpr && !s.last;
  const index = window.walk ? 0 : Math.floor(s.off / 4);
  if (s.size === 4) return code.mov(both(s.gpr), sliceLm(window, s, advance));
  let source = lm(window.pointer, index);
  let dst = both(s.gpr);
  if (index > RESTRICTED_LM_INDEX_MAX) {
    // ld_field cannot name this LM word: copy it to A21 (once per LM word).
    source = IMM_A.read;
    if (s.first || !s.newGpr) code.mov(IMM_A.dst, lm(0, index));
    // A21 takes the A field, so the register (mirrored in both banks) is read through its B copy.
    dst = { operand: regB(s.gpr), wrboth: true };
  }
  const mask = ((1 << s.size) - 1) << s.gprByte;
  code.ldField(dst, mask, source, byteShift(s.off % 4, s.gprByte), s.newGpr);
  if (advance) code.mov(NO_DESTINATION, LM3_POST_INC);
}

function storeStackSlice(code: NfpCode, window: StackWindow, s: StackSlice): void {
  const advance = window.walk && s.newGpr && !s.last;
  const index = window.walk ? 0 : Math.floor(s.off / 4);
  if (s.size === 4) return code.mov(plainDestination(sliceLm(window, s, advance)), regB(s.gpr));
  let target = lm(window.pointer, index);
  const viaScratch = index > RESTRICTED_LM_INDEX_MAX;
  if (viaScratch) {
    // Read-modify-write through A21; only the end words keep bytes of their own.
    target = IMM_A.read;
    if (s.first || s.last) code.mov(IMM_A.dst, lm(0, index));
  }
  const mask = ((1 << s.size) - 1) << (s.off % 4);
  code.ldField(plainDestination(target), mask, regB(s.gpr), byteShift(s.gprByte, s.off % 4));
  if (s.newGpr || s.last) {
    if (viaScratch) code.mov(plainDestination(lm(0, index)), IMM_A.read);
    if (advance) code.mov(NO_DESTINATION, LM3_POST_INC);
  }
}

/** Frame offset of the access: frame depth plus the pointer's fixed offset plus the instruction's. */
function stackOffset(ctx: LoweringContext): number {
  const { insn, facts } = ctx;
  if (facts?.off === undefined) {
    throw new LoweringGap(ctx.index, 'stack pointer whose offset differs between paths (the run-time LM3 address form is not lowered)');
  }
  if (ctx.subprog > 0) {
    // A callee's frame also holds its return address and saved r6-r9, and a
    // pointer it was passed may reach the caller's frame: not modelled yet.
    throw new LoweringGap(ctx.index, 'stack access in a called function is not lowered yet');
  }
  const off = ctx.frameDepth + insn.off + facts.off;
  const size = accessBytes(insn.code);
  if (off < 0 || off + size > ctx.frameDepth) throw new LoweringGap(ctx.index, `stack access at frame offset ${off} is outside the frame`);
  return off;
}

function stackAccess(ctx: LoweringContext, load: boolean): void {
  const { code, insn } = ctx;
  const size = accessBytes(insn.code);
  const off = stackOffset(ctx);
  const gpr = lowGpr(load ? insn.dst : insn.src);
  const window = stackWindow(code, off, size);
  const narrowLoad = load && size < 8;
  if (window.pointer === 3) {
    code.localCsrWrite(CSR_ACT_LM_ADDR3, LM3_ADDRESS.read);
    // Clearing the high word of a narrow load fills one of the wait slots.
    code.nop(narrowLoad && ctx.facts?.zext ? LM_POINTER_LATENCY - 1 : LM_POINTER_LATENCY);
  }
  if (narrowLoad && ctx.facts?.zext) loadImmediate(code, both(gpr + 1), 0);
  for (const slice of stackSlices(gpr, window.off, size)) {
    if (load) loadStackSlice(code, window, slice);
    else storeStackSlice(code, window, slice);
  }
}

// ---- map values ----

/** The 40-bit address of `base + off` as the command's A and B operands: low word, high word. */
function mapValueAddress(code: NfpCode, baseGpr: number, offset: NfpOperand): [NfpOperand, NfpOperand] {
  if (offset.kind === 'imm' && offset.value === 0) return [regA(baseGpr), regB(baseGpr + 1)];
  code.alu(IMM_A.dst, regA(baseGpr), '+', offset);
  code.alu(IMM_B.dst, regB(baseGpr + 1), '+carry', imm(0));
  return [IMM_A.read, IMM_B.read];
}

function loadMapValue(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const size = accessBytes(insn.code);
  // The offset is added to the low word with a carry into the high word, which is only right for offsets >= 0.
  if (insn.off < 0) throw new LoweringGap(ctx.index, 'map value load at a negative instruction offset');
  const [a, b] = mapValueAddress(code, lowGpr(insn.src), restrictedImmediate(code, insn.off, IMM_B));
  code.cmd({
    target: 'mem',
    action: 'read32_swap',
    addressMode: ADDR_40_BA,
    xfer: 0,
    a,
    b,
    length: Math.max(size, 4) / 4,
    ctxSwap: CTX_SWAP,
    signal: 1,
    indirectRef: false,
  });
  const d = lowGpr(insn.dst);
  if (size < 4) code.ldField(both(d), (1 << size) - 1, xfer(0), NO_SHIFT, true);
  else code.mov(both(d), xfer(0));
  if (size === 8) code.mov(both(d + 1), xfer(1));
  else if (ctx.facts?.zext) loadImmediate(code, both(d + 1), 0);
}

/**
 * LDX/STX/ST through a stack or map value pointer. lower-packet.ts owns those
 * opcode rows and dispatches here on facts.ptr.
 */
export function lowerStackOrMapAccess(ctx: LoweringContext): void {
  const cls = ctx.insn.code & 0x07;
  const ptr = ctx.facts?.ptr;
  if (cls !== BPF_LDX && cls !== BPF_STX) throw new LoweringGap(ctx.index, `immediate stores to ${ptr === 'map' ? 'map values' : 'the stack'} are not supported on the NFP`);
  if (ptr === 'stack') return stackAccess(ctx, cls === BPF_LDX);
  if (ptr === 'map' && cls === BPF_LDX) return loadMapValue(ctx);
  throw new LoweringGap(ctx.index, 'map value stores are not supported on the NFP (only atomic adds)');
}

// ---- atomic add ----

/**
 * `lock *(uN *)(dst + off) += src` on a map value. When the addend may fit 16
 * bits, a fire-and-forget add_imm carries it in the command's override data;
 * when it may exceed 16 bits, a full add through the transfer registers; when
 * both may happen, a compare picks one at run time.
 */
function atomicAdd(ctx: LoweringContext): void {
  const { code, insn, facts } = ctx;
  if (insn.imm !== BPF_ADD) throw new LoweringGap(ctx.index, `atomic operation 0x${insn.imm.toString(16)} (only add is supported on the NFP)`);
  if (facts?.ptr !== 'map') throw new LoweringGap(ctx.index, 'atomic add to memory other than a map value');
  if (insn.off < 0) throw new LoweringGap(ctx.index, 'atomic add at a negative instruction offset');
  const is64 = (insn.code & 0x18) === BPF_DW;
  const d = lowGpr(insn.dst);
  const s = lowGpr(insn.src);
  const mayFit = facts.xadd16 === true;
  const mayExceed = facts.xaddbig === true;
  const offset = unrestrictedImmediate(code, insn.off, IMM_B);
  const fullAdd = code.label('xadd-full');
  const done = code.label('xadd-done');

  if (mayFit && mayExceed) {
    // Carry set (no borrow) when 0xffff >= src: the 16-bit form applies.
    loadImmediate(code, IMM_A.dst, ADD_IMM_MAX);
    code.aluCc(IMM_A.read, '-', regB(s));
    code.aluCc(imm(0), '-carry', regB(s + 1));
    // The address computation below fills the defer slots.
    code.br('bcc', { kind: 'label', label: fullAdd }, insn.off ? 2 : 0);
  }

  let a = regA(d);
  let b = regB(d + 1);
  if (insn.off) {
    code.alu(onlyA(IMMA_GPR), regA(d), '+', offset);
    code.alu(onlyB(IMMA_GPR), regA(d + 1), '+carry', imm(0));
    a = regA(IMMA_GPR);
    b = regB(IMMA_GPR);
  }

  if (mayFit) {
    // Override data kind 2: the low 16 bits of the previous ALU result are the addend.
    loadImmediate(code, IMM_A.dst, overrideData(2) | overrideLength(0x8 | (is64 ? 4 : 0)));
    code.ldField(IMM_A.dst, 0b1100, regB(s), { kind: 'left', amount: 16 });
    code.cmd({ target: 'mem', action: 'add_imm', addressMode: ADDR_40_BA, xfer: 0, a, b, length: 1, ctxSwap: CTX_NO_SWAP, signal: 0, indirectRef: true });
    if (mayExceed) code.br('br', { kind: 'label', label: done });
  }

  code.place(fullAdd);
  if (mayExceed) {
    // The addend reaches the transfer registers in the command's defer slots.
    code.cmd({
      target: 'mem',
      action: is64 ? 'add64' : 'add',
      addressMode: ADDR_40_BA,
      xfer: 0,
      a,
      b,
      length: (is64 ? 4 : 0) + 1,
      ctxSwap: is64 ? 2 : 1,
      signal: 1,
      indirectRef: false,
    });
    code.mov(plainDestination(xfer(0)), regA(s));
    if (is64) code.mov(plainDestination(xfer(1)), regA(s + 1));
  }
  code.place(done);
}

export const STACK_MAP_LOWERINGS: readonly [number, Lowering][] = [
  [BPF_STX | BPF_ATOMIC | BPF_W, atomicAdd],
  [BPF_STX | BPF_ATOMIC | BPF_DW, atomicAdd],
];
