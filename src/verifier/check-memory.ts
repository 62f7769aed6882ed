/**
 * Loads, stores, atomics and helper memory arguments: the kernel's
 * check_mem_access and its per-pointer-type checks (stack, packet, map
 * value, context, ring buffer memory, sockets), stack spills and fills,
 * and the alignment rules.
 */
import { MAP_TYPE } from '../ebpf/bpf-object.js';
import { checkContextAccess } from './context-access.js';
import {
  UNKNOWN_SCALAR,
  constReg,
  isNullScalar,
  isPointer,
  mapOfReg,
  pointerReg,
  regToString,
  regTypeName,
  withReg,
  type RegState,
} from './register-state.js';
import {
  S64_MIN,
  scalarConstValue,
  scalarLoad,
  scalarMovSx,
  scalarTruncate,
  type ScalarRange,
} from './scalar-range.js';
import { tnumAdd, tnumConst, tnumIsAligned, tnumToString, type Tnum } from './tnum.js';
import type { VerifierEnv } from './verifier-env.js';
import {
  ByteKind,
  MAX_BPF_STACK,
  SLOT_SIZE,
  growStack,
  isSpilled,
  isSpilledScalar,
  slotAt,
  slotOf,
  type FuncFrame,
  type StackSlot,
} from './verifier-state.js';

/** BPF_MAX_VAR_OFF: offsets beyond this are too far to reason about. */
export const MAX_VAR_OFF = 1 << 29;
/** BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG map flags. */
const MAP_RDONLY_PROG = 0x80;
const MAP_WRONLY_PROG = 0x100;
/** MAX_PACKET_OFF. */
export const MAX_PACKET_OFF = 0xffff;

export type AccessKind = 'read' | 'write';

/** Where a stored value comes from. */
export type StoreValue = { kind: 'reg'; regno: number } | { kind: 'imm'; value: bigint } | { kind: 'none' };

export interface MemAccess {
  /** The base register. */
  regno: number;
  /** The instruction's offset field. */
  off: number;
  size: 1 | 2 | 4 | 8;
  kind: AccessKind;
  /** Reads: the register that receives the value (-1: none, as for atomics' first read). */
  dst: number;
  /** Writes: the value written. */
  value: StoreValue;
  /** Atomics require alignment whatever the program's flags. */
  strictOnce: boolean;
  signExtend: boolean;
}

const s = (v: bigint | number): string => String(v);

function varOffText(value: ScalarRange): string {
  const c = scalarConstValue(value);
  return c !== undefined ? s(BigInt.asIntN(64, c)) : tnumToString(value.tnum);
}

// ---------------------------------------------------------------------------
// Alignment (check_ptr_alignment)
// ---------------------------------------------------------------------------

function checkAlignment(env: VerifierEnv, reg: RegState, off: number, size: number, strictOnce: boolean): void {
  let strict = env.strictAlignment || strictOnce;
  if (reg.type === 'packet' || reg.type === 'packet_meta') {
    if (!strict || size === 1) return;
    // NET_IP_ALIGN: the kernel checks as if the packet started 2 bytes into a word.
    const at: Tnum = tnumAdd(tnumConst(2n), tnumAdd(reg.value.tnum, tnumConst(BigInt(reg.off + off))));
    if (!tnumIsAligned(at, BigInt(size))) {
      const text = `misaligned packet access off 2+${varOffText(reg.value)}+${reg.off}+${off} size ${size}`;
      env.refuse('NC4060', { what: 'packet', detail: text }, text);
    }
    return;
  }
  let desc = '';
  switch (reg.type) {
    case 'map_value':
      desc = 'value ';
      break;
    case 'ctx':
      desc = 'context ';
      break;
    case 'stack':
      desc = 'stack ';
      // Spill tracking relies on aligned stack accesses.
      strict = true;
      break;
    case 'sock':
    case 'sock_common':
    case 'tcp_sock':
      desc = 'sock ';
      break;
    default:
      break;
  }
  if (!strict || size === 1) return;
  const at = tnumAdd(reg.value.tnum, tnumConst(BigInt(reg.off + off)));
  if (!tnumIsAligned(at, BigInt(size))) {
    const text = `misaligned ${desc}access off ${varOffText(reg.value)}+${reg.off}+${off} size ${size}`;
    env.refuse('NC4060', { what: desc.trim() || regTypeName(reg), detail: text }, text);
  }
}

