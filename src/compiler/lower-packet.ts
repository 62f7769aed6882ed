/**
 * Context and packet memory: ctx field loads and the rx_queue_index store,
 * packet loads (through the packet cache), packet stores, LD_ABS/LD_IND, and
 * the gathered load/store copies. The whole-program decisions (cache ranges,
 * gathered runs, dropped instructions) come from packet-cache.ts.
 */
import { BPF_ABS, BPF_B, BPF_DW, BPF_H, BPF_IND, BPF_LD, BPF_LDX, BPF_MEM, BPF_ST, BPF_STX, BPF_W } from '../ebpf/opcodes.js';
import { loadImmediate, restrictedImmediate, unrestrictedImmediate } from './immediates.js';
import { LoweringGap, type Lowering, type LoweringContext } from './lowering-context.js';
import { lowerStackOrMapAccess } from './lower-stack-map.js';
import type { NfpCode } from './nfp-code.js';
import {
  both,
  IMM_GPR,
  imm,
  lm,
  lowGpr,
  NO_DESTINATION,
  NO_OPERAND,
  onlyA,
  onlyB,
  PACKET_LENGTH_GPR,
  regA,
  regB,
  xfer,
  type Destination,
  type NfpOperand,
} from './nfp-registers.js';
import { accessBytes, memoryPlanOf, type GatherPlan } from './packet-cache.js';
import { BATCH_SCRATCH_GPRS, storeBatchesOf, type StoreBatchMember } from './optimize/batch-stores.js';

/** `*l$index1[2]`: the packet pointer (CTM address of packet data). */
const PACKET_POINTER = lm(1, 2);
const PACKET_LENGTH = regB(PACKET_LENGTH_GPR);
const IMM_A = { dst: onlyA(IMM_GPR), read: regA(IMM_GPR) };
const IMM_B = { dst: onlyB(IMM_GPR), read: regB(IMM_GPR) };
/** Indirect-reference length override in the previous ALU result (CMD_OVE_LEN | CMD_OV_LEN). */
const OVERRIDE_LENGTH = 0x80;
const ADDR_32 = 4;
const ADDR_40_BA = 1;

function toXfer(index: number): Destination {
  return { operand: xfer(index), wrboth: false };
}

function memCmd(code: NfpCode, action: string, xferIndex: number, a: NfpOperand, b: NfpOperand, lengthField: number, opts: { mode?: number; indirect?: boolean } = {}): void {
  code.cmd({
    target: 'mem',
    action,
    addressMode: opts.mode ?? ADDR_32,
    xfer: xferIndex,
    a,
    b,
    // The length field is 3 bits wide; larger values wrap as the kernel's FIELD_PREP does.
    length: (lengthField & 7) + 1,
    ctxSwap: 0,
    signal: 1,
    indirectRef: opts.indirect ?? false,
  });
}

function zeroExtendIfRead(ctx: LoweringContext, dstGpr: number): void {
  if (ctx.facts?.zext) loadImmediate(ctx.code, both(dstGpr + 1), 0);
}

/** The low `bytes` bytes of `src` from byte `from` up, the rest cleared. */
function extractBytes(code: NfpCode, dst: Destination, src: NfpOperand, bytes: number, from: number): void {
  const shift = from ? { kind: 'right' as const, amount: from * 8 } : { kind: 'rotate' as const, amount: 0 };
  code.ldField(dst, (1 << bytes) - 1, src, shift, true);
}

/** OR the low `bytes` bytes of `src` into `dst` at byte `at`. */
function insertBytes(code: NfpCode, dst: Destination, src: NfpOperand, bytes: number, at: number): void {
  const shift = at ? { kind: 'left' as const, amount: at * 8 } : { kind: 'rotate' as const, amount: 0 };
  code.ldField(dst, ((1 << bytes) - 1) << at, src, shift);
}

// ---- context ----

function loadContext(ctx: LoweringContext, size: number): void {
  const { code, insn } = ctx;
  const d = both(lowGpr(insn.dst));
  const field = ctx.programType === 'xdp' ? { data: 0, dataEnd: 4, len: -1 } : { data: 76, dataEnd: 80, len: 0 };
  if (size !== 4) throw new LoweringGap(ctx.index, `context load of ${size} bytes`);
  if (insn.off === field.data) code.mov(d, PACKET_POINTER);
  else if (insn.off === field.dataEnd) code.alu(d, PACKET_LENGTH, '+', PACKET_POINTER);
  else if (insn.off === field.len) code.mov(d, PACKET_LENGTH);
  else throw new LoweringGap(ctx.index, `context field at offset ${insn.off} is not available on the NFP`);
  loadImmediate(code, both(lowGpr(insn.dst) + 1), 0);
}

