/**
 * Helper calls (check_helper_call / check_func_arg): whether the program
 * type may call the helper, each argument against the prototype's argument
 * kind (src/ebpf/helpers.ts), memory arguments against their bounds,
 * references acquired and released, and what R0 holds afterwards.
 */
import { MAP_TYPE } from '../ebpf/bpf-object.js';
import { helperAllowed, helperById, type ArgKind, type HelperProto } from '../ebpf/helpers.js';
import {
  checkMapValueAccess,
  checkPacketAccess,
  checkPointerUnmoved,
  checkRegionAccess,
  checkStackRange,
  markStackWritten,
} from './check-memory.js';
import {
  NOT_INIT,
  UNKNOWN_SCALAR,
  isNullScalar,
  isPacketPointer,
  isPointer,
  mapOfReg,
  pointerReg,
  regTypeName,
  withReg,
  type RegState,
  type RegType,
} from './register-state.js';
import { scalarConstValue } from './scalar-range.js';
import { tnumAdd, tnumConst, tnumIsAligned } from './tnum.js';
import type { VerifierEnv } from './verifier-env.js';
import type { VerifyInput } from './verify-types.js';
import { ByteKind, curFrame, isSpilledScalar, mapAllRegs, slotAt, slotOf } from './verifier-state.js';

/** __BPF_FUNC_MAX_ID of kernel 6.18: ids at or above it are unknown helpers. */
export const HELPER_ID_LIMIT = 212;

/** The kernel's license_is_gpl_compatible. */
const GPL_COMPATIBLE = new Set(['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL']);

export function isGplCompatible(license: string): boolean {
  return GPL_COMPATIBLE.has(license);
}

/** Helpers whose prototypes set pkt_access: only these may be given packet pointers. */
const PACKET_ACCESS = new Set([1, 2, 3, 28, 84, 85, 99, 100, 110, 195, 204, 205, 206, 207]);

/** Helpers that acquire a reference the program must release (is_acquire_function). */
const ACQUIRE = new Set([84, 85, 99, 131]);
/** Helpers that release the reference passed to them, and the argument holding it. */
const RELEASE: Record<number, number> = { 86: 1, 132: 1, 133: 1 };
/** Helpers returning another view of their argument's object (is_ptr_cast_function). */
const PTR_CAST = new Set([95, 96, 136, 137, 138, 139, 140]);

/** bpf_func_proto.arg_size for fixed-size memory arguments (the kinds helpers.ts names by size). */
const FIXED_SIZE: Partial<Record<ArgKind, number>> = { ptr_to_long: 8, ptr_to_int: 4 };

const MEM_TYPES: RegType[] = ['stack', 'packet', 'packet_meta', 'map_value', 'mem'];
/** The kernel's list for memory arguments, in its order, for the message. */
const MEM_TYPES_TEXT = 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_';
const SOCK_TYPES: RegType[] = ['sock_common', 'sock', 'tcp_sock'];

export function helperName(id: number): string {
  const proto = helperById(id);
  return proto ? `bpf_${proto.name}` : 'unknown';
}

interface CallMeta {
  proto: HelperProto;
  mapIndex: number;
  mapInner: boolean;
  /** The last memory argument, which a following size argument sizes. */
  memArg?: { regno: number; kind: ArgKind };
  /** Uninitialised buffer at a constant stack offset that the helper fills (raw mode). */
  raw?: { regno: number; size: number };
  constKey?: bigint;
  refId: number;
  releaseRegno: number;
  allocSize: number;
  /** R2 of bpf_xdp_adjust_head when it is a constant (facts). */
  msizeMax?: bigint;
}

function typeError(env: VerifierEnv, regno: number, reg: RegState, expected: string, helper: string): never {
  const text = `R${regno} type=${regTypeName(reg)} expected=${expected}`;
  return env.refuse('NC4072', { reg: regno, kind: regTypeName(reg), helper, expected }, text);
}