// ---------------------------------------------------------------------------
// Bounded regions: map values, ring buffer records (check_mem_region_access)
// ---------------------------------------------------------------------------

function regionMessage(reg: RegState, regno: number, memSize: number, off: number, size: number): string {
  if (reg.type === 'map_value') return `invalid access to map value, value_size=${memSize} off=${off} size=${size}`;
  if (reg.type === 'packet' || reg.type === 'packet_meta') return `invalid access to packet, off=${off} size=${size}, R${regno}(id=${reg.id},off=${off},r=${memSize})`;
  return `invalid access to memory, mem_size=${memSize} off=${off} size=${size}`;
}

/** [off, off + size) inside [0, memSize), for every value of the pointer's variable part. */
export function checkRegionAccess(
  env: VerifierEnv,
  regno: number,
  reg: RegState,
  off: number,
  size: number,
  memSize: number,
  zeroSizeAllowed: boolean,
  describe: (start: bigint, end: bigint) => Record<string, string | number | bigint>,
  code: 'NC4057' | 'NC4096',
): void {
  const v = reg.value;
  const smin = v.smin;
  if (smin < 0n && (smin === S64_MIN || BigInt(off) + smin !== BigInt.asIntN(32, BigInt(off) + smin) || smin + BigInt(off) < 0n)) {
    const text = `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`;
    env.refuse('NC4056', { reg: regno }, text);
  }
  const fits = (at: bigint): boolean => at >= 0n && (size > 0 || (size === 0 && zeroSizeAllowed)) && at + BigInt(size) <= BigInt(memSize);
  const lo = smin + BigInt(off);
  if (!fits(lo)) {
    const first = regionMessage(reg, regno, memSize, Number(lo), size);
    env.refuse(code, describe(lo, lo + BigInt(size) - 1n), `${first}\nR${regno} min value is outside of the allowed memory range`);
  }
  if (v.umax >= BigInt(MAX_VAR_OFF)) {
    const text = `R${regno} unbounded memory access, make sure to bounds check any such access`;
    env.refuse('NC4058', { reg: regno }, text);
  }
  const hi = v.umax + BigInt(off);
  if (!fits(hi)) {
    const first = regionMessage(reg, regno, memSize, Number(hi), size);
    env.refuse(code, describe(hi, hi + BigInt(size) - 1n), `${first}\nR${regno} max value is outside of the allowed memory range`);
  }
}

function mapFlagsReadOnly(map: { flags: number; readOnly?: boolean }): boolean {
  return (map.flags & MAP_RDONLY_PROG) !== 0 || map.readOnly === true;
}

function checkMapAccessType(env: VerifierEnv, reg: RegState, off: number, size: number, kind: AccessKind): void {
  const map = mapOfReg(env.input, reg);
  if (!map) return;
  if (kind === 'write' && mapFlagsReadOnly(map)) {
    const text = `write into map forbidden, value_size=${map.valueSize} off=${off} size=${size}`;
    env.refuse('NC4084', { map: map.name }, text);
  }
  if (kind === 'read' && (map.flags & MAP_WRONLY_PROG) !== 0) {
    const text = `read from map forbidden, value_size=${map.valueSize} off=${off} size=${size}`;
    env.refuse('NC4098', { detail: `map ${map.name} is write-only for programs` }, text);
  }
}

export function checkMapValueAccess(env: VerifierEnv, regno: number, reg: RegState, off: number, size: number, zeroSizeAllowed: boolean): void {
  const map = mapOfReg(env.input, reg);
  const valueSize = map?.valueSize ?? 0;
  checkRegionAccess(env, regno, reg, off, size, valueSize, zeroSizeAllowed,
    (start, end) => ({ map: map?.name ?? '?', valueSize, start, end, reg: regno }), 'NC4057');
}

// ---------------------------------------------------------------------------
// Packet (check_packet_access)
// ---------------------------------------------------------------------------

