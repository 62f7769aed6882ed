/**
 * What the verifier knows about one register (the kernel's bpf_reg_state,
 * reduced to the types the networking program types meet).
 *
 * RegState objects are immutable: an instruction replaces a register by a new
 * object, so states can share them and copying a state copies arrays only.
 */
import type { VerifyInput } from './verify-types.js';
import {
  scalarIsConst,
  scalarConstValue,
  scalarSubsumes,
  scalarEquals,
  scalarToString,
  scalarUnknown,
  type ScalarRange,
} from './scalar-range.js';

export type RegType =
  | 'not_init'
  | 'scalar'
  | 'ctx'
  | 'packet'
  | 'packet_meta'
  | 'packet_end'
  | 'stack'
  | 'map_value'
  | 'map_ptr'
  /** Ring buffer records (ringbuf_reserve): PTR_TO_MEM | MEM_RINGBUF, memSize bytes. */
  | 'mem'
  /** __sk_buff->sk and sk lookups: PTR_TO_SOCK_COMMON, PTR_TO_SOCKET, PTR_TO_TCP_SOCK. */
  | 'sock_common'
  | 'sock'
  | 'tcp_sock'
  /** ld_imm64 src 4: a callback subprogram. */
  | 'func';

/** Packet pointer ranges below zero: what a failed comparison with pkt_end proved (the kernel's AT_PKT_END / BEYOND_PKT_END). */
export const AT_PKT_END = -1;
export const BEYOND_PKT_END = -2;

export interface RegState {
  readonly type: RegType;
  /**
   * Scalars: the value. Pointers: the variable part of the offset (the
   * kernel keeps it in the same var_off and bounds fields).
   */
  readonly value: ScalarRange;
  /** Pointers: the fixed offset (reg->off). Scalars linked by `r1 = r2; r1 += K`: the delta K (see `delta`). */
  readonly off: number;
  /**
   * Scalars: the link id shared by copies (0: none). Packet pointers: which
   * variable base they share. _or_null pointers: what a null check converts.
   */
  readonly id: number;
  /** Scalars: `off` is a constant delta from the linked value (the kernel's BPF_ADD_CONST). */
  readonly delta: boolean;
  /** Packet pointers: bytes proven readable from the base (AT_PKT_END / BEYOND_PKT_END below zero). */
  readonly range: number;
  /** map_value / map_ptr: index into VerifyInput.maps (-1 otherwise). */
  readonly mapIndex: number;
  /** map_ptr / map_value of an inner map: the outer map's index (its `inner` template describes the map). */
  readonly inner: boolean;
  /** stack: the frame number the pointer points into. */
  readonly frame: number;
  /** The _or_null variants (PTR_MAYBE_NULL). */
  readonly maybeNull: boolean;
  /** Acquired reference this pointer holds (ref_obj_id), 0 when none. */
  readonly refId: number;
  /** mem: accessible bytes. func: subprogram index. */
  readonly size: number;
  /**
   * Instruction index + 1 of the 32-bit definition whose upper half has not
   * been read as 64 bits yet (the kernel's subreg_def), 0 when none.
   * Bookkeeping for facts only: ignored when states are compared.
   */
  readonly subregDef: number;
}

const UNKNOWN = scalarUnknown();
const ZERO = constScalar(0n);

const BASE: RegState = {
  type: 'not_init',
  value: UNKNOWN,
  off: 0,
  id: 0,
  delta: false,
  range: 0,
  mapIndex: -1,
  inner: false,
  frame: 0,
  maybeNull: false,
  refId: 0,
  size: 0,
  subregDef: 0,
};

export const NOT_INIT: RegState = Object.freeze({ ...BASE });
export const UNKNOWN_SCALAR: RegState = Object.freeze({ ...BASE, type: 'scalar' });

export function scalarReg(value: ScalarRange, subregDef = 0): RegState {
  return { ...BASE, type: 'scalar', value, subregDef };
}

/** Constants are the most common values by far; small ones are shared. */
const SMALL_CONSTS = new Map<bigint, RegState>();

/**
 * The scalar-range value of a constant, built directly: every field is the
 * value itself (what scalarConst gives, without its bookkeeping; loop
 * counters make many of these).
 */
export function constScalar(v: bigint): ScalarRange {
  const u = BigInt.asUintN(64, v);
  const s = BigInt.asIntN(64, u);
  const lo = u & 0xffffffffn;
  const s32 = BigInt.asIntN(32, lo);
  return { tnum: { value: u, mask: 0n }, umin: u, umax: u, smin: s, smax: s, u32min: lo, u32max: lo, s32min: s32, s32max: s32 };
}

