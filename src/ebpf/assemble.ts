/**
 * Text -> Insn[]: the inverse of disassembleInsn, for hand-written test
 * programs (the verifier corpus). It reads exactly the llvm-objdump-19 syntax
 * disasm.ts prints, one instruction per line; `;`, `#` and `//` start
 * comments, a leading `N:` pc label and a trailing ` <name>` jump label are
 * ignored, blank lines are skipped.
 *
 * Two additions the disassembler never prints:
 * - `ld_pseudo rD, SRC, IMM` is accepted with spaces as well as the tab;
 * - `.insn CODE, DST, SRC, OFF, IMM` writes one raw slot, for programs no
 *   valid syntax can express (an ld_imm64 cut in half, an unknown opcode).
 *
 * Where the printed text loses information the assembler picks what LLVM
 * would have emitted: `call N` is a helper call (src 0), `skb[rN]` has imm 0,
 * a 32-bit `lock ... +=` is a plain add, `ld_pseudo` has imm2 0.
 */
import { fail } from '../diagnostics/diagnostic.js';
import { ldImm64Filler } from './decode.js';
import { encodeSlot, type Insn } from './insn.js';
import {
  BPF_ADD,
  BPF_ALU,
  BPF_ALU64,
  BPF_AND,
  BPF_ARSH,
  BPF_ATOMIC,
  BPF_ATOMIC_ADD,
  BPF_ATOMIC_AND,
  BPF_ATOMIC_OR,
  BPF_ATOMIC_XOR,
  BPF_B,
  BPF_CALL,
  BPF_CMPXCHG,
  BPF_DIV,
  BPF_DW,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_H,
  BPF_IMM,
  BPF_IND,
  BPF_ABS,
  BPF_JA,
  BPF_JCOND,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JLE,
  BPF_JLT,
  BPF_JMP,
  BPF_JMP32,
  BPF_JNE,
  BPF_JSET,
  BPF_JSGE,
  BPF_JSGT,
  BPF_JSLE,
  BPF_JSLT,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LSH,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOD,
  BPF_MOV,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_TO_BE,
  BPF_TO_LE,
  BPF_W,
  BPF_X,
  BPF_XCHG,
  BPF_XOR,
} from './opcodes.js';

export interface AssembleWhere {
  /** Input file for diagnostics. */
  file?: string;
}

/** A line that does not parse; turned into NC1026 with its line number by assembleProgram. */
class LineError extends Error {}

const ALU_OPS: Record<string, { op: number; signed?: boolean }> = {
  '+=': { op: BPF_ADD },
  '-=': { op: BPF_SUB },
  '*=': { op: BPF_MUL },
  '/=': { op: BPF_DIV },
  's/=': { op: BPF_DIV, signed: true },
  '|=': { op: BPF_OR },
  '&=': { op: BPF_AND },
  '<<=': { op: BPF_LSH },
  '>>=': { op: BPF_RSH },
  '%=': { op: BPF_MOD },
  's%=': { op: BPF_MOD, signed: true },
  '^=': { op: BPF_XOR },
  '=': { op: BPF_MOV },
  's>>=': { op: BPF_ARSH },
};

const JMP_OPS: Record<string, number> = {
  '==': BPF_JEQ,
  '>': BPF_JGT,
  '>=': BPF_JGE,
  '&': BPF_JSET,
  '!=': BPF_JNE,
  's>': BPF_JSGT,
  's>=': BPF_JSGE,
  '<': BPF_JLT,
  '<=': BPF_JLE,
  's<': BPF_JSLT,
  's<=': BPF_JSLE,
};

const SIZE_CODE: Record<string, number> = { '8': BPF_B, '16': BPF_H, '32': BPF_W, '64': BPF_DW };

const LOCK_OPS: Record<string, number> = {
  '+=': BPF_ATOMIC_ADD,
  '&=': BPF_ATOMIC_AND,
  '|=': BPF_ATOMIC_OR,
  '^=': BPF_ATOMIC_XOR,
};

const FETCH_OPS: Record<string, number> = {
  add: BPF_ATOMIC_ADD | BPF_FETCH,
  and: BPF_ATOMIC_AND | BPF_FETCH,
  or: BPF_ATOMIC_OR | BPF_FETCH,
  xor: BPF_ATOMIC_XOR | BPF_FETCH,
};

