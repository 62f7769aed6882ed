/**
 * ALU instructions: moves, scalar arithmetic through the scalar domain, and
 * the kernel's rules for arithmetic on pointers (check_alu_op,
 * adjust_reg_min_max_vals, adjust_ptr_min_max_vals).
 */
import type { Insn } from '../ebpf/insn.js';
import {
  BPF_ADD,
  BPF_ALU64,
  BPF_AND,
  BPF_ARSH,
  BPF_DIV,
  BPF_END,
  BPF_K,
  BPF_LSH,
  BPF_MOD,
  BPF_MOV,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RSH,
  BPF_SUB,
  BPF_TO_BE,
  BPF_XOR,
  type OpcodeInfo,
} from '../ebpf/opcodes.js';
import { linkBeforeCopy, MAX_VAR_OFF } from './check-memory.js';
import {
  UNKNOWN_SCALAR,
  constReg,
  constScalar,
  isPointer,
  isPacketPointer,
  regTypeName,
  scalarReg,
  withReg,
  type RegState,
} from './register-state.js';
import {
  S32_MAX,
  S32_MIN,
  S64_MAX,
  S64_MIN,
  U32_MAX,
  U64_MAX,
  scalarAluOutcomes,
  scalarConst,
  scalarConstValue,
  scalarEndian,
  scalarMovSx,
  scalarZext32,
  type ScalarAluOp,
  type ScalarRange,
} from './scalar-range.js';
import { tnumAdd, tnumSub } from './tnum.js';
import type { VerifierEnv } from './verifier-env.js';

/** The kernel's bpf_alu_string, for messages. */
const ALU_STRING: Record<number, string> = {
  [BPF_ADD]: '+=',
  [BPF_SUB]: '-=',
  [BPF_MUL]: '*=',
  [BPF_DIV]: '/=',
  [BPF_OR]: '|=',
  [BPF_AND]: '&=',
  [BPF_LSH]: '<<=',
  [BPF_RSH]: '>>=',
  [BPF_NEG]: 'neg',
  [BPF_MOD]: '%=',
  [BPF_XOR]: '^=',
  [BPF_MOV]: '=',
  [BPF_ARSH]: 's>>=',
  [BPF_END]: 'endian',
};

const SCALAR_OP: Record<number, ScalarAluOp> = {
  [BPF_ADD]: 'add',
  [BPF_SUB]: 'sub',
  [BPF_MUL]: 'mul',
  [BPF_DIV]: 'div',
  [BPF_OR]: 'or',
  [BPF_AND]: 'and',
  [BPF_LSH]: 'lsh',
  [BPF_RSH]: 'rsh',
  [BPF_MOD]: 'mod',
  [BPF_XOR]: 'xor',
  [BPF_ARSH]: 'arsh',
};

/** How an ALU instruction reads its registers, for the reader to check and mark (the kernel's is_reg64). */
export interface AluOperands {
  /** Registers read, with whether the read is 64 bits wide. */
  reads: { reg: number; wide: boolean }[];
}

export function aluOperands(insn: Insn, info: OpcodeInfo): AluOperands {
  const wide = info.cls === BPF_ALU64;
  if (info.op === BPF_NEG || info.op === BPF_END) {
    // END in class ALU reads the whole register only for the 64-bit swap; bswap16/32 read the low half.
    const endWide = info.op === BPF_END ? insn.imm === 64 : wide;
    return { reads: [{ reg: insn.dst, wide: endWide }] };
  }
  if (info.op === BPF_MOV) return { reads: info.source === BPF_K ? [] : [{ reg: insn.src, wide }] };
  const reads = [];
  if (info.source !== BPF_K) reads.push({ reg: insn.src, wide });
  reads.push({ reg: insn.dst, wide });
  return { reads };
}

export interface AluResult {
  /** A second state to explore with this destination value (the kernel forks some AND/OR results). */
  alternative?: RegState;
}

function sext(imm: number): bigint {
  return BigInt(imm);
}

/** Bit width of the value's unsigned maximum (get_reg_width). */
function width(reg: RegState): number {
  return reg.value.umax === 0n ? 0 : reg.value.umax.toString(2).length;
}