export function checkPacketAccess(env: VerifierEnv, regno: number, reg: RegState, off: number, size: number, zeroSizeAllowed: boolean): void {
  if (reg.value.smin < 0n) {
    const text = `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`;
    env.refuse('NC4056', { reg: regno }, text);
  }
  const sizeOk = size > 0 || (size === 0 && zeroSizeAllowed);
  const ok = reg.range >= 0 && off >= 0 && sizeOk && off + size <= reg.range;
  if (!ok) {
    const last = `R${regno} offset is outside of the packet`;
    const text = reg.range < 0 ? last : `${regionMessage(reg, regno, reg.range, off, size)}\n${last}`;
    env.refuse('NC4055', { reg: regno, start: off, end: off + size - 1 }, text);
  }
}

/** May this program type write the packet directly (may_access_direct_pkt_data)? */
export function mayWritePacket(type: string): boolean {
  return type === 'xdp' || type === 'sched_cls' || type === 'sched_act';
}

// ---------------------------------------------------------------------------
// Stack
// ---------------------------------------------------------------------------

/** check_stack_access_within_bounds: the whole access inside the frame; grows the frame's stack. */
export function checkStackBounds(env: VerifierEnv, regno: number, reg: RegState, off: number, size: number, kind: AccessKind | 'helper-read' | 'helper-write'): { min: number; max: number } {
  const frame = env.state.frames[reg.frame];
  const extra = kind === 'read' || kind === 'helper-read' ? ' read from' : ' write to';
  const c = scalarConstValue(reg.value);
  let min: number;
  let max: number;
  if (c !== undefined) {
    min = Number(BigInt.asIntN(64, c)) + off;
    max = min + size;
  } else {
    const v = reg.value;
    if (v.smax >= BigInt(MAX_VAR_OFF) || v.smin <= -BigInt(MAX_VAR_OFF)) {
      const text = `invalid unbounded variable-offset${extra} stack R${regno}`;
      env.refuse('NC4095', { reg: regno, detail: 'the offset is unbounded' }, text);
    }
    min = Number(v.smin) + off;
    max = Number(v.smax) + off + size;
  }
  const minValid = kind === 'write' || kind === 'helper-write' || !env.unprivileged ? -MAX_BPF_STACK : -frame.allocated;
  if (min < minValid || min > -1 || max > 0 || size < 0) {
    const text =
      c !== undefined
        ? `invalid${extra} stack R${regno} off=${off} size=${size}`
        : `invalid variable-offset${extra} stack R${regno} var_off=${tnumToString(reg.value.tnum)} off=${off} size=${size}`;
    env.refuse('NC4059', { reg: regno, off: c !== undefined ? Number(BigInt.asIntN(64, c)) + off : off, size }, text);
  }
  growStack(frame, -min);
  return { min, max };
}

function setSlot(frame: FuncFrame, spi: number, slot: StackSlot): void {
  while (frame.slots.length <= spi) frame.slots.push(undefined);
  frame.slots[spi] = slot;
}

/** The kernel's mark_stack_slot_misc: unwritten and zero bytes keep their kind. */
function miscUnlessKept(k: ByteKind): ByteKind {
  return k === ByteKind.Zero || k === ByteKind.Invalid ? k : ByteKind.Misc;
}

/** The kernel's scrub_spilled_slot: a destroyed spill leaves data the verifier does not know. */
function scrub(k: ByteKind): ByteKind {
  return k === ByteKind.Invalid ? k : ByteKind.Misc;
}

/** Store `reg` as a spill of `size` bytes at the base of slot spi. */
function spill(frame: FuncFrame, spi: number, reg: RegState, size: number): void {
  const old = slotAt(frame, spi);
  const kinds = old.kinds.map((k, b) => (b < size ? ByteKind.Spill : miscUnlessKept(k)));
  setSlot(frame, spi, { kinds, spilled: reg });
}

/** The number of bits needed for the value (the kernel's get_reg_width: fls64(umax)). */
function regWidth(reg: RegState): number {
  return reg.value.umax === 0n ? 0 : reg.value.umax.toString(2).length;
}

/** assign_scalar_id_before_mov: give a non-constant scalar a link id before it is copied. */
export function linkBeforeCopy(env: VerifierEnv, reg: RegState): RegState {
  if (reg.type !== 'scalar') return reg;
  let r = reg;
  if (r.delta) r = withReg(r, { id: 0, off: 0, delta: false });
  if (r.id === 0 && scalarConstValue(r.value) === undefined) r = withReg(r, { id: env.newId() });
  return r;
}