// Pieces of the patterns below.
const NUM = '(-?(?:0x[0-9a-f]+|\\d+))';
const REG = '([rw])(\\d+)';
const MEM = '\\(r(\\d+) ([+-]) (0x[0-9a-f]+|\\d+)\\)';

function parseNumber(text: string): bigint {
  const negative = text.startsWith('-');
  const digits = negative || text.startsWith('+') ? text.slice(1) : text;
  const value = BigInt(digits);
  return negative ? -value : value;
}

/** A field that must fit a signed `bits`-wide integer; unsigned spellings of the same bits are accepted too. */
function signedField(text: string, bits: number, what: string): number {
  const value = parseNumber(text);
  const min = -(1n << BigInt(bits - 1));
  const max = (1n << BigInt(bits)) - 1n;
  if (value < min || value > max) throw new LineError(`${what} ${text} does not fit ${bits} bits`);
  return Number(BigInt.asIntN(bits, value));
}

const imm32 = (text: string): number => signedField(text, 32, 'immediate');
const off16 = (text: string): number => signedField(text, 16, 'offset');

function register(text: string): number {
  const n = Number(text);
  if (n > 10) throw new LineError(`no register r${text}`);
  return n;
}

function memOffset(sign: string, magnitude: string): number {
  return off16(sign === '-' ? `-${magnitude}` : magnitude);
}

function slot(code: number, dst: number, src: number, off: number, imm: number): Insn {
  return { code, dst, src, off, imm, slots: 1 };
}

/** Register prefix r/w -> instruction class for ALU and jumps. */
function aluClass(prefix: string): number {
  return prefix === 'w' ? BPF_ALU : BPF_ALU64;
}

