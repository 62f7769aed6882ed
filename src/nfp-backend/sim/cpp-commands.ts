/**
 * CPP memory commands (`mem[...]`, nfp-microcode.md A.4, B.8) on simulated
 * memory. A command is issued (operands read, address and length checked, a
 * bad address faults at the command's pc, NC6045) and later performed (data
 * moved): a ctx_swap command moves its data when the context swaps out, i.e.
 * after its defer slots, which is why the JIT may fill the write data into
 * $xfer in those slots (lowering-catalogue, XADD 64); a command without swap
 * moves it at issue.
 *
 * Byte order (the ME is big-endian; memory is byte-addressed here):
 *   read8         bytes packed big-endian: byte i -> $xfer[i/4] bits 31-8(i%4)..; a partly
 *                 filled last word has zero low bytes (LD_ABS reads 4 and shifts: >>24 for B)
 *   read32        words big-endian: b0 b1 b2 b3 -> 0xb0b1b2b3
 *   read32_swap   words little-endian: b0 in bits 7:0 (the eBPF view)
 *   read32_le     little-endian addressing mode: for byte-addressed flat memory the same
 *                 words as read32_swap [inference; unused by the kernel JIT]
 *   read_le       64-bit units (length x 8 bytes), each 32-bit $xfer word little-endian,
 *                 lower address first [inference; unused by the kernel JIT]
 *   read_swap_le  as read_le with each word byte-swapped, i.e. big-endian [inference; unused]
 *   write8_swap   `length` bytes taken little-endian from $xfer words (byte i = bits 8(i%4)+7.. of $xfer[i/4])
 *   write32_swap  `length` words, each stored little-endian (inverse of read32_swap)
 *   add / add64 / add_imm   atomic add on big-endian 32-bit words (how the driver keeps
 *                 atomic counters, D.5); a 64-bit add treats the word at addr as the LOW
 *                 half and the word at addr + 4 as the HIGH half, carrying low into high,
 *                 so the host's view (each word byte-swapped by the driver, then a
 *                 little-endian u64) counts correctly [inference]
 * Lengths: the printed length (field + 1) in the command's unit (bytes for read8/write8,
 * words for read32/write32, 8 bytes for read/read_le); an indirect_ref with the
 * length-override bit takes length = override bits 12:8 + 1 instead.
 *
 * indirect_ref override word (the immediately preceding ALU result; the JIT
 * materialises it with immed, or immed + ld_field): bit 7 length override, bits
 * 12:8 length - 1, bits 5:3 data-override selector (2 = the 16-bit add operand
 * of add_imm in bits 31:16). add_imm: override length bit 2 selects a 64-bit add
 * (the golden words use 0x890 / 0xc90). Other override bits (15:13, 6, 2:0) and
 * selectors fault (NC6053).
 *
 * Addresses: mode 4 is a 32-bit CTM packet address A + B (this context's packet
 * only); modes 0/1 are 40-bit: the high operand (A in mode 0, B in mode 1)
 * carries address bits 39:32 in its bits 7:0 and must be <= 0xff, the other the
 * low 32 bits. 40-bit addresses reach map values in EMEM (memory-map.ts).
 */
import type { CmdInsn } from '../isa/instruction.js';
import { chargeSleep, type CmdLatch, fault, MEM_CLASS, type MeContext, PREV } from './machine-state.js';
import { CTM_BUFFER_BYTES, hex, joinAddress40 } from './memory-map.js';

const OVERRIDE_UNKNOWN_BITS = 0xe047;

function unitBytes(action: string): number {
  switch (action) {
    case 'read8':
    case 'write8_swap':
      return 1;
    case 'read_le':
    case 'read_swap_le':
      return 8;
    default:
      return 4;
  }
}

function addressText(c: CmdLatch): string {
  return c.address > 0xffffffff ? hex(c.address, 10) : hex(c.address, 8);
}