function writeFixedStack(env: VerifierEnv, frame: FuncFrame, off: number, size: number, value: StoreValue, valueRegno: number): void {
  const { spi, byte } = slotOf(off);
  if (size === SLOT_SIZE) env.noteStackWritten(frame.frameNo, spi);
  const cur = env.state.frames[env.state.frames.length - 1];
  let reg: RegState | undefined = value.kind === 'reg' ? env.reg(value.regno) : undefined;
  if (env.unprivileged) {
    const slot = slotAt(frame, spi);
    if (isSpilled(slot) && !isSpilledScalar(slot) && size !== SLOT_SIZE) {
      env.refuse('NC4098', { detail: 'a narrow store would corrupt a spilled pointer' }, 'attempt to corrupt spilled pointer on stack');
    }
  }
  const aligned = off % SLOT_SIZE === 0;
  if (reg && aligned && reg.type === 'scalar' && !env.unprivileged) {
    const fits = regWidth(reg) <= size * 8;
    if (fits) {
      reg = linkBeforeCopy(env, reg);
      env.setReg(valueRegno, reg);
    }
    spill(frame, spi, fits ? reg : withReg(reg, { id: 0, off: 0, delta: false }), size);
    env.noteStackAccess(frame.frameNo, spi);
    return;
  }
  if (!reg && aligned && value.kind === 'imm' && !env.unprivileged) {
    spill(frame, spi, constReg(value.value), size);
    env.noteStackAccess(frame.frameNo, spi);
    return;
  }
  if (reg && isPointer(reg)) {
    if (size !== SLOT_SIZE) env.refuse('NC4062', { size }, 'invalid size of register spill');
    if (frame !== cur && reg.type === 'stack') {
      env.refuse('NC4098', { detail: 'a pointer to the stack cannot be spilled into a caller\'s frame' }, 'cannot spill pointers to stack into stack frame of the caller');
    }
    spill(frame, spi, reg, size);
    env.noteStackAccess(frame.frameNo, spi);
    return;
  }
  // A plain data write: it destroys any spill in the slot.
  const old = slotAt(frame, spi);
  const base = isSpilled(old) ? old.kinds.map(scrub) : old.kinds.slice();
  let kind = ByteKind.Misc;
  if ((reg && isNullScalar(reg)) || (value.kind === 'imm' && value.value === 0n)) {
    // Zero bytes stay known only if the stored register's value stays known in earlier states.
    if (reg) env.markPreciseRegs([valueRegno]);
    kind = ByteKind.Zero;
  }
  for (let b = byte; b < byte + size; b++) base[b] = kind;
  setSlot(frame, spi, { kinds: base, spilled: null });
}

function writeVarStack(env: VerifierEnv, frame: FuncFrame, min: number, max: number, value: StoreValue, valueRegno: number): void {
  const reg = value.kind === 'reg' ? env.reg(value.regno) : undefined;
  const writingZero = (reg !== undefined && isNullScalar(reg)) || (value.kind === 'imm' && value.value === 0n);
  let zeroUsed = false;
  for (let addr = min; addr < max; addr++) {
    const { spi, byte } = slotOf(addr);
    const slot = slotAt(frame, spi);
    const k = slot.kinds[byte];
    if (env.unprivileged && k !== ByteKind.Misc && k !== ByteKind.Zero) {
      env.refuse('NC4095', { reg: valueRegno, detail: 'the range may hold a spilled pointer' }, `spilled ptr in range of var-offset stack write; insn ${env.insnIdx}, ptr off: ${addr}`);
    }
    if (writingZero && k === ByteKind.Spill && isSpilledScalar(slot) && scalarConstValue(slot.spilled!.value) === 0n) {
      zeroUsed = true;
      continue;
    }
    const kinds = isSpilled(slot) ? slot.kinds.map(scrub) : slot.kinds.slice();
    let next = ByteKind.Misc;
    if (writingZero && k === ByteKind.Zero) {
      next = ByteKind.Zero;
      zeroUsed = true;
    }
    kinds[byte] = next;
    setSlot(frame, spi, { kinds, spilled: null });
  }
  if (zeroUsed && reg) env.markPreciseRegs([valueRegno]);
}

/** A value read from stack bytes that are not a register spill: zero if every byte is, else unknown. */
function bytesValue(frame: FuncFrame, min: number, max: number): RegState {
  for (let addr = min; addr < max; addr++) {
    const { spi, byte } = slotOf(addr);
    if (slotAt(frame, spi).kinds[byte] !== ByteKind.Zero) return UNKNOWN_SCALAR;
  }
  return constReg(0n);
}

