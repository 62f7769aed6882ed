/**
 * One instruction -> the text llvm-objdump-19 -d prints for it (the column
 * after the raw bytes), character for character, so listings can be diffed
 * against LLVM. Quirks of LLVM 19 are reproduced on purpose:
 *
 * - immediates and offsets are signed hex (`r1 += -0x1`, `(r10 - 0x8)`);
 * - ld_imm64 with a pseudo src prints `ld_pseudo\trN, 0xSRC, 0xIMM` with a
 *   tab and only the low 32 bits;
 * - ld_ind ignores imm (`skb[r1]`);
 * - without alu32 (plain `llvm-objdump -d`), 32-bit atomics other than add
 *   are `<unknown>`, and imm 0x01 (fetch add) prints as a plain `lock` add.
 *   With `alu32: true` (`--mattr=+alu32`) those decode, and 8/16/32-bit
 *   loads and stores use w registers.
 */
import type { Insn } from './insn.js';
import {
  BPF_ALU64,
  BPF_ARSH,
  BPF_ATOMIC_ADD,
  BPF_ATOMIC_AND,
  BPF_ATOMIC_OR,
  BPF_ATOMIC_XOR,
  BPF_CMPXCHG,
  BPF_FETCH,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JLE,
  BPF_JLT,
  BPF_JNE,
  BPF_JSET,
  BPF_JSGE,
  BPF_JSGT,
  BPF_JSLE,
  BPF_JSLT,
  BPF_K,
  BPF_ADD,
  BPF_AND,
  BPF_DIV,
  BPF_LSH,
  BPF_MOD,
  BPF_MOV,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RSH,
  BPF_SUB,
  BPF_TO_BE,
  BPF_XCHG,
  BPF_XOR,
  isAddrSpaceCast,
  isMovSx,
  isSignedDivMod,
  jumpTarget,
  ldImm64Value,
  opcodeInfo,
} from './opcodes.js';

export interface DisasmOptions {
  /** Decode as `llvm-objdump --mattr=+alu32` does. Default false (plain `llvm-objdump -d`). */
  alu32?: boolean;
  /** Name for a jump target slot index; printed as ` <name>` after the offset, as llvm-objdump does with symbols. */
  label?: (targetPc: number) => string | undefined;
}

export const UNKNOWN_INSN = '<unknown>';

/** Signed hex the way LLVM's BPF printer writes immediates: 0x0, 0x1f, -0x8. */
export function signedHex(v: number | bigint): string {
  const b = BigInt(v);
  return b < 0n ? `-0x${(-b).toString(16)}` : `0x${b.toString(16)}`;
}

/** A jump offset: always with a sign. */
function branchOffset(v: number): string {
  return v < 0 ? `-0x${(-v).toString(16)}` : `+0x${v.toString(16)}`;
}

/** `(r1 + 0x8)` / `(r10 - 0x8)` */
function memRef(base: number, off: number): string {
  return off < 0 ? `r${base} - 0x${(-off).toString(16)}` : `r${base} + 0x${off.toString(16)}`;
}

const ALU_SYMBOL: Record<number, string> = {
  [BPF_ADD]: '+=',
  [BPF_SUB]: '-=',
  [BPF_MUL]: '*=',
  [BPF_DIV]: '/=',
  [BPF_OR]: '|=',
  [BPF_AND]: '&=',
  [BPF_LSH]: '<<=',
  [BPF_RSH]: '>>=',
  [BPF_MOD]: '%=',
  [BPF_XOR]: '^=',
  [BPF_MOV]: '=',
  [BPF_ARSH]: 's>>=',
};

const JMP_SYMBOL: Record<number, string> = {
  [BPF_JEQ]: '==',
  [BPF_JGT]: '>',
  [BPF_JGE]: '>=',
  [BPF_JSET]: '&',
  [BPF_JNE]: '!=',
  [BPF_JSGT]: 's>',
  [BPF_JSGE]: 's>=',
  [BPF_JLT]: '<',
  [BPF_JLE]: '<=',
  [BPF_JSLT]: 's<',
  [BPF_JSLE]: 's<=',
};