/** check_helper_mem_access: `size` bytes at the pointer in `regno` (size from a constant or a bounded register). */
function checkHelperMemory(env: VerifierEnv, regno: number, size: number, write: boolean, zeroSizeAllowed: boolean, meta: CallMeta | null, helper: string): void {
  const reg = env.reg(regno);
  switch (reg.type) {
    case 'packet':
    case 'packet_meta':
      checkPacketAccess(env, regno, reg, reg.off, size, zeroSizeAllowed);
      return;
    case 'map_value': {
      const map = mapOfReg(env.input, reg);
      if (write && map && ((map.flags & 0x80) !== 0 || map.readOnly)) {
        const text = `write into map forbidden, value_size=${map.valueSize} off=${reg.off} size=${size}`;
        env.refuse('NC4084', { map: map.name }, text);
      }
      checkMapValueAccess(env, regno, reg, reg.off, size, zeroSizeAllowed);
      return;
    }
    case 'mem':
      checkRegionAccess(env, regno, reg, reg.off, size, reg.size, zeroSizeAllowed, (start, end) => ({ reg: regno, start, end, memSize: reg.size }), 'NC4096');
      return;
    case 'stack': {
      const rawWanted = meta !== null && meta.memArg?.regno === regno && isUninit(meta.memArg.kind);
      const r = checkStackRange(env, regno, reg, reg.off, size, zeroSizeAllowed, write ? 'write' : 'read', rawWanted);
      if (r.raw && meta) meta.raw = { regno, size };
      return;
    }
    default:
      if (zeroSizeAllowed && size === 0 && isNullScalar(reg)) return;
      typeError(env, regno, reg, 'fp', helper);
  }
}

function isUninit(kind: ArgKind): boolean {
  return kind === 'ptr_to_uninit_mem' || kind === 'ptr_to_uninit_map_value';
}