/**
 * Issue: check everything and latch what perform needs (the context's swapCmd
 * for a ctx_swap command, nowCmd otherwise). `prevKind`/`prevResult` are the
 * side channel (PREV) for indirect_ref.
 */
export function cmdIssue(s: MeContext, pc: number, insn: CmdInsn, aVal: number, bVal: number, prevKind: number, prevResult: number): void {
  const c = insn.ctxSwap === 3 ? s.nowCmd : s.swapCmd;
  const action = insn.action;
  let length = insn.length;
  let imm = 0;
  let wide = action === 'add64';
  if (insn.indirectRef) {
    if (prevKind === PREV.none) {
      fault('NC6048', pc, { what: `mem[${action}] with indirect_ref`, needs: 'its override word (the result)', why: 'the preceding instruction is not an ALU instruction' });
    }
    const ov = prevResult >>> 0;
    if (ov & OVERRIDE_UNKNOWN_BITS) badOverride(pc, ov, `bits 0x${(ov & OVERRIDE_UNKNOWN_BITS).toString(16)} (overrides other than length and data) are set`);
    const selector = (ov >>> 3) & 7;
    const ovLength = (ov >>> 8) & 0x1f;
    const lengthOverride = (ov & 0x80) !== 0;
    if (action === 'add_imm') {
      if (selector !== 2) badOverride(pc, ov, `add_imm takes its operand from data override selector 2, not ${selector}`);
      imm = ov >>> 16;
      wide = lengthOverride && (ovLength & 4) !== 0;
    } else {
      if (selector !== 0) badOverride(pc, ov, `data override selector ${selector} on mem[${action}]`);
      if (lengthOverride) {
        if (action === 'add' || action === 'add64') badOverride(pc, ov, `a length override on mem[${action}]`);
        length = ovLength + 1;
      }
    }
  } else if (action === 'add_imm') {
    fault('NC6041', pc, { insn: 'mem[add_imm] without indirect_ref', reason: 'its add operand comes from the override word' });
  }
  let bytes: number;
  if (action === 'add' || action === 'add64' || action === 'add_imm') bytes = wide ? 8 : 4;
  else bytes = length * unitBytes(action);
  const xferWords = action === 'add_imm' ? 0 : Math.ceil(bytes / 4);
  if (insn.xfer + xferWords > 64) {
    fault('NC6041', pc, { insn: `mem[${action}]`, reason: `${bytes} bytes need transfer registers ${insn.xfer}..${insn.xfer + xferWords - 1}; a context has 64` });
  }
  c.insn = insn;
  c.pc = pc;
  c.bytes = bytes;
  c.imm = imm;
  c.wide = wide;
  if (insn.addressMode === 4) {
    const address = (aVal + bVal) >>> 0;
    c.address = address;
    const offset = address & 0xffff;
    if (address >>> 31 === 0) outside(c, action, 'a 32-bit address without bit 31 is no CTM packet address');
    if (((address >>> 16) & 0x7fff) !== s.packetNumber) {
      outside(c, action, `packet number ${(address >>> 16) & 0x3ff}${(address >>> 26) & 0x1f ? ' with bits 30:26 set' : ''} is not this context's packet (${s.packetNumber})`);
    }
    if (offset + bytes > CTM_BUFFER_BYTES) outside(c, action, `offset ${offset} + ${bytes} is past the ${CTM_BUFFER_BYTES}-byte CTM packet buffer`);
    s.loadCtm();
    c.mem = s.ctm;
    c.offset = offset;
    c.memClass = MEM_CLASS.ctm;
  } else {
    const high = (insn.addressMode === 0 ? aVal : bVal) >>> 0;
    const low = (insn.addressMode === 0 ? bVal : aVal) >>> 0;
    c.address = joinAddress40(low, high & 0xff);
    if (high > 0xff) outside(c, action, `the high address operand 0x${high.toString(16)} has bits above 7:0 (address bits 39:32)`);
    const table = s.me.maps.tableAt(c.address);
    if (!table) outside(c, action, 'no map table holds values there');
    const offset = c.address - table.base;
    if (offset + bytes > table.values.length) {
      outside(c, action, `past the ${table.values.length} value bytes of table ${table.def.tableId} (${table.def.name})`);
    }
    c.mem = table.values;
    c.offset = offset;
    c.memClass = MEM_CLASS.emem;
  }
  if ((action === 'add' || action === 'add64' || action === 'add_imm') && c.address % 4 !== 0) {
    outside(c, action, 'an atomic add needs a 4-byte aligned address');
  }
}