const SIZE_TYPE: Record<number, string> = { 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' };

const ATOMIC_LOCK_SYMBOL: Record<number, string> = {
  [BPF_ATOMIC_ADD]: '+=',
  [BPF_ATOMIC_AND]: '&=',
  [BPF_ATOMIC_OR]: '|=',
  [BPF_ATOMIC_XOR]: '^=',
};

const ATOMIC_FETCH_NAME: Record<number, string> = {
  [BPF_ATOMIC_ADD | BPF_FETCH]: 'atomic_fetch_add',
  [BPF_ATOMIC_AND | BPF_FETCH]: 'atomic_fetch_and',
  [BPF_ATOMIC_OR | BPF_FETCH]: 'atomic_fetch_or',
  [BPF_ATOMIC_XOR | BPF_FETCH]: 'atomic_fetch_xor',
};

function withLabel(text: string, pc: number, insn: Insn, opts: DisasmOptions): string {
  if (!opts.label) return text;
  const target = jumpTarget(pc, insn);
  const name = target === undefined ? undefined : opts.label(target);
  return name === undefined ? text : `${text} <${name}>`;
}

function atomicText(insn: Insn, size: number, alu32: boolean): string {
  const mem = memRef(insn.dst, insn.off);
  if (size === 4 && !alu32) {
    // LLVM's non-alu32 decoder table knows only XADDW, and matches it for imm 0 and 1 alike.
    if (insn.imm === BPF_ATOMIC_ADD || insn.imm === (BPF_ATOMIC_ADD | BPF_FETCH)) return `lock *(u32 *)(${mem}) += r${insn.src}`;
    return UNKNOWN_INSN;
  }
  const reg = (n: number): string => (size === 4 ? `w${n}` : `r${n}`);
  const lock = ATOMIC_LOCK_SYMBOL[insn.imm];
  if (lock) return `lock *(${SIZE_TYPE[size]} *)(${mem}) ${lock} ${reg(insn.src)}`;
  const fetch = ATOMIC_FETCH_NAME[insn.imm];
  if (fetch) return `${reg(insn.src)} = ${fetch}((${SIZE_TYPE[size]} *)(${mem}), ${reg(insn.src)})`;
  const suffix = size === 4 ? '32_32' : '_64';
  if (insn.imm === BPF_XCHG) return `${reg(insn.src)} = xchg${suffix}(${mem}, ${reg(insn.src)})`;
  if (insn.imm === BPF_CMPXCHG) return `${reg(0)} = cmpxchg${suffix}(${mem}, ${reg(0)}, ${reg(insn.src)})`;
  return UNKNOWN_INSN;
}

/**
 * The llvm-objdump-19 text for one instruction at slot index `pc`. An
 * opcode outside the table prints `<unknown>`, like LLVM; fields are not
 * validated here (decodeProgram does that).
 */
export function disassembleInsn(insn: Insn, pc: number, opts: DisasmOptions = {}): string {
  const info = opcodeInfo(insn.code);
  if (!info) return UNKNOWN_INSN;
  const alu32 = opts.alu32 ?? false;
  switch (info.kind) {
    case 'alu64':
    case 'alu32': {
      const p = info.cls === BPF_ALU64 ? 'r' : 'w';
      const dst = `${p}${insn.dst}`;
      if (info.op === BPF_NEG) return `${dst} = -${dst}`;
      if (isAddrSpaceCast(insn)) {
        return `${dst} = addr_space_cast(r${insn.src}, ${signedHex(insn.imm >>> 16)}, ${signedHex(insn.imm & 0xffff)})`;
      }
      if (isMovSx(insn)) return `${dst} = (s${insn.off})${p}${insn.src}`;
      let sym = ALU_SYMBOL[info.op];
      if (isSignedDivMod(insn)) sym = `s${sym}`;
      const operand = info.source === BPF_K ? signedHex(insn.imm) : `${p}${insn.src}`;
      return `${dst} ${sym} ${operand}`;
    }
    case 'endian': {
      const order = info.source === BPF_TO_BE ? 'be' : 'le';
      return `r${insn.dst} = ${order}${insn.imm} r${insn.dst}`;
    }
    case 'bswap':
      return `r${insn.dst} = bswap${insn.imm} r${insn.dst}`;
    case 'ld_imm64':
      if (insn.src === 0) return `r${insn.dst} = ${signedHex(ldImm64Value(insn))} ll`;
      return `ld_pseudo\tr${insn.dst}, ${signedHex(insn.src)}, ${signedHex(insn.imm >>> 0)}`;
    case 'ld_abs':
      return `r0 = *(${SIZE_TYPE[info.size!]} *)skb[${signedHex(insn.imm)}]`;
    case 'ld_ind':
      return `r0 = *(${SIZE_TYPE[info.size!]} *)skb[r${insn.src}]`;
    case 'load': {
      const p = alu32 && info.size !== 8 ? 'w' : 'r';
      return `${p}${insn.dst} = *(${SIZE_TYPE[info.size!]} *)(${memRef(insn.src, insn.off)})`;
    }
    case 'load_sx':
      return `r${insn.dst} = *(s${info.size! * 8} *)(${memRef(insn.src, insn.off)})`;
    case 'store_imm':
      return `*(${SIZE_TYPE[info.size!]} *)(${memRef(insn.dst, insn.off)}) = ${signedHex(insn.imm)}`;
    case 'store': {
      const p = alu32 && info.size !== 8 ? 'w' : 'r';
      return `*(${SIZE_TYPE[info.size!]} *)(${memRef(insn.dst, insn.off)}) = ${p}${insn.src}`;
    }
    case 'atomic':
      return atomicText(insn, info.size!, alu32);
    case 'jmp':
    case 'jmp32': {
      const p = info.kind === 'jmp32' ? 'w' : 'r';
      const rhs = info.source === BPF_K ? signedHex(insn.imm) : `${p}${insn.src}`;
      return withLabel(`if ${p}${insn.dst} ${JMP_SYMBOL[info.op]} ${rhs} goto ${branchOffset(insn.off)}`, pc, insn, opts);
    }
    case 'ja':
      return withLabel(`goto ${branchOffset(insn.off)}`, pc, insn, opts);
    case 'gotol':
      return withLabel(`gotol ${branchOffset(insn.imm)}`, pc, insn, opts);
    case 'may_goto':
      return withLabel(`may_goto ${branchOffset(insn.off)}`, pc, insn, opts);
    case 'call':
      return `call ${signedHex(insn.imm)}`;
    case 'exit':
      return 'exit';
  }
}