/** check_mem_size_reg: a size argument bounds the memory argument before it. */
function checkSizeArg(env: VerifierEnv, regno: number, zeroOk: boolean, meta: CallMeta, helper: string): void {
  const reg = env.reg(regno);
  if (reg.type !== 'scalar') typeError(env, regno, reg, 'scalar', helper);
  const v = reg.value;
  const mem = meta.memArg;
  meta.msizeMax = v.umax;
  const constSize = scalarConstValue(v) !== undefined;
  if (v.smin < 0n) {
    env.refuse('NC4074', { reg: regno, helper, detail: 'possibly negative' }, `R${regno} min value is negative, either use unsigned or 'var &= const'`);
  }
  if (v.umin === 0n && !zeroOk) {
    env.refuse('NC4074', { reg: regno, helper, detail: 'possibly zero' }, `R${regno} invalid zero-sized read: u64=[${v.umin},${v.umax}]`);
  }
  if (v.umax >= 0x7fffffffn) {
    env.refuse('NC4074', { reg: regno, helper, detail: 'unbounded' }, `R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
  }
  if (!mem) return;
  const write = mem.kind === 'ptr_to_uninit_mem';
  checkHelperMemory(env, mem.regno, Number(v.umax), write, zeroOk, constSize ? meta : null, helper);
  env.markPreciseRegs([regno]);
}

/** get_constant_map_key: an array lookup whose key is a known constant on the stack. */
function constantMapKey(env: VerifierEnv, key: RegState, keySize: number): bigint | undefined {
  if (env.unprivileged || key.type !== 'stack') return undefined;
  const c = scalarConstValue(key.value);
  if (c === undefined) return undefined;
  const frame = env.state.frames[key.frame];
  const addr = key.off + Number(BigInt.asIntN(64, c));
  const { spi, byte } = slotOf(addr);
  const slot = slotAt(frame, spi);
  let zeros = 0;
  for (let b = byte; b < 8 && slot.kinds[b] === ByteKind.Zero; b++) zeros++;
  if (zeros >= keySize) return 0n;
  if (!isSpilledScalar(slot)) return undefined;
  let spilled = 0;
  for (let b = byte; b < 8 && slot.kinds[b] === ByteKind.Spill; b++) spilled++;
  if (spilled !== keySize) return undefined;
  const v = scalarConstValue(slot.spilled!.value);
  if (v === undefined) return undefined;
  // The lookup's result now rests on that value.
  env.markPreciseSlot(key.frame, spi);
  return BigInt.asIntN(64, v);
}

function checkArg(env: VerifierEnv, arg: number, kind: ArgKind, meta: CallMeta, helper: string): void {
  const regno = arg + 1;
  const reg = env.reg(regno);
  if (reg.type === 'not_init') env.refuse('NC4050', { reg: regno }, `R${regno} !read_ok`);
  if (kind === 'anything') {
    if (env.unprivileged && isPointer(reg)) env.refuse('NC4098', { detail: `R${regno} leaks addr into helper function` }, `R${regno} leaks addr into helper function`);
    return;
  }
  if (isPacketPointer(reg) && !PACKET_ACCESS.has(meta.proto.id)) {
    env.refuse('NC4075', { reg: regno, helper }, 'helper access to the packet is not allowed');
  }
  const nullable = kind === 'ptr_to_mem_or_null' || kind === 'ptr_to_stack_or_null';
  const isNull = nullable && isNullScalar(reg);
  switch (kind) {
    case 'const_map_ptr':
      if (reg.type !== 'map_ptr' || reg.maybeNull) typeError(env, regno, reg, 'map_ptr', helper);
      meta.mapIndex = reg.mapIndex;
      meta.mapInner = reg.inner;
      return;
    case 'ptr_to_map_key':
    case 'ptr_to_map_value':
    case 'ptr_to_uninit_map_value': {
      if (!MEM_TYPES.includes(reg.type) || reg.maybeNull) typeError(env, regno, reg, MEM_TYPES_TEXT, helper);
      const map = mapOfCall(env, meta);
      if (!map) env.refuse('NC9001', { reason: `${helper} has a map argument after its key or value` }, 'invalid map_ptr to access map->key');
      const uninit = kind === 'ptr_to_uninit_map_value';
      meta.memArg = { regno, kind: uninit ? 'ptr_to_uninit_mem' : kind };
      const size = kind === 'ptr_to_map_key' ? map.keySize : map.valueSize;
      checkHelperMemory(env, regno, size, uninit, false, meta, helper);
      if (kind === 'ptr_to_map_key' && (map.type === MAP_TYPE.array || map.type === MAP_TYPE.percpu_array)) {
        meta.constKey = constantMapKey(env, env.reg(regno), map.keySize);
      }
      return;
    }
    case 'ptr_to_mem':
    case 'ptr_to_mem_or_null':
    case 'ptr_to_uninit_mem':
      if (!isNull && (!MEM_TYPES.includes(reg.type) || reg.maybeNull)) typeError(env, regno, reg, MEM_TYPES_TEXT, helper);
      meta.memArg = { regno, kind };
      return;
    case 'const_size':
    case 'const_size_or_zero':
      checkSizeArg(env, regno, kind === 'const_size_or_zero', meta, helper);
      return;
    case 'const_alloc_size_or_zero': {
      if (reg.type !== 'scalar') typeError(env, regno, reg, 'scalar', helper);
      const c = scalarConstValue(reg.value);
      if (c === undefined) env.refuse('NC4074', { reg: regno, helper, detail: 'not a known constant' }, `R${regno} is not a known constant'`);
      meta.allocSize = Number(c);
      env.markPreciseRegs([regno]);
      return;
    }
    case 'ptr_to_ctx':
      if (reg.type !== 'ctx') typeError(env, regno, reg, 'ctx', helper);
      checkPointerUnmoved(env, regno, reg);
      return;
    case 'ptr_to_long':
    case 'ptr_to_int': {
      const allowed: RegType[] = ['stack', 'packet', 'packet_meta', 'map_value'];
      if (!allowed.includes(reg.type) || reg.maybeNull) typeError(env, regno, reg, 'fp, pkt, pkt_meta, map_key, map_value', helper);
      const size = FIXED_SIZE[kind]!;
      checkHelperMemory(env, regno, size, true, false, meta, helper);
      const at = tnumAdd(reg.value.tnum, tnumConst(BigInt(reg.off)));
      if (size > 1 && reg.type === 'stack' && !tnumIsAligned(at, BigInt(size))) {
        const text = `misaligned stack access off ${reg.off} size ${size}`;
        env.refuse('NC4060', { what: 'stack', detail: text }, text);
      }
      return;
    }
    case 'ptr_to_const_str': {
      if (reg.type !== 'map_value' || reg.maybeNull) typeError(env, regno, reg, 'map_value', helper);
      checkConstString(env, regno, reg);
      return;
    }
    case 'ptr_to_sock_common':
    case 'ptr_to_btf_id_sock_common':
      if (!SOCK_TYPES.includes(reg.type) || reg.maybeNull) typeError(env, regno, reg, 'sock_common, sock, tcp_sock, xdp_sock', helper);
      if (RELEASE[meta.proto.id] === regno) {
        if (reg.off) env.refuse('NC4098', { detail: `R${regno} must have zero offset when passed to release func` }, `R${regno} must have zero offset when passed to release func or trusted arg to kfunc`);
        checkPointerUnmoved(env, regno, reg);
      }
      break;
    case 'ptr_to_socket':
      if (reg.type !== 'sock' || reg.maybeNull) typeError(env, regno, reg, 'sock', helper);
      break;
    case 'ptr_to_alloc_mem':
      if (reg.type !== 'mem' || reg.maybeNull) typeError(env, regno, reg, 'ringbuf_mem', helper);
      if (reg.off) env.refuse('NC4098', { detail: `R${regno} must have zero offset when passed to release func` }, `R${regno} must have zero offset when passed to release func or trusted arg to kfunc`);
      checkPointerUnmoved(env, regno, reg);
      break;
    case 'ptr_to_func':
      // Only ld_imm64 src 4 makes these, and callbacks are refused there.
      typeError(env, regno, reg, 'func', helper);
      break;
    default:
      env.refuse('NC4093', { what: `${helper} (argument kind ${kind})` }, `${helper}: argument ${kind} is not modelled`);
  }
  if (reg.refId) {
    if (meta.refId) env.refuse('NC4098', { detail: 'more than one argument holds a reference' }, `more than one arg with ref_obj_id R${regno} ${reg.refId} ${meta.refId}`);
    meta.refId = reg.refId;
  }
  if (RELEASE[meta.proto.id] === regno) meta.releaseRegno = regno;
}