function badOverride(pc: number, ov: number, reason: string): never {
  return fault('NC6053', pc, { value: hex(ov, 8), reason });
}

function outside(c: CmdLatch, action: string, reason: string): never {
  return fault('NC6045', c.pc, { command: `mem[${action}]`, bytes: c.bytes, address: addressText(c), reason });
}

function readBe(m: Uint8Array, i: number): number {
  return (m[i]! << 24) | (m[i + 1]! << 16) | (m[i + 2]! << 8) | m[i + 3]!;
}

function writeBe(m: Uint8Array, i: number, v: number): void {
  m[i] = v >>> 24;
  m[i + 1] = v >>> 16;
  m[i + 2] = v >>> 8;
  m[i + 3] = v;
}

function add64(m: Uint8Array, at: number, lo: number, hi: number): void {
  const l = (readBe(m, at) >>> 0) + (lo >>> 0);
  writeBe(m, at, l | 0);
  writeBe(m, at + 4, (readBe(m, at + 4) + hi + (l > 0xffffffff ? 1 : 0)) | 0);
}

/** Move the data of the latched command (swapCmd or nowCmd); a ctx_swap command then sleeps. */
export function cmdPerform(s: MeContext, c: CmdLatch): void {
  const insn = c.insn!;
  c.insn = null;
  const m = c.mem;
  const at = c.offset;
  const n = c.bytes;
  const x = insn.xfer;
  switch (insn.action) {
    case 'read8': {
      for (let w = 0; w * 4 < n; w++) {
        let v = 0;
        for (let j = 0; j < 4; j++) v |= (w * 4 + j < n ? m[at + w * 4 + j]! : 0) << (24 - 8 * j);
        s.xin[x + w] = v;
      }
      break;
    }
    case 'read32':
    case 'read_swap_le':
      for (let w = 0; w * 4 < n; w++) s.xin[x + w] = readBe(m, at + w * 4);
      break;
    case 'read32_swap':
    case 'read32_le':
    case 'read_le':
      for (let w = 0; w * 4 < n; w++) {
        const i = at + w * 4;
        s.xin[x + w] = m[i]! | (m[i + 1]! << 8) | (m[i + 2]! << 16) | (m[i + 3]! << 24);
      }
      break;
    case 'write8_swap':
    case 'write32_swap':
      for (let i = 0; i < n; i++) m[at + i] = s.xout[x + (i >>> 2)]! >>> (8 * (i & 3));
      break;
    case 'add':
      writeBe(m, at, (readBe(m, at) + s.xout[x]!) | 0);
      break;
    case 'add64':
      add64(m, at, s.xout[x]!, s.xout[x + 1]!);
      break;
    case 'add_imm':
      if (c.wide) add64(m, at, c.imm, 0);
      else writeBe(m, at, (readBe(m, at) + c.imm) | 0);
      break;
    default:
      fault('NC6041', c.pc, { insn: `mem[${String(insn.action)}]`, reason: 'command not simulated' });
  }
  if (m === s.ctm && at + n > s.ctmDirty) s.ctmDirty = at + n;
  if (insn.ctxSwap !== 3) chargeSleep(s, c.memClass, s.me.memoryLatency(c.memClass));
}