/** One instruction's text (comment and labels already removed) -> its Insn(s). */
function assembleLine(text: string): Insn[] {
  let m: RegExpMatchArray | null;
  const match = (pattern: string): RegExpMatchArray | null => (m = text.match(new RegExp(`^${pattern}$`)));

  if (match('exit')) return [slot(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)];
  if (match(`call ${NUM}`)) return [slot(BPF_JMP | BPF_CALL, 0, 0, 0, imm32(m![1]))];
  if (match(`goto ([+-](?:0x[0-9a-f]+|\\d+))`)) return [slot(BPF_JMP | BPF_JA, 0, 0, off16(m![1]), 0)];
  if (match(`gotol ([+-](?:0x[0-9a-f]+|\\d+))`)) return [slot(BPF_JMP32 | BPF_JA, 0, 0, 0, imm32(m![1]))];
  if (match(`may_goto ([+-](?:0x[0-9a-f]+|\\d+))`)) return [slot(BPF_JMP | BPF_JCOND, 0, 0, off16(m![1]), 0)];

  if (match(`if ${REG} (==|!=|>=|>|<=|<|&|s>=|s>|s<=|s<) (?:${REG}|${NUM}) goto ([+-](?:0x[0-9a-f]+|\\d+))`)) {
    const [, prefix, dst, op, srcPrefix, src, imm, off] = m!;
    if (srcPrefix !== undefined && srcPrefix !== prefix) throw new LineError('mixed r and w registers');
    const cls = prefix === 'w' ? BPF_JMP32 : BPF_JMP;
    if (src !== undefined) return [slot(cls | JMP_OPS[op] | BPF_X, register(dst), register(src), off16(off), 0)];
    return [slot(cls | JMP_OPS[op] | BPF_K, register(dst), 0, off16(off), imm32(imm))];
  }

  if (match(`ld_pseudo\\s+r(\\d+),\\s*${NUM},\\s*${NUM}`)) {
    const src = Number(parseNumber(m![2]));
    if (src < 0 || src > 15) throw new LineError(`ld_pseudo source ${m![2]} is not 0..15`);
    return [{ ...slot(BPF_LD | BPF_IMM | BPF_DW, register(m![1]), src, 0, imm32(m![3])), imm2: 0, slots: 2 }, ldImm64Filler()];
  }
  if (match(`r(\\d+) = ${NUM} ll`)) {
    const value = parseNumber(m![2]);
    if (value < -(1n << 63n) || value >= 1n << 64n) throw new LineError(`${m![2]} does not fit 64 bits`);
    const bits = BigInt.asUintN(64, value);
    const insn: Insn = {
      ...slot(BPF_LD | BPF_IMM | BPF_DW, register(m![1]), 0, 0, Number(BigInt.asIntN(32, bits))),
      imm2: Number(BigInt.asIntN(32, bits >> 32n)),
      slots: 2,
    };
    return [insn, ldImm64Filler()];
  }

  if (match(`r0 = \\*\\(u(8|16|32|64) \\*\\)skb\\[${NUM}\\]`)) {
    return [slot(BPF_LD | BPF_ABS | SIZE_CODE[m![1]], 0, 0, 0, imm32(m![2]))];
  }
  if (match(`r0 = \\*\\(u(8|16|32|64) \\*\\)skb\\[r(\\d+)\\]`)) {
    return [slot(BPF_LD | BPF_IND | SIZE_CODE[m![1]], 0, register(m![2]), 0, 0)];
  }
  if (match(`${REG} = \\*\\(u(8|16|32|64) \\*\\)${MEM}`)) {
    const [, , dst, size, src, sign, mag] = m!;
    return [slot(BPF_LDX | BPF_MEM | SIZE_CODE[size], register(dst), register(src), memOffset(sign, mag), 0)];
  }
  if (match(`r(\\d+) = \\*\\(s(8|16|32) \\*\\)${MEM}`)) {
    const [, dst, size, src, sign, mag] = m!;
    return [slot(BPF_LDX | BPF_MEMSX | SIZE_CODE[size], register(dst), register(src), memOffset(sign, mag), 0)];
  }
  if (match(`\\*\\(u(8|16|32|64) \\*\\)${MEM} = ${NUM}`)) {
    const [, size, dst, sign, mag, imm] = m!;
    return [slot(BPF_ST | BPF_MEM | SIZE_CODE[size], register(dst), 0, memOffset(sign, mag), imm32(imm))];
  }
  if (match(`\\*\\(u(8|16|32|64) \\*\\)${MEM} = ${REG}`)) {
    const [, size, dst, sign, mag, , src] = m!;
    return [slot(BPF_STX | BPF_MEM | SIZE_CODE[size], register(dst), register(src), memOffset(sign, mag), 0)];
  }
  if (match(`lock \\*\\(u(32|64) \\*\\)${MEM} (\\+=|&=|\\|=|\\^=) ${REG}`)) {
    const [, size, dst, sign, mag, op, , src] = m!;
    return [slot(BPF_STX | BPF_ATOMIC | SIZE_CODE[size], register(dst), register(src), memOffset(sign, mag), LOCK_OPS[op])];
  }
  if (match(`${REG} = atomic_fetch_(add|and|or|xor)\\(\\(u(32|64) \\*\\)${MEM}, ${REG}\\)`)) {
    const [, , src, op, size, dst, sign, mag, , src2] = m!;
    if (src !== src2) throw new LineError('atomic_fetch must name the same register twice');
    return [slot(BPF_STX | BPF_ATOMIC | SIZE_CODE[size], register(dst), register(src), memOffset(sign, mag), FETCH_OPS[op])];
  }
  if (match(`${REG} = xchg(32_32|_64)\\(r(\\d+) ([+-]) (0x[0-9a-f]+|\\d+), ${REG}\\)`)) {
    const [, , src, width, dst, sign, mag, , src2] = m!;
    if (src !== src2) throw new LineError('xchg must name the same register twice');
    const size = width === '_64' ? BPF_DW : BPF_W;
    return [slot(BPF_STX | BPF_ATOMIC | size, register(dst), register(src), memOffset(sign, mag), BPF_XCHG)];
  }
  if (match(`[rw]0 = cmpxchg(32_32|_64)\\(r(\\d+) ([+-]) (0x[0-9a-f]+|\\d+), [rw]0, ${REG}\\)`)) {
    const [, width, dst, sign, mag, , src] = m!;
    const size = width === '_64' ? BPF_DW : BPF_W;
    return [slot(BPF_STX | BPF_ATOMIC | size, register(dst), register(src), memOffset(sign, mag), BPF_CMPXCHG)];
  }

  if (match(`r(\\d+) = (le|be|bswap)(16|32|64) r(\\d+)`)) {
    const [, dst, kind, width, dst2] = m!;
    if (dst !== dst2) throw new LineError(`${kind} must name the same register twice`);
    const code = kind === 'bswap' ? BPF_ALU64 | BPF_END | BPF_TO_LE : BPF_ALU | BPF_END | (kind === 'be' ? BPF_TO_BE : BPF_TO_LE);
    return [slot(code, register(dst), 0, 0, Number(width))];
  }
  if (match(`${REG} = -${REG}`)) {
    const [, prefix, dst, prefix2, dst2] = m!;
    if (prefix !== prefix2 || dst !== dst2) throw new LineError('negation must name the same register twice');
    return [slot(aluClass(prefix) | BPF_NEG | BPF_K, register(dst), 0, 0, 0)];
  }
  if (match(`r(\\d+) = addr_space_cast\\(r(\\d+), ${NUM}, ${NUM}\\)`)) {
    const [, dst, src, to, from] = m!;
    const imm = Number(((parseNumber(to) & 0xffffn) << 16n) | (parseNumber(from) & 0xffffn));
    return [slot(BPF_ALU64 | BPF_MOV | BPF_X, register(dst), register(src), 1, imm | 0)];
  }
  if (match(`${REG} = \\(s(8|16|32)\\)${REG}`)) {
    const [, prefix, dst, width, prefix2, src] = m!;
    if (prefix !== prefix2) throw new LineError('mixed r and w registers');
    return [slot(aluClass(prefix) | BPF_MOV | BPF_X, register(dst), register(src), Number(width), 0)];
  }
  if (match(`${REG} (\\+=|-=|\\*=|s/=|/=|\\|=|&=|<<=|s>>=|>>=|s%=|%=|\\^=|=) (?:${REG}|${NUM})`)) {
    const [, prefix, dst, opText, srcPrefix, src, imm] = m!;
    const { op, signed } = ALU_OPS[opText];
    const off = signed ? 1 : 0;
    if (src !== undefined) {
      if (srcPrefix !== prefix) throw new LineError('mixed r and w registers');
      return [slot(aluClass(prefix) | op | BPF_X, register(dst), register(src), off, 0)];
    }
    return [slot(aluClass(prefix) | op | BPF_K, register(dst), 0, off, imm32(imm))];
  }

  if (match(`\\.insn ${NUM},\\s*${NUM},\\s*${NUM},\\s*${NUM},\\s*${NUM}`)) {
    const [, code, dst, src, off, imm] = m!;
    const byte = (t: string, max: number, what: string): number => {
      const v = parseNumber(t);
      if (v < 0n || v > BigInt(max)) throw new LineError(`.insn ${what} ${t} is not 0..${max}`);
      return Number(v);
    };
    return [slot(byte(code, 0xff, 'code'), byte(dst, 15, 'dst'), byte(src, 15, 'src'), off16(off), imm32(imm))];
  }
  throw new LineError('not an instruction nicoff knows how to assemble');
}