/** XDP `ctx->rx_queue_index = rX`: flag the queue as selected and store it, 64 when it exceeds a byte. */
function storeQueueIndex(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  if (ctx.programType !== 'xdp' || insn.off !== 16 || insn.code !== (BPF_STX | BPF_MEM | BPF_W)) {
    throw new LoweringGap(ctx.index, 'only the XDP rx_queue_index store writes the context');
  }
  const s = lowGpr(insn.src);
  const done = code.label('queue-selected');
  const flags = lm(1, 4);
  const queue = lm(1, 6);
  code.aluCc(regA(s), 'AND~', imm(0xff));
  code.br('beq', { kind: 'label', label: done }, 2);
  code.shf({ operand: flags, wrboth: false }, flags, 'OR', imm(1), { kind: 'left', amount: 4 });
  code.ldField({ operand: queue, wrboth: false }, 1, regB(s));
  code.ldField({ operand: queue, wrboth: false }, 1, imm(0x40));
  code.place(done);
}

// ---- packet loads ----

function loadPacketDirect(ctx: LoweringContext, size: number): void {
  const { code, insn } = ctx;
  const offset = restrictedImmediate(code, insn.off, IMM_B);
  readPacketWords(ctx, regA(lowGpr(insn.src)), offset, size);
}

function readPacketWords(ctx: LoweringContext, a: NfpOperand, b: NfpOperand, size: number, mode = ADDR_32): void {
  const { code, insn } = ctx;
  const d = lowGpr(insn.dst);
  memCmd(code, 'read32_swap', 0, a, b, Math.max(size, 4) / 4 - 1, { mode });
  let words = 0;
  if (size < 4) code.ldField(both(d), (1 << size) - 1, xfer(0), { kind: 'rotate', amount: 0 }, true);
  else for (; words * 4 < size; words++) code.mov(both(d + words), xfer(words));
  if (words < 2) zeroExtendIfRead(ctx, d);
}

function fillPacketCache(ctx: LoweringContext, rangeStart: number, rangeEnd: number): void {
  const { code, insn } = ctx;
  const offset = restrictedImmediate(code, rangeStart, IMM_B);
  const words = Math.ceil((rangeEnd - rangeStart) / 4);
  const indirect = rangeEnd - rangeStart > 32;
  if (indirect) loadImmediate(code, NO_DESTINATION, OVERRIDE_LENGTH | ((words - 1) << 8));
  memCmd(code, 'read32_swap', 0, regA(lowGpr(insn.src)), offset, words - 1, { indirect });
}

function loadFromPacketCache(ctx: LoweringContext, size: number, rangeStart: number): void {
  const { code, insn } = ctx;
  const d = lowGpr(insn.dst);
  const rel = insn.off - rangeStart;
  const index = Math.floor(rel / 4);
  const at = rel % 4;
  if (at === 0) {
    if (size < 4) extractBytes(code, both(d), xfer(index), size, 0);
    else code.mov(both(d), xfer(index));
    if (size === 8) code.mov(both(d + 1), xfer(index + 1));
    else zeroExtendIfRead(ctx, d);
    return;
  }
  // Unaligned: the value spans up to three transfer registers.
  let lowBytes = size;
  let midBytes = 0;
  if (size > 4 - at) {
    lowBytes = 4 - at;
    midBytes = size - lowBytes;
    if (size > 8 - at) midBytes = 4;
  }
  extractBytes(code, both(d), xfer(index), lowBytes, at);
  if (!midBytes) return zeroExtendIfRead(ctx, d);
  if (size <= 4) {
    insertBytes(code, both(d), xfer(index + 1), midBytes, lowBytes);
    return zeroExtendIfRead(ctx, d);
  }
  insertBytes(code, both(d), xfer(index + 1), 4 - lowBytes, lowBytes);
  extractBytes(code, both(d + 1), xfer(index + 1), lowBytes, 4 - lowBytes);
  insertBytes(code, both(d + 1), xfer(index + 2), 4 - lowBytes, lowBytes);
}

// ---- gathered copies ----