function readFixedStack(env: VerifierEnv, frame: FuncFrame, off: number, size: number, dst: number): RegState | undefined {
  const { spi, byte } = slotOf(off);
  env.noteStackRead(frame.frameNo, spi);
  const slot = slotAt(frame, spi);
  const allowUninit = !env.unprivileged;
  if (isSpilled(slot)) {
    const spilled = slot.spilled!;
    let spillSize = 0;
    while (spillSize < SLOT_SIZE && slot.kinds[spillSize] === ByteKind.Spill) spillSize++;
    env.noteStackAccess(frame.frameNo, spi);
    if (size !== SLOT_SIZE || spillSize !== SLOT_SIZE) {
      if (spilled.type !== 'scalar') env.refuse('NC4062', { size }, 'invalid size of register fill');
      if (dst < 0) return undefined;
      if (size <= spillSize && off % SLOT_SIZE === 0) {
        let src = spilled;
        if (!env.unprivileged && size === 4 && spillSize === 4 && regWidth(src) <= 32) {
          src = linkBeforeCopy(env, src);
          setSlot(frame, spi, { kinds: slot.kinds, spilled: src });
        }
        let out = src;
        // A fill narrower than the value breaks the link.
        if (regWidth(src) > size * 8) out = withReg(out, { id: 0, off: 0, delta: false });
        return out;
      }
      let spillCount = 0;
      let zeroCount = 0;
      for (let b = byte; b < byte + size; b++) {
        const k = slot.kinds[b];
        if (k === ByteKind.Spill) spillCount++;
        else if (k === ByteKind.Zero) zeroCount++;
        else if (k === ByteKind.Invalid && !allowUninit) {
          const text = `invalid read from stack off ${off}+${b - byte} size ${size}`;
          env.refuse('NC4061', { detail: text }, text);
        }
      }
      if (spillCount === size && scalarConstValue(spilled.value) === 0n) return constReg(0n);
      if (zeroCount === size) return constReg(0n);
      return UNKNOWN_SCALAR;
    }
    if (dst >= 0) return spilled;
    if (isPointer(spilled) && env.unprivileged) {
      env.refuse('NC4098', { detail: 'a spilled pointer would be read as data' }, `leaking pointer from stack off ${off}`);
    }
    return undefined;
  }
  for (let b = byte; b < byte + size; b++) {
    const k = slot.kinds[b];
    if (k === ByteKind.Misc || k === ByteKind.Zero || (k === ByteKind.Invalid && allowUninit)) continue;
    const text = `invalid read from stack off ${off}+${b - byte} size ${size}`;
    env.refuse('NC4061', { detail: text }, text);
  }
  if (dst < 0) return undefined;
  return bytesValue(frame, off, off + size);
}

/**
 * check_stack_range_initialized for helpers and variable-offset reads:
 * every byte readable; a helper that writes (clobber) turns them into data.
 */