function mapOfCall(env: VerifierEnv, meta: CallMeta): VerifyInput['maps'][number] | undefined {
  if (meta.mapIndex < 0) return undefined;
  const outer = env.input.maps[meta.mapIndex];
  return meta.mapInner ? (outer?.inner as VerifyInput['maps'][number] | undefined) : outer;
}

/** check_reg_const_str: a NUL-terminated string in a read-only map's value. */
function checkConstString(env: VerifierEnv, regno: number, reg: RegState): void {
  const map = mapOfReg(env.input, reg);
  if (!map || !((map.flags & 0x80) !== 0 || map.readOnly)) env.refuse('NC4072', { reg: regno, kind: 'map_value', helper: 'the helper', expected: 'a read-only map value' }, `R${regno} does not point to a readonly map'`);
  const c = scalarConstValue(reg.value);
  if (c === undefined) env.refuse('NC4072', { reg: regno, kind: 'map_value', helper: 'the helper', expected: 'a constant address' }, `R${regno} is not a constant address'`);
  checkMapValueAccess(env, regno, reg, reg.off, map.valueSize - reg.off, false);
  const initial = map.initialValue;
  const start = reg.off + Number(c);
  if (!initial || initial.subarray(start, map.valueSize).indexOf(0) < 0) {
    env.refuse('NC4072', { reg: regno, kind: 'map_value', helper: 'the helper', expected: 'a zero-terminated string' }, 'string is not zero-terminated');
  }
}