function lowerGatheredCopy(ctx: LoweringContext, plan: GatherPlan): void {
  const { code, insn } = ctx;
  const descending = plan.length < 0;
  const len = Math.abs(plan.length);
  const words = Math.ceil(len / 4);
  const s = lowGpr(insn.src);
  let offset = restrictedImmediate(code, plan.loadOff, IMM_B);
  let base = regA(s);
  const fromMap = ctx.facts?.ptr === 'map';
  if (fromMap) {
    // 40-bit address: the map value pointer's two halves plus the offset.
    if (!(offset.kind === 'imm' && offset.value === 0)) {
      code.alu(IMM_A.dst, regA(s), '+', offset);
      code.alu(IMM_B.dst, regB(s + 1), '+carry', imm(0));
      base = IMM_A.read;
      offset = IMM_B.read;
    } else {
      offset = regB(s + 1);
    }
  }
  if (len > 32) loadImmediate(code, NO_DESTINATION, OVERRIDE_LENGTH | ((words - 1) << 8));
  memCmd(code, 'read32_swap', 0, base, offset, words - 1, { mode: fromMap ? ADDR_40_BA : ADDR_32, indirect: len > 32 });
  for (let i = 0; i < words; i++) code.mov(toXfer(i), xfer(i));

  const dstBase = regA(lowGpr(plan.storeBase));
  offset = restrictedImmediate(code, plan.storeOff, IMM_B);
  if (len <= 8) {
    memCmd(code, 'write8_swap', 0, dstBase, offset, len - 1);
  } else if (len <= 32 && len % 4 === 0) {
    memCmd(code, 'write32_swap', 0, dstBase, offset, words - 1);
  } else if (len <= 32) {
    loadImmediate(code, NO_DESTINATION, OVERRIDE_LENGTH | ((len - 1) << 8));
    memCmd(code, 'write8_swap', 0, dstBase, offset, len - 1, { indirect: true });
  } else if (len % 4 === 0) {
    loadImmediate(code, NO_DESTINATION, OVERRIDE_LENGTH | ((words - 1) << 8));
    memCmd(code, 'write32_swap', 0, dstBase, offset, words - 1, { indirect: true });
  } else if (len <= 40) {
    memCmd(code, 'write32_swap', 0, dstBase, offset, 7);
    offset = restrictedImmediate(code, plan.storeOff + 32, IMM_B);
    memCmd(code, 'write8_swap', 8, dstBase, offset, len - 33);
  } else {
    loadImmediate(code, NO_DESTINATION, OVERRIDE_LENGTH | ((words - 2) << 8));
    memCmd(code, 'write32_swap', 0, dstBase, offset, words - 2, { indirect: true });
    offset = restrictedImmediate(code, (plan.storeOff + (words - 1) * 4) & 0xff, IMM_B);
    memCmd(code, 'write8_swap', words - 1, dstBase, offset, (len & 3) - 1);
  }

  // Leave the data register as the kernel does (its W case reads $xfer_0 whatever the order).
  const d = lowGpr(insn.dst);
  const width = insn.code & 0x18;
  const last = descending ? 0 : width === BPF_DW ? words - 2 : words - 1;
  if (width === BPF_B) extractBytes(code, both(d), xfer(last), 1, len % 4 === 0 ? 3 : (len & 3) - 1);
  else if (width === BPF_H) extractBytes(code, both(d), xfer(last), 2, (len & 3) ^ 2);
  else if (width === BPF_W) code.mov(both(d), xfer(0));
  else {
    code.mov(both(d), xfer(last));
    code.mov(both(d + 1), xfer(last + 1));
  }
  if (width !== BPF_DW) loadImmediate(code, both(d + 1), 0);
}

// ---- opcode rows ----

function lowerLoad(ctx: LoweringContext): void {
  const size = accessBytes(ctx.insn.code);
  const plan = memoryPlanOf(ctx.insns);
  const gather = plan?.gather.get(ctx.index);
  if (gather) return lowerGatheredCopy(ctx, gather);
  switch (ctx.facts?.ptr) {
    case 'ctx':
      return loadContext(ctx, size);
    case 'pkt': {
      const cache = plan?.cache.get(ctx.index);
      if (!cache || cache.rangeEnd === 0) return loadPacketDirect(ctx, size);
      if (cache.fill) fillPacketCache(ctx, cache.rangeStart, cache.rangeEnd);
      return loadFromPacketCache(ctx, size, cache.rangeStart);
    }
    case 'stack':
    case 'map':
      return lowerStackOrMapAccess(ctx);
    default:
      throw new LoweringGap(ctx.index, 'load through a pointer the verifier did not classify');
  }
}