/** Registers written by 32-bit operations remember their defining instruction for the zext facts. */
function subregDefOf(env: VerifierEnv, info: OpcodeInfo, insn: Insn): number {
  if (info.cls === BPF_ALU64) return insn.imm === 16 || insn.imm === 32 ? (info.op === BPF_END ? env.insnIdx + 1 : 0) : 0;
  if (info.op === BPF_END && insn.imm === 64) return 0;
  return env.insnIdx + 1;
}

function checkMov(env: VerifierEnv, insn: Insn, info: OpcodeInfo): void {
  const wide = info.cls === BPF_ALU64;
  if (info.source === BPF_K) {
    const v = wide ? sext(insn.imm) : BigInt(insn.imm >>> 0);
    env.setReg(insn.dst, withReg(constReg(v), { subregDef: wide ? 0 : env.insnIdx + 1 }));
    return;
  }
  let src = env.reg(insn.src);
  if (wide && insn.off === 0) {
    if (src.type === 'scalar') {
      src = linkBeforeCopy(env, src);
      env.setReg(insn.src, src);
    }
    env.setReg(insn.dst, withReg(src, { subregDef: 0 }));
    return;
  }
  if (isPointer(src)) {
    if (env.unprivileged) {
      const what = wide ? 'sign-extension part of pointer' : 'partial copy of pointer';
      env.refuse('NC4065', { detail: `R${insn.src} ${what}` }, `R${insn.src} ${what}`);
    }
    env.setReg(insn.dst, withReg(UNKNOWN_SCALAR, { subregDef: wide ? 0 : env.insnIdx + 1 }));
    return;
  }
  if (wide) {
    // movsx: the link survives only when the sign bit cannot be set.
    const noSext = src.value.umax < 1n << BigInt(insn.off - 1);
    if (noSext) {
      src = linkBeforeCopy(env, src);
      env.setReg(insn.src, src);
    }
    const value = scalarMovSx(src.value, insn.off as 8 | 16 | 32, false);
    env.setReg(insn.dst, withReg(src, { value, subregDef: 0, ...(noSext ? {} : { id: 0, off: 0, delta: false }) }));
    return;
  }
  if (insn.off === 0) {
    const fits = width(src) <= 32;
    if (fits) {
      src = linkBeforeCopy(env, src);
      env.setReg(insn.src, src);
    }
    const value = scalarZext32(src.value);
    env.setReg(insn.dst, withReg(src, { value, subregDef: env.insnIdx + 1, ...(fits ? {} : { id: 0, off: 0, delta: false }) }));
    return;
  }
  const noSext = src.value.umax < 1n << BigInt(insn.off - 1);
  if (noSext) {
    src = linkBeforeCopy(env, src);
    env.setReg(insn.src, src);
  }
  const value = scalarMovSx(src.value, insn.off as 8 | 16, true);
  env.setReg(insn.dst, withReg(src, { value, subregDef: env.insnIdx + 1, ...(noSext ? {} : { id: 0, off: 0, delta: false }) }));
}

// ---------------------------------------------------------------------------
// Pointer arithmetic
// ---------------------------------------------------------------------------

const asS64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/**
 * The bounds of a pointer's variable part after adding or subtracting a
 * scalar, computed as adjust_ptr_min_max_vals does: 64-bit bounds with
 * overflow giving up, the known bits from the tnum, and no 32-bit bounds.
 */