/** Strip comments, the `N:` pc label and a trailing `<name>` jump label; lower-case hex is what LLVM prints. */
function instructionText(line: string): string {
  const comment = line.search(/;|#|\/\//);
  let text = comment >= 0 ? line.slice(0, comment) : line;
  text = text.replace(/^\s*\d+:/, '').replace(/\s*<[^<>]*>\s*$/, '');
  // Tabs separate ld_pseudo's mnemonic; everywhere else single spaces are what the printer writes.
  return text.trim().replace(/\s+/g, ' ').replace(/0X/g, '0x');
}

/**
 * Assemble a whole program. The result has one entry per slot, as
 * decodeProgram returns it (an ld_imm64 followed by its filler). A line that
 * does not parse is NC1026 naming the line number and its text.
 */
export function assembleProgram(text: string, where: AssembleWhere = {}): Insn[] {
  const insns: Insn[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const body = instructionText(lines[i]);
    if (body === '') continue;
    try {
      insns.push(...assembleLine(body));
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      fail(
        'NC1026',
        { line: i + 1, reason: `${e.message}: ${body}` },
        { ...(where.file ? { file: where.file } : {}), source: { file: where.file ?? '<input>', line: i + 1, text: lines[i] } },
      );
    }
  }
  return insns;
}

/**
 * Insn[] -> little-endian bytes, slot for slot. Unlike encodeProgram it lets
 * raw `.insn` slots through unchecked, so a program can carry a half
 * ld_imm64 or an unknown opcode to the kernel.
 */
export function encodeAssembled(insns: Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  for (let i = 0; i < insns.length; i++) {
    encodeSlot(out, i * 8, insns[i], 'le');
    if (insns[i].slots === 2 && i + 1 < insns.length) {
      encodeSlot(out, (i + 1) * 8, { ...insns[i + 1], imm: insns[i].imm2 ?? 0 }, 'le');
      i++;
    }
  }
  return out;
}