/** check_map_func_compatibility: which helpers take which kinds of map. */
function mapFitsHelper(mapType: number, id: number): boolean {
  const T = MAP_TYPE;
  switch (mapType) {
    case T.prog_array:
      if (id !== 12) return false;
      break;
    case T.perf_event_array:
      if (![22, 25, 55, 111, 121].includes(id)) return false;
      break;
    case T.ringbuf:
      if (![130, 131, 134, 198, 199, 200].includes(id)) return false;
      break;
    case T.stack_trace:
      if (id !== 27) return false;
      break;
    case T.cgroup_array:
      if (id !== 33 && id !== 37) return false;
      break;
    case T.cgroup_storage:
    case T.percpu_cgroup_storage:
      if (id !== 81) return false;
      break;
    case T.devmap:
    case T.devmap_hash:
    case T.xskmap:
      if (id !== 51 && id !== 1) return false;
      break;
    case T.cpumap:
      if (id !== 51) return false;
      break;
    case T.array_of_maps:
    case T.hash_of_maps:
      if (id !== 1) return false;
      break;
    case T.sockmap:
    case T.sockhash:
      if (![52, 53, 60, 61, 70, 71, 82, 1, 2, 3].includes(id)) return false;
      break;
    case T.reuseport_sockarray:
      if (id !== 82) return false;
      break;
    case T.queue:
    case T.stack:
      if (![87, 88, 89].includes(id)) return false;
      break;
    case T.sk_storage:
      if (![107, 108, 194].includes(id)) return false;
      break;
    case T.bloom_filter:
      if (id !== 87 && id !== 89) return false;
      break;
    default:
      break;
  }
  switch (id) {
    case 12:
      return mapType === T.prog_array;
    case 22:
    case 25:
    case 55:
    case 111:
    case 121:
      return mapType === T.perf_event_array;
    case 130:
    case 131:
    case 134:
    case 198:
    case 199:
    case 200:
      return mapType === T.ringbuf;
    case 27:
      return mapType === T.stack_trace;
    case 33:
    case 37:
      return mapType === T.cgroup_array;
    case 51:
      return mapType === T.devmap || mapType === T.devmap_hash || mapType === T.cpumap || mapType === T.xskmap;
    case 88:
      return mapType === T.queue || mapType === T.stack;
    case 87:
    case 89:
      return mapType === T.queue || mapType === T.stack || mapType === T.bloom_filter;
    case 195:
      return mapType === T.percpu_array || mapType === T.percpu_hash || mapType === T.lru_percpu_hash;
    case 107:
    case 108:
      return mapType === T.sk_storage;
    default:
      return true;
  }
}

export interface HelperCallOutcome {
  helper: HelperProto;
  /** Helpers that change packet data invalidated every packet pointer. */
  changedPacket: boolean;
  /** bpf_xdp_adjust_head's R2 when constant (facts). */
  adjustHeadDelta?: bigint;
}

/**
 * One helper call at the current instruction. R1-R5 hold the arguments on
 * entry; afterwards they are unreadable and R0 holds the result.
 */