export function constReg(v: bigint): RegState {
  const key = BigInt.asUintN(64, v);
  const cached = SMALL_CONSTS.get(key);
  if (cached) return cached;
  const reg = scalarReg(constScalar(key));
  if (SMALL_CONSTS.size < 4096) SMALL_CONSTS.set(key, reg);
  return reg;
}

/** A pointer of the given type with offset zero. */
export function pointerReg(type: RegType, fields: Partial<RegState> = {}): RegState {
  return { ...BASE, type, value: ZERO, ...fields };
}

export function withReg(reg: RegState, fields: Partial<RegState>): RegState {
  return { ...reg, ...fields };
}

export function isPointer(reg: RegState): boolean {
  return reg.type !== 'scalar' && reg.type !== 'not_init';
}

export function isPacketPointer(reg: RegState): boolean {
  return reg.type === 'packet' || reg.type === 'packet_meta';
}

/** The kernel's register_is_null: a scalar known to be 0. */
export function isNullScalar(reg: RegState): boolean {
  return reg.type === 'scalar' && scalarConstValue(reg.value) === 0n;
}

export function isConstScalar(reg: RegState): boolean {
  return reg.type === 'scalar' && scalarIsConst(reg.value);
}

/** The pointer's variable offset is the constant 0 (the kernel's tnum_equals_const(var_off, 0)). */
export function hasZeroVarOff(reg: RegState): boolean {
  return scalarConstValue(reg.value) === 0n;
}

/** The kernel's reg_not_null: pointers a comparison with 0 can never find equal. */
export function isNonNullPointer(reg: RegState): boolean {
  if (reg.maybeNull) return false;
  return (
    reg.type === 'map_value' ||
    reg.type === 'map_ptr' ||
    reg.type === 'sock' ||
    reg.type === 'tcp_sock' ||
    reg.type === 'sock_common' ||
    reg.type === 'mem'
  );
}

// ---------------------------------------------------------------------------
// Names, as the kernel's reg_type_str prints them
// ---------------------------------------------------------------------------

const TYPE_NAME: Record<RegType, string> = {
  not_init: '?',
  scalar: 'scalar',
  ctx: 'ctx',
  packet: 'pkt',
  packet_meta: 'pkt_meta',
  packet_end: 'pkt_end',
  stack: 'fp',
  map_value: 'map_value',
  map_ptr: 'map_ptr',
  mem: 'ringbuf_mem',
  sock_common: 'sock_common',
  sock: 'sock',
  tcp_sock: 'tcp_sock',
  func: 'func',
};

/** `map_value_or_null`, `pkt`, `fp`, `scalar` ... */
export function regTypeName(reg: Pick<RegState, 'type' | 'maybeNull'>): string {
  return TYPE_NAME[reg.type] + (reg.maybeNull ? '_or_null' : '');
}

type MapsInput = Pick<VerifyInput, 'maps'>;

/** The map a map_value / map_ptr register refers to (the inner template for map-in-map lookups). */
export function mapOfReg(input: MapsInput, reg: RegState): VerifyInput['maps'][number] | undefined {
  const map = input.maps[reg.mapIndex];
  if (!map) return undefined;
  return reg.inner ? (map.inner as VerifyInput['maps'][number] | undefined) : map;
}

function signedText(v: number | bigint): string {
  return String(v);
}

/** The inside of `scalar(...)` for a pointer's variable part. */
function varPartText(value: ScalarRange): string {
  const text = scalarToString(value);
  const open = text.indexOf('(');
  return open >= 0 ? text.slice(open + 1, -1) : `imm=${text}`;
}

/**
 * Kernel log text of one register (print_reg_state): `ctx()`, `pkt(off=14,r=14)`,
 * `fp-8`, `map_value(map=counts,ks=4,vs=8)`, scalars as scalar-range.ts prints them.
 * `curFrame` only matters for stack pointers into another frame (`fp[0]-8`).
 */