function pointerVarPart(ptr: ScalarRange, off: ScalarRange, op: 'add' | 'sub'): ScalarRange {
  let smin: bigint;
  let smax: bigint;
  let umin: bigint;
  let umax: bigint;
  if (op === 'add') {
    smin = ptr.smin + off.smin;
    smax = ptr.smax + off.smax;
    if (smin < S64_MIN || smin > S64_MAX || smax < S64_MIN || smax > S64_MAX) {
      smin = S64_MIN;
      smax = S64_MAX;
    }
    umin = ptr.umin + off.umin;
    umax = ptr.umax + off.umax;
    if (umin > U64_MAX || umax > U64_MAX) {
      umin = 0n;
      umax = U64_MAX;
    }
  } else {
    smin = ptr.smin - off.smax;
    smax = ptr.smax - off.smin;
    if (smin < S64_MIN || smin > S64_MAX || smax < S64_MIN || smax > S64_MAX) {
      smin = S64_MIN;
      smax = S64_MAX;
    }
    if (ptr.umin < off.umax) {
      umin = 0n;
      umax = U64_MAX;
    } else {
      umin = ptr.umin - off.umax;
      umax = ptr.umax - off.umin;
    }
  }
  const tnum = op === 'add' ? tnumAdd(ptr.tnum, off.tnum) : tnumSub(ptr.tnum, off.tnum);
  // What the known bits say (__reg_bound_offset), and the signed/unsigned cross-deduction.
  const tmin = tnum.value;
  const tmax = tnum.value | tnum.mask;
  if (tmin > umin) umin = tmin;
  if (tmax < umax) umax = tmax;
  if (asS64(umin) <= asS64(umax)) {
    // The unsigned range does not cross the sign boundary: it is a signed range too.
    if (asS64(umin) > smin) smin = asS64(umin);
    if (asS64(umax) < smax) smax = asS64(umax);
  }
  if (smin >= 0n) {
    if (smin > umin) umin = smin;
    if (smax < umax) umax = smax;
  } else if (smax < 0n) {
    const lo = BigInt.asUintN(64, smin);
    const hi = BigInt.asUintN(64, smax);
    if (lo > umin) umin = lo;
    if (hi < umax) umax = hi;
  }
  return { tnum, umin, umax, smin, smax, u32min: 0n, u32max: U32_MAX, s32min: S32_MIN, s32max: S32_MAX };
}

/** check_reg_sane_offset: offsets far enough to wrap are refused before they can be used. */
function checkSaneOffset(env: VerifierEnv, reg: RegState, ptrType: string, regno: number, isPtr: boolean): void {
  const v = reg.value;
  const c = scalarConstValue(v);
  const max = BigInt(MAX_VAR_OFF);
  if (c !== undefined && (asS64(c) >= max || asS64(c) <= -max)) {
    const text = `math between ${ptrType} pointer and ${asS64(c)} is not allowed`;
    env.refuse('NC4069', { reg: regno, kind: ptrType, detail: text }, text);
  }
  if (isPtr && (reg.off >= MAX_VAR_OFF || reg.off <= -MAX_VAR_OFF)) {
    const text = `${ptrType} pointer offset ${reg.off} is not allowed`;
    env.refuse('NC4069', { reg: regno, kind: ptrType, detail: text }, text);
  }
  if (v.smin === S64_MIN) {
    const text = `math between ${ptrType} pointer and register with unbounded min value is not allowed`;
    env.refuse('NC4069', { reg: regno, kind: ptrType, detail: text }, text);
  }
  if (v.smin >= max || v.smin <= -max) {
    const text = `value ${v.smin} makes ${ptrType} pointer be out of bounds`;
    env.refuse('NC4069', { reg: regno, kind: ptrType, detail: text }, text);
  }
}

const fitsS32 = (v: number): boolean => v >= -0x80000000 && v <= 0x7fffffff;