export function checkStackRange(
  env: VerifierEnv,
  regno: number,
  reg: RegState,
  off: number,
  size: number,
  zeroSizeAllowed: boolean,
  kind: 'read' | 'write',
  rawMode: boolean,
): { min: number; max: number; raw: boolean } {
  const frame = env.state.frames[reg.frame];
  if (size === 0 && !zeroSizeAllowed) env.refuse('NC4074', { reg: regno, helper: 'the helper', detail: 'zero' }, 'invalid zero-sized read');
  checkStackBounds(env, regno, reg, off, size, kind === 'write' ? 'helper-write' : 'helper-read');
  const c = scalarConstValue(reg.value);
  let min: number;
  let max: number;
  let raw = rawMode;
  if (c !== undefined) {
    min = max = Number(BigInt.asIntN(64, c)) + off;
  } else {
    if (env.unprivileged) {
      env.refuse('NC4095', { reg: regno, detail: 'variable offsets into the stack need CAP_BPF' }, `R${regno} variable stack access prohibited for !root, var_off=${tnumToString(reg.value.tnum)} off=${off}`);
    }
    // Uninitialised buffers must be passed at a constant offset.
    raw = false;
    min = Number(reg.value.smin) + off;
    max = Number(reg.value.smax) + off;
  }
  if (raw) return { min, max: max + size, raw: true };
  const clobber = kind === 'write';
  let lastSpi = -1;
  for (let addr = min; addr < max + size; addr++) {
    const { spi, byte } = slotOf(addr);
    // A helper that writes may also read: whatever the slot held stays relevant (as the kernel assumes).
    if (spi !== lastSpi) env.noteStackRead(frame.frameNo, spi);
    lastSpi = spi;
    const slot = slotAt(frame, spi);
    const k = slot.kinds[byte];
    if (k === ByteKind.Misc) continue;
    if (k === ByteKind.Zero || (k === ByteKind.Invalid && !env.unprivileged)) {
      if (clobber) {
        const kinds = slot.kinds.slice();
        kinds[byte] = ByteKind.Misc;
        setSlot(frame, spi, { kinds, spilled: slot.spilled });
      }
      continue;
    }
    if (isSpilled(slot) && (slot.spilled!.type === 'scalar' || !env.unprivileged)) {
      if (clobber) setSlot(frame, spi, { kinds: slot.kinds.map(scrub), spilled: null });
      env.noteStackAccess(frame.frameNo, spi);
      continue;
    }
    const text =
      c !== undefined
        ? `invalid read from stack R${regno} off ${min}+${addr - min} size ${size}`
        : `invalid read from stack R${regno} var_off ${tnumToString(reg.value.tnum)}+${addr - min} size ${size}`;
    env.refuse('NC4061', { detail: text }, text);
  }
  return { min, max: max + size, raw: false };
}

/** A helper writes `size` bytes through a pointer to the stack: they become data (the kernel simulates byte stores). */
export function markStackWritten(env: VerifierEnv, reg: RegState, min: number, max: number): void {
  const frame = env.state.frames[reg.frame];
  for (let addr = min; addr < max; addr++) {
    const { spi, byte } = slotOf(addr);
    const slot = slotAt(frame, spi);
    const kinds = isSpilled(slot) ? slot.kinds.map(scrub) : slot.kinds.slice();
    kinds[byte] = ByteKind.Misc;
    setSlot(frame, spi, { kinds, spilled: null });
  }
  growStack(frame, -min);
}

// ---------------------------------------------------------------------------
// Context and sockets
// ---------------------------------------------------------------------------

/** check_ptr_off_reg: context and socket pointers are used only as they came. */
export function checkPointerUnmoved(env: VerifierEnv, regno: number, reg: RegState, fixedOffOk = false): void {
  const name = regTypeName(reg);
  if (reg.off < 0) {
    const text = `negative offset ${name} ptr R${regno} off=${reg.off} disallowed`;
    env.refuse('NC4064', { reg: regno, kind: name, detail: text }, text);
  }
  if (!fixedOffOk && reg.off !== 0) {
    const text = `dereference of modified ${name} ptr R${regno} off=${reg.off} disallowed`;
    env.refuse('NC4064', { reg: regno, kind: name, detail: text }, text);
  }
  if (scalarConstValue(reg.value) !== 0n) {
    const text = `variable ${name} access var_off=${tnumToString(reg.value.tnum)} disallowed`;
    env.refuse('NC4064', { reg: regno, kind: name, detail: text }, text);
  }
}

/** struct bpf_sock fields a program may read through a socket pointer (bpf_sock_is_valid_access). */
function sockReadOk(type: RegState['type'], off: number, size: number): boolean {
  const BPF_SOCK_SIZE = 80;
  if (off < 0 || off >= BPF_SOCK_SIZE || off % size !== 0) return false;
  // sock_common lacks type .. priority (bpf_sock_common_is_valid_access).
  if (type === 'sock_common' && off >= 8 && off < 24) return false;
  const narrow = (fieldSize: number): boolean => size <= fieldSize && (size & (size - 1)) === 0;
  if (off === 72 || off === 4 || off === 8 || off === 12 || off === 44 || off === 76) return narrow(4); // state, family, type, protocol, src_port, rx_queue_mapping
  if ((off >= 24 && off < 44) || (off >= 52 && off < 72)) return narrow(4); // addresses
  if (off >= 48 && off < 52) return narrow(size === 4 ? 4 : 2); // dst_port
  return size === 4;
}

// ---------------------------------------------------------------------------
// check_mem_access
// ---------------------------------------------------------------------------