function lowerStore(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const size = accessBytes(insn.code);
  switch (ctx.facts?.ptr) {
    case 'ctx':
      return storeQueueIndex(ctx);
    case 'pkt': {
      const member = ctx.passes.has('batch-stores') ? storeBatchesOf(ctx.insns, ctx.programFacts).get(ctx.index) : undefined;
      if (member) return lowerBatchedStore(ctx, member);
      const offset = restrictedImmediate(code, insn.off, IMM_B);
      const s = lowGpr(insn.src);
      for (let i = 0; i * 4 < size; i++) code.mov(toXfer(i), regA(s + i));
      return memCmd(code, 'write8_swap', 0, regA(lowGpr(insn.dst)), offset, size - 1);
    }
    case 'stack':
    case 'map':
      return lowerStackOrMapAccess(ctx);
    default:
      throw new LoweringGap(ctx.index, 'store through a pointer the verifier did not classify');
  }
}

/** batch-stores: this store's bytes go into the block's scratch word; the last member writes the block. */
function lowerBatchedStore(ctx: LoweringContext, member: StoreBatchMember): void {
  const { code, insn } = ctx;
  const word = Math.floor(member.at / 4);
  insertBytes(code, onlyA(BATCH_SCRATCH_GPRS[word]!), regB(lowGpr(insn.src)), member.bytes, member.at % 4);
  if (!member.last) return;
  const words = Math.ceil(member.blockLength / 4);
  for (let i = 0; i < words; i++) code.mov(toXfer(i), regA(BATCH_SCRATCH_GPRS[i]!));
  const offset = restrictedImmediate(code, member.blockOff, IMM_B);
  memCmd(code, 'write8_swap', 0, regA(lowGpr(insn.dst)), offset, member.blockLength - 1);
}

function lowerStoreImmediate(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const size = accessBytes(insn.code);
  switch (ctx.facts?.ptr) {
    case 'pkt': {
      const offset = restrictedImmediate(code, insn.off, IMM_B);
      loadImmediate(code, toXfer(0), insn.imm);
      if (size === 8) loadImmediate(code, toXfer(1), insn.imm < 0 ? 0xffffffff : 0);
      return memCmd(code, 'write8_swap', 0, regA(lowGpr(insn.dst)), offset, size - 1);
    }
    case 'stack':
    case 'map':
      return lowerStackOrMapAccess(ctx);
    default:
      throw new LoweringGap(ctx.index, 'immediate stores only reach packet memory on the NFP');
  }
}

/** Big-endian bytes from the packet, bounds-checked against the length (abort when short). */
function readClassic(ctx: LoweringContext, offset: NfpOperand, size: number): void {
  const { code } = ctx;
  const shift = size < 4 ? 4 - size : 0;
  memCmd(code, 'read8', 0, PACKET_POINTER, offset, Math.max(size, 4) - 1);
  let words = 0;
  if (shift) code.shf(both(0), NO_OPERAND, 'B', xfer(0), { kind: 'right', amount: shift * 8 });
  else for (; words * 4 < size; words++) code.mov(both(words), xfer(words));
  if (words < 2) zeroExtendIfRead(ctx, 0);
}

function lowerLoadAbsolute(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const size = accessBytes(insn.code);
  const offset = insn.imm & 0xffff;
  const end = unrestrictedImmediate(code, offset + size, IMM_A);
  code.aluCc(PACKET_LENGTH, '-', end);
  code.br('bcc', { kind: 'abort' });
  readClassic(ctx, restrictedImmediate(code, offset, IMM_B), size);
}

function lowerLoadIndirect(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const size = accessBytes(insn.code);
  const added = unrestrictedImmediate(code, insn.imm & 0xffff, IMM_B);
  code.alu(both(IMM_GPR), regA(lowGpr(insn.src)), '+', added);
  code.alu(IMM_A.dst, IMM_A.read, '+', imm(size));
  code.aluCc(PACKET_LENGTH, '-', IMM_A.read);
  code.br('bcc', { kind: 'abort' });
  readClassic(ctx, IMM_B.read, size);
}

const SIZES = [BPF_B, BPF_H, BPF_W, BPF_DW] as const;
const CLASSIC_SIZES = [BPF_B, BPF_H, BPF_W] as const;

export const PACKET_LOWERINGS: readonly [number, Lowering][] = [
  ...SIZES.map((s): [number, Lowering] => [BPF_LDX | BPF_MEM | s, lowerLoad]),
  ...SIZES.map((s): [number, Lowering] => [BPF_STX | BPF_MEM | s, lowerStore]),
  ...SIZES.map((s): [number, Lowering] => [BPF_ST | BPF_MEM | s, lowerStoreImmediate]),
  ...CLASSIC_SIZES.map((s): [number, Lowering] => [BPF_LD | BPF_ABS | s, lowerLoadAbsolute]),
  ...CLASSIC_SIZES.map((s): [number, Lowering] => [BPF_LD | BPF_IND | s, lowerLoadIndirect]),
];