export function checkHelperCall(env: VerifierEnv, id: number): HelperCallOutcome {
  if (id < 0 || id >= HELPER_ID_LIMIT) {
    env.refuse('NC4071', { id }, `invalid func unknown#${id}`);
  }
  const proto = helperById(id);
  const name = helperName(id);
  if (!proto || !helperAllowed(id, env.input.type)) {
    env.refuse('NC4070', { helper: name, id, type: env.input.type }, `program of this type cannot use helper ${name}#${id}`);
  }
  if (proto.gplOnly && !isGplCompatible(env.input.license)) {
    env.refuse('NC4073', { helper: name, license: env.input.license }, 'cannot call GPL-restricted function from non-GPL compatible program');
  }
  // Packet programs never run in sleepable context (copy_from_user and kin).
  if (proto.mightSleep) env.refuse('NC4100', { helper: name }, 'helper call might sleep in a non-sleepable prog');
  const meta: CallMeta = { proto, mapIndex: -1, mapInner: false, refId: 0, releaseRegno: 0, allocSize: 0 };
  proto.args.forEach((kind, i) => checkArg(env, i, kind, meta, name));
  const adjustHeadDelta = id === 44 ? scalarConstValue(env.reg(2).value) : undefined;
  const state = env.state;
  const map = mapOfCall(env, meta);
  // record_func_map: programs may not modify read-only maps through helpers either.
  if (map && ((map.flags & 0x80) !== 0 || map.readOnly) && [2, 3, 87, 88].includes(id)) {
    env.refuse('NC4084', { map: map.name }, 'write into map forbidden');
  }
  if (id === 12) {
    if (!map || map.type !== MAP_TYPE.prog_array) {
      env.refuse('NC4076', { map: map?.name ?? '?', mapType: map?.type ?? 0, helper: name }, 'expected prog array map for tail call');
    }
    // A known index decides which program runs: keep it exact.
    const idx = env.reg(3);
    const c = idx.type === 'scalar' ? scalarConstValue(idx.value) : undefined;
    if (c !== undefined && c < BigInt(map.maxEntries)) env.markPreciseRegs([3]);
  }
  // A helper filling an uninitialised stack buffer leaves data there.
  if (meta.raw) {
    const reg = env.reg(meta.raw.regno);
    const start = reg.off + Number(BigInt.asIntN(64, scalarConstValue(reg.value) ?? 0n));
    markStackWritten(env, reg, start, start + meta.raw.size);
  }
  if (meta.releaseRegno) {
    const reg = env.reg(meta.releaseRegno);
    if (meta.refId) {
      const refId = meta.refId;
      if (!state.refs.some((r) => r.id === refId)) env.refuse('NC4098', { detail: `${name} releases a reference never acquired` }, `func ${name}#${id} reference has not been acquired before`);
      state.refs = state.refs.filter((r) => r.id !== refId);
      // Every copy of the released pointer becomes unusable.
      mapAllRegs(state, (r) => (r.refId === refId ? (env.unprivileged ? NOT_INIT : UNKNOWN_SCALAR) : undefined));
    } else if (!isNullScalar(reg)) {
      env.refuse('NC4098', { detail: `${name} releases a reference never acquired` }, `func ${name}#${id} reference has not been acquired before`);
    }
  }
  if (id === 12 && state.refs.length) {
    const lines = state.refs.map((r) => `Unreleased reference id=${r.id} alloc_insn=${r.insn}`);
    env.refuse('NC4087', { id: state.refs[0].id, alloc: state.refs[0].insn }, [...lines, 'tail_call would lead to reference leak'].join('\n'));
  }
  const regs = curFrame(state).regs;
  for (let r = 1; r <= 5; r++) regs[r] = NOT_INIT;
  let r0: RegState;
  switch (proto.ret) {
    case 'integer':
      r0 = UNKNOWN_SCALAR;
      break;
    case 'void':
      r0 = NOT_INIT;
      break;
    case 'map_value_or_null': {
      if (!map) env.refuse('NC9001', { reason: `${name} returns a map value without a map argument` }, 'kernel subsystem misconfigured verifier');
      if (map.type === MAP_TYPE.sockmap || map.type === MAP_TYPE.sockhash || map.type === MAP_TYPE.xskmap) {
        env.refuse('NC4093', { what: `${name} on a ${map.type === MAP_TYPE.xskmap ? 'xskmap' : 'sockmap'}` }, `${name} on map type ${map.type} is not modelled`);
      }
      if (meta.mapInner && map.inner) env.refuse('NC4093', { what: 'maps of maps nested twice' }, 'nested map-in-map');
      const elide = id === 1 && (map.type === MAP_TYPE.array || map.type === MAP_TYPE.percpu_array) && meta.constKey !== undefined && meta.constKey >= 0n && meta.constKey < BigInt(map.maxEntries);
      r0 = pointerReg('map_value', { mapIndex: meta.mapIndex, inner: meta.mapInner, maybeNull: !elide });
      break;
    }
    case 'socket_or_null':
      r0 = pointerReg('sock', { maybeNull: true });
      break;
    case 'sock_common_or_null':
      r0 = pointerReg('sock_common', { maybeNull: true });
      break;
    case 'tcp_sock_or_null':
      r0 = pointerReg('tcp_sock', { maybeNull: true });
      break;
    case 'alloc_mem_or_null':
      if (id !== 131) env.refuse('NC4093', { what: `the memory ${name} returns` }, `${name} return value is not modelled`);
      r0 = pointerReg('mem', { maybeNull: true, size: meta.allocSize });
      break;
    default:
      env.refuse('NC4093', { what: `the kernel object pointer ${name} returns` }, `${name} return value is not modelled`);
  }
  if (r0.maybeNull) r0 = withReg(r0, { id: env.newId() });
  if (PTR_CAST.has(id)) {
    r0 = withReg(r0, { refId: meta.refId });
  } else if (ACQUIRE.has(id)) {
    const refId = env.newId();
    state.refs.push({ id: refId, insn: env.insnIdx });
    r0 = withReg(r0, { id: refId, refId });
  }
  regs[0] = r0;
  if (meta.mapIndex >= 0) {
    if (map && !mapFitsHelper(map.type, id)) {
      env.refuse('NC4076', { map: map.name, mapType: map.type, helper: name }, `cannot pass map_type ${map.type} into func ${name}#${id}`);
    }
  }
  if (proto.changesPacketData) {
    // The packet may have moved: every pointer into it is now just a number.
    mapAllRegs(state, (r) =>
      r.type === 'packet' || r.type === 'packet_meta' || r.type === 'packet_end' ? (env.unprivileged ? NOT_INIT : UNKNOWN_SCALAR) : undefined,
    );
  }
  return { helper: proto, changedPacket: proto.changesPacketData, ...(adjustHeadDelta !== undefined ? { adjustHeadDelta } : {}) };
}