function storedReg(env: VerifierEnv, value: StoreValue): RegState | undefined {
  return value.kind === 'reg' ? env.reg(value.regno) : undefined;
}

function leakCheck(env: VerifierEnv, value: StoreValue, into: string): void {
  const r = storedReg(env, value);
  if (env.unprivileged && r && isPointer(r) && value.kind === 'reg') {
    env.refuse('NC4098', { detail: `pointer R${value.regno} stored into ${into}` }, `R${value.regno} leaks addr into ${into}`);
  }
}

/** Unknown values loaded at each width, zero- and sign-extended: the commonest load result, made once. */
const LOADED: Record<string, RegState> = {};

/** A loaded scalar narrower than 8 bytes: zero- or sign-extended. */
function extendLoaded(reg: RegState, size: 1 | 2 | 4 | 8, signExtend: boolean): RegState {
  if (size === 8 || reg.type !== 'scalar') return reg;
  if (reg === UNKNOWN_SCALAR) {
    const key = `${size}${signExtend ? 's' : 'u'}`;
    return (LOADED[key] ??= withReg(reg, { value: scalarLoad(size, signExtend) }));
  }
  const value = signExtend ? scalarMovSx(reg.value, (size * 8) as 8 | 16 | 32, false) : scalarTruncate(reg.value, size);
  return withReg(reg, { value });
}

/** Little-endian bytes of a read-only map's initial value (bpf_map_direct_read). */
function directRead(initial: Uint8Array, off: number, size: number, signExtend: boolean): bigint | undefined {
  if (off < 0 || off + size > initial.length) return undefined;
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(initial[off + i]);
  return signExtend ? BigInt.asIntN(size * 8, v) : v;
}

/**
 * One memory access through register `a.regno`; on reads the destination
 * register gets the loaded value (unless `a.dst` is -1).
 */