export function regToString(input: MapsInput, reg: RegState, curFrame = reg.frame): string {
  if (reg.type === 'not_init') return '?';
  if (reg.type === 'scalar') {
    const text = scalarToString(reg.value);
    if (!reg.id) return text;
    const link = `id=${reg.id}${reg.delta ? (reg.off >= 0 ? `+${reg.off}` : `${reg.off}`) : ''}`;
    return text.startsWith('scalar(') ? `scalar(${link}${text === 'scalar()' ? '' : ','}${text.slice(7)}` : text;
  }
  let name = regTypeName(reg);
  if (reg.type === 'stack') {
    if (reg.frame !== curFrame) name += `[${reg.frame}]`;
    const v = scalarConstValue(reg.value);
    if (v !== undefined) return `${name}${signedText(BigInt.asIntN(64, v) + BigInt(reg.off))}`;
  }
  const parts: string[] = [];
  if (reg.id) parts.push(`id=${reg.id}`);
  if (reg.refId) parts.push(`ref_obj_id=${reg.refId}`);
  if (reg.type === 'map_value' || reg.type === 'map_ptr') {
    const map = mapOfReg(input, reg);
    if (map) {
      if (map.name) parts.push(`map=${map.name}`);
      parts.push(`ks=${map.keySize},vs=${map.valueSize}`);
    }
  }
  if (reg.off) parts.push(`off=${signedText(reg.off)}`);
  if (reg.type === 'packet' || reg.type === 'packet_meta') parts.push(`r=${reg.range >= 0 ? reg.range : BigInt.asUintN(64, BigInt(reg.range))}`);
  if (reg.type === 'mem') parts.push(`sz=${reg.size}`);
  const v = scalarConstValue(reg.value);
  if (v === undefined) parts.push(varPartText(reg.value));
  else if (v !== 0n) parts.push(`imm=${signedText(BigInt.asIntN(64, v))}`);
  return `${name}(${parts.join(',')})`;
}

// ---------------------------------------------------------------------------
// Comparing registers for state pruning (the kernel's regsafe)
// ---------------------------------------------------------------------------

/**
 * Maps ids of the old (already verified) state onto ids of the current one:
 * the same old id must always meet the same current id and vice versa, or
 * relations the old state relied on (a null check converting every copy,
 * a range learned by every linked scalar) would not hold for the current one.
 */
export class IdMap {
  // Few ids meet in one comparison: parallel arrays beat Maps here.
  private readonly olds: number[] = [];
  private readonly curs: number[] = [];
  private fresh = -1;

  /** Both zero, or both non-zero and consistently paired. */
  check(oldId: number, curId: number): boolean {
    if ((oldId === 0) !== (curId === 0)) return false;
    if (oldId === 0) return true;
    return this.pair(oldId, curId);
  }

  /** For scalar links: an unlinked current register gets a fresh id of its own. */
  checkScalar(oldId: number, curId: number): boolean {
    return this.pair(oldId, curId === 0 ? this.fresh-- : curId);
  }

  private pair(oldId: number, curId: number): boolean {
    for (let k = 0; k < this.olds.length; k++) {
      if (this.olds[k] === oldId) return this.curs[k] === curId;
      if (this.curs[k] === curId) return false;
    }
    this.olds.push(oldId);
    this.curs.push(curId);
    return true;
  }
}

function sameVarPart(a: RegState, b: RegState): boolean {
  return scalarEquals(a.value, b.value);
}

/** Every field that makes two registers the same register, ids through the map. */
export function regsExact(old: RegState, cur: RegState, ids: IdMap): boolean {
  return (
    old.type === cur.type &&
    old.off === cur.off &&
    old.delta === cur.delta &&
    old.range === cur.range &&
    old.mapIndex === cur.mapIndex &&
    old.inner === cur.inner &&
    old.frame === cur.frame &&
    old.maybeNull === cur.maybeNull &&
    old.size === cur.size &&
    sameVarPart(old, cur) &&
    ids.check(old.id, cur.id) &&
    ids.check(old.refId, cur.refId)
  );
}

/**
 * Is every concrete value `cur` may hold one the old state was verified
 * with? `precise` is false for an old scalar whose exact value no check in
 * the old state's continuation depended on: then any scalar will do.
 */
export function regSafe(old: RegState, cur: RegState, precise: boolean, ids: IdMap): boolean {
  if (old.type === 'not_init') return true;
  if (old.type !== cur.type || old.maybeNull !== cur.maybeNull) return false;
  switch (old.type) {
    case 'scalar':
      if (!precise) return true;
      if (old.id !== 0) {
        if (old.delta !== cur.delta) return false;
        if (old.delta && old.off !== cur.off) return false;
        if (!ids.checkScalar(old.id, cur.id)) return false;
      } else if (cur.delta) {
        // An old independent value against a current linked one: only the range matters.
      }
      return scalarSubsumes(old.value, cur.value);
    case 'map_value':
    case 'mem':
      return (
        old.off === cur.off &&
        old.mapIndex === cur.mapIndex &&
        old.inner === cur.inner &&
        old.size === cur.size &&
        scalarSubsumes(old.value, cur.value) &&
        ids.check(old.id, cur.id) &&
        ids.check(old.refId, cur.refId)
      );
    case 'packet':
    case 'packet_meta':
      if (old.range < 0 || cur.range < 0) {
        if (old.range !== cur.range) return false;
      } else if (old.range > cur.range) {
        return false;
      }
      if (old.off !== cur.off) return false;
      if (!ids.check(old.id, cur.id)) return false;
      return scalarSubsumes(old.value, cur.value);
    default:
      return regsExact(old, cur, ids);
  }
}