function adjustPointer(env: VerifierEnv, insn: Insn, op: number, wide: boolean, ptr: RegState, offReg: RegState, offIsDst: boolean): void {
  const dst = insn.dst;
  const off = offReg.value;
  const c = scalarConstValue(off);
  const known = c !== undefined;
  if (!wide) {
    if (op === BPF_SUB && !env.unprivileged) {
      env.setReg(dst, withReg(UNKNOWN_SCALAR, { subregDef: env.insnIdx + 1 }));
      return;
    }
    env.refuse('NC4067', { reg: dst }, `R${dst} 32-bit pointer arithmetic prohibited`);
  }
  const name = regTypeName(ptr);
  if (ptr.maybeNull) {
    env.refuse('NC4068', { reg: dst, kind: name }, `R${dst} pointer arithmetic on ${name} prohibited, null-check it first`);
  }
  const smin = off.smin;
  let allowed: boolean;
  switch (ptr.type) {
    case 'ctx':
    case 'map_value':
    case 'stack':
    case 'packet':
    case 'packet_meta':
    case 'mem':
    case 'func':
      allowed = true;
      break;
    case 'map_ptr':
      allowed = known && smin === 0n && op === BPF_ADD;
      break;
    default:
      allowed = false;
  }
  if (!allowed) env.refuse('NC4065', { detail: `pointer arithmetic on ${name} is prohibited` }, `R${dst} pointer arithmetic on ${name} prohibited`);
  checkSaneOffset(env, offReg, name, dst, false);
  checkSaneOffset(env, ptr, name, dst, true);
  let result: RegState;
  switch (op) {
    case BPF_ADD: {
      const v = known ? Number(asS64(c!)) : 0;
      if (known && fitsS32(ptr.off + v)) {
        result = withReg(ptr, { off: ptr.off + v, subregDef: 0 });
      } else {
        result = withReg(ptr, { value: pointerVarPart(ptr.value, off, 'add'), subregDef: 0 });
        // Something variable was added: this pointer starts a new packet base.
        if (isPacketPointer(ptr)) result = withReg(result, { id: env.newId(), range: 0 });
      }
      break;
    }
    case BPF_SUB: {
      if (offIsDst) env.refuse('NC4065', { detail: 'a pointer cannot be subtracted from a scalar' }, `R${dst} tried to subtract pointer from scalar`);
      if (ptr.type === 'stack') env.refuse('NC4065', { detail: 'subtraction from the stack pointer is prohibited' }, `R${dst} subtraction from stack pointer prohibited`);
      const v = known ? Number(asS64(c!)) : 0;
      if (known && fitsS32(ptr.off - v)) {
        result = withReg(ptr, { off: ptr.off - v, subregDef: 0 });
      } else {
        result = withReg(ptr, { value: pointerVarPart(ptr.value, off, 'sub'), subregDef: 0 });
        if (isPacketPointer(ptr)) result = withReg(result, { id: env.newId(), ...(smin < 0n ? { range: 0 } : {}) });
      }
      break;
    }
    case BPF_AND:
    case BPF_OR:
    case BPF_XOR:
      env.refuse('NC4065', { detail: `bitwise ${ALU_STRING[op]} on a pointer is prohibited` }, `R${dst} bitwise operator ${ALU_STRING[op]} on pointer prohibited`);
    // falls through (refuse throws)
    default:
      env.refuse('NC4065', { detail: `pointer arithmetic with ${ALU_STRING[op]} is prohibited` }, `R${dst} pointer arithmetic with ${ALU_STRING[op]} operator prohibited`);
  }
  checkSaneOffset(env, result, name, dst, true);
  env.setReg(dst, result);
}

// ---------------------------------------------------------------------------
// check_alu_op
// ---------------------------------------------------------------------------

/**
 * One ALU instruction; operands were checked readable by the caller
 * (aluOperands). Updates the destination register.
 */