export function checkMemAccess(env: VerifierEnv, a: MemAccess): void {
  const reg = env.reg(a.regno);
  checkAlignment(env, reg, a.off, a.size, a.strictOnce);
  const off = a.off + reg.off;
  let loaded: RegState | undefined;
  switch (reg.type) {
    case 'map_value': {
      if (reg.maybeNull) break;
      if (a.kind === 'write') leakCheck(env, a.value, 'map');
      checkMapAccessType(env, reg, off, a.size, a.kind);
      checkMapValueAccess(env, a.regno, reg, off, a.size, false);
      if (a.kind === 'read' && a.dst >= 0) {
        const map = mapOfReg(env.input, reg);
        const c = scalarConstValue(reg.value);
        const initial = map?.initialValue;
        if (map && c !== undefined && mapFlagsReadOnly(map) && map.type === MAP_TYPE.array && initial) {
          const v = directRead(initial, off + Number(c), a.size, a.signExtend);
          loaded = v === undefined ? UNKNOWN_SCALAR : constReg(v);
        } else {
          loaded = UNKNOWN_SCALAR;
        }
      }
      break;
    }
    case 'mem': {
      if (reg.maybeNull) break;
      if (a.kind === 'write') leakCheck(env, a.value, 'mem');
      checkRegionAccess(env, a.regno, reg, off, a.size, reg.size, false,
        (start, end) => ({ reg: a.regno, start, end, memSize: reg.size }), 'NC4096');
      if (a.kind === 'read' && a.dst >= 0) loaded = UNKNOWN_SCALAR;
      break;
    }
    case 'ctx': {
      if (a.kind === 'write') leakCheck(env, a.value, 'ctx');
      checkPointerUnmoved(env, a.regno, reg);
      const yields = checkContextAccess(env.input.type, { off, size: a.size, kind: a.kind, signExtend: a.signExtend });
      if (yields === null) {
        const text = `invalid bpf_context access off=${off} size=${a.size}`;
        env.refuse('NC4063', { access: a.kind, size: a.size, off, type: env.input.type }, text);
      }
      if (a.kind === 'read' && a.dst >= 0) {
        if (yields === 'scalar') loaded = UNKNOWN_SCALAR;
        else if (yields === 'sock_common_or_null') loaded = pointerReg('sock_common', { maybeNull: true, id: env.newId() });
        else loaded = pointerReg(yields);
      }
      break;
    }
    case 'stack': {
      const { min, max } = checkStackBounds(env, a.regno, reg, off, a.size, a.kind);
      const frame = env.state.frames[reg.frame];
      const c = scalarConstValue(reg.value);
      if (a.kind === 'read') {
        if (c !== undefined) {
          loaded = readFixedStack(env, frame, off + Number(BigInt.asIntN(64, c)), a.size, a.dst);
        } else {
          if (a.dst < 0) {
            const text = `variable offset stack pointer cannot be passed into helper function; var_off=${tnumToString(reg.value.tnum)} off=${off} size=${a.size}`;
            env.refuse('NC4095', { reg: a.regno, detail: 'an atomic operation needs a constant stack offset' }, text);
          }
          checkStackRange(env, a.regno, reg, off, a.size, false, 'read', false);
          loaded = bytesValue(frame, min, max);
        }
      } else if (c !== undefined) {
        writeFixedStack(env, frame, off + Number(BigInt.asIntN(64, c)), a.size, a.value, a.value.kind === 'reg' ? a.value.regno : -1);
      } else {
        writeVarStack(env, frame, min, max, a.value, a.value.kind === 'reg' ? a.value.regno : -1);
      }
      break;
    }
    case 'packet':
    case 'packet_meta': {
      if (a.kind === 'write' && !mayWritePacket(env.input.type)) {
        env.refuse('NC4091', { type: env.input.type }, 'cannot write into packet');
      }
      if (a.kind === 'write') leakCheck(env, a.value, 'packet');
      checkPacketAccess(env, a.regno, reg, off, a.size, false);
      if (a.kind === 'read' && a.dst >= 0) loaded = UNKNOWN_SCALAR;
      break;
    }
    case 'sock':
    case 'sock_common':
    case 'tcp_sock': {
      if (reg.maybeNull) break;
      if (a.kind === 'write') {
        const text = `R${a.regno} cannot write into ${regTypeName(reg)}`;
        env.refuse('NC4053', { reg: a.regno, kind: regTypeName(reg), access: 'write' }, text);
      }
      checkPointerUnmoved(env, a.regno, reg);
      if (reg.type === 'tcp_sock' || !sockReadOk(reg.type, off, a.size)) {
        const text = `invalid ${regTypeName(reg)} access off=${off} size=${a.size}`;
        if (reg.type === 'tcp_sock') env.refuse('NC4093', { what: 'reading struct bpf_tcp_sock' }, text);
        env.refuse('NC4063', { access: a.kind, size: a.size, off, type: regTypeName(reg) }, text);
      }
      if (a.dst >= 0) loaded = UNKNOWN_SCALAR;
      break;
    }
    case 'map_ptr': {
      if (a.kind === 'write') {
        const map = mapOfReg(env.input, reg);
        const t = map?.type;
        const struct = t === MAP_TYPE.array || t === MAP_TYPE.percpu_array || t === MAP_TYPE.prog_array || t === MAP_TYPE.perf_event_array || t === MAP_TYPE.cgroup_array ? 'bpf_array'
          : t === MAP_TYPE.hash || t === MAP_TYPE.lru_hash || t === MAP_TYPE.percpu_hash || t === MAP_TYPE.lru_percpu_hash ? 'bpf_htab' : 'bpf_map';
        env.refuse('NC4053', { reg: a.regno, kind: 'map_ptr', access: 'write' }, `only read from ${struct} is supported`);
      }
      // Reading struct bpf_map needs the kernel's BTF, which nicoff does not carry.
      env.refuse('NC4093', { what: 'reading struct bpf_map through a map pointer' }, `map_ptr access needs kernel BTF (R${a.regno} ${regToString(env.input, reg)})`);
    }
    default:
      break;
  }
  const handled = reg.type !== 'not_init' && reg.type !== 'scalar' && reg.type !== 'packet_end' && reg.type !== 'func' && !reg.maybeNull;
  if (!handled) {
    const name = regTypeName(reg);
    const text = `R${a.regno} invalid mem access '${name}'`;
    if (reg.maybeNull) env.refuse('NC4054', { reg: a.regno, kind: name }, text);
    env.refuse('NC4053', { reg: a.regno, kind: name, access: a.kind }, text);
  }
  if (loaded !== undefined && a.dst >= 0) {
    env.setReg(a.dst, extendLoaded(loaded, a.size, a.signExtend));
  }
}