export function checkAlu(env: VerifierEnv, insn: Insn, info: OpcodeInfo): AluResult {
  const op = info.op;
  const wide = info.cls === BPF_ALU64;
  if (op === BPF_NEG || op === BPF_END) {
    const dst = env.reg(insn.dst);
    if (isPointer(dst) && env.unprivileged) env.refuse('NC4065', { detail: `arithmetic on pointer R${insn.dst}` }, `R${insn.dst} pointer arithmetic prohibited`);
    if (insn.dst === 10) env.refuse('NC4051', {}, 'frame pointer is read only');
    const subregDef = subregDefOf(env, info, insn);
    if (dst.type !== 'scalar') {
      env.setReg(insn.dst, withReg(UNKNOWN_SCALAR, { subregDef }));
      return {};
    }
    let value: ScalarRange;
    if (op === BPF_NEG) value = scalarAluOutcomes('neg', dst.value, scalarConst(0n), !wide)[0];
    else if (wide) value = scalarEndian(dst.value, 'bswap', insn.imm as 16 | 32 | 64);
    else value = scalarEndian(dst.value, info.source === BPF_TO_BE ? 'be' : 'le', insn.imm as 16 | 32 | 64);
    env.setReg(insn.dst, scalarReg(value, subregDef));
    return {};
  }
  if (insn.dst === 10) env.refuse('NC4051', {}, 'frame pointer is read only');
  if (op === BPF_MOV) {
    checkMov(env, insn, info);
    return {};
  }
  if ((op === BPF_DIV || op === BPF_MOD) && info.source === BPF_K && insn.imm === 0) {
    env.refuse('NC4082', {}, 'div by zero');
  }
  if ((op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH) && info.source === BPF_K) {
    const bits = wide ? 64 : 32;
    if (insn.imm < 0 || insn.imm >= bits) env.refuse('NC4083', { amount: insn.imm, width: bits }, `invalid shift ${insn.imm}`);
  }
  const dst = env.reg(insn.dst);
  const srcReg = info.source === BPF_K ? constReg(sext(insn.imm)) : env.reg(insn.src);
  if (info.source !== BPF_K && isPointer(srcReg)) {
    if (isPointer(dst)) {
      if (op === BPF_SUB && !env.unprivileged) {
        env.setReg(insn.dst, UNKNOWN_SCALAR);
        return {};
      }
      env.refuse('NC4066', { reg: insn.dst, op: ALU_STRING[op] }, `R${insn.dst} pointer ${ALU_STRING[op]} pointer prohibited`);
    }
    // scalar += pointer: the scalar's exact value becomes part of a pointer.
    env.markPreciseRegs([insn.dst]);
    adjustPointer(env, insn, op, wide, srcReg, dst, true);
    return {};
  }
  if (isPointer(dst)) {
    if (info.source !== BPF_K) env.markPreciseRegs([insn.src]);
    adjustPointer(env, insn, op, wide, dst, srcReg, false);
    return {};
  }
  const sop = SCALAR_OP[op];
  // 'neg' is handled above; the scalar domain computes div/mod and shifts with their kernel semantics.
  const folded = constantFold(sop, dst.value, srcReg.value, wide);
  const outcomes = folded !== undefined ? [constScalar(folded)] : scalarAluOutcomes(sop, dst.value, srcReg.value, !wide);
  const subregDef = wide ? 0 : env.insnIdx + 1;
  const linked = linkAfterAlu(env, dst, srcReg, op, wide);
  const result = withReg(dst, { value: outcomes[0], subregDef, ...linked });
  env.setReg(insn.dst, result);
  return outcomes.length > 1 ? { alternative: withReg(result, { value: outcomes[1] }) } : {};
}

/**
 * Two known operands give a known result: the kernel's tnums are exact for
 * constants, so its bounds end up being this very value. Only for the
 * operations it tracks (it gives up on division and remainder).
 */
function constantFold(op: ScalarAluOp, dst: ScalarRange, src: ScalarRange, wide: boolean): bigint | undefined {
  const a = scalarConstValue(dst);
  const b = scalarConstValue(src);
  if (a === undefined || b === undefined) return undefined;
  const bits = wide ? 64 : 32;
  const x = BigInt.asUintN(bits, a);
  const y = BigInt.asUintN(bits, b);
  let r: bigint;
  switch (op) {
    case 'add':
      r = x + y;
      break;
    case 'sub':
      r = x - y;
      break;
    case 'mul':
      r = x * y;
      break;
    case 'and':
      r = x & y;
      break;
    case 'or':
      r = x | y;
      break;
    case 'xor':
      r = x ^ y;
      break;
    case 'lsh':
      if (y >= BigInt(bits)) return undefined;
      r = x << y;
      break;
    case 'rsh':
      if (y >= BigInt(bits)) return undefined;
      r = x >> y;
      break;
    case 'arsh':
      if (y >= BigInt(bits)) return undefined;
      r = BigInt.asIntN(bits, x) >> y;
      break;
    default:
      return undefined;
  }
  return BigInt.asUintN(bits, r);
}

/**
 * After `rX += K` a linked scalar keeps its link with the delta K, so a later
 * comparison of either register bounds both; any other operation breaks it.
 */
function linkAfterAlu(env: VerifierEnv, dst: RegState, src: RegState, op: number, wide: boolean): Partial<RegState> {
  const c = scalarConstValue(src.value);
  if (!env.unprivileged && (op === BPF_ADD || op === BPF_SUB) && dst.id !== 0 && wide && c !== undefined) {
    const val = asS64(c);
    if (val < -0x80000000n || val > 0x7fffffffn) return { id: 0, off: 0, delta: false };
    let delta = Number(val);
    if (op === BPF_SUB) {
      if (delta === -0x80000000) return { id: 0, off: 0, delta: false };
      delta = -delta;
    }
    if (dst.delta) return { id: 0, off: 0, delta: false };
    return { delta: true, off: delta };
  }
  return { id: 0, off: 0, delta: false };
}
