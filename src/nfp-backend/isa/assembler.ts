/**
 * Reads the binutils-style text that disassembler.ts prints back into records
 * and words. One instruction per call; labels are numeric (`.3080`).
 */
import { fail } from '../../diagnostics/diagnostic.js';
import { encodeInsn } from './codec.js';
import { withEcc } from './ecc.js';
import {
  ALU_OPS,
  type AluOp,
  BRANCH_CONDITIONS,
  type BranchCondition,
  CMD_ACTIONS,
  type CmdAction,
  LOCAL_CSR_NAMES,
  MUL_STEPS,
  MUL_TYPES,
  type MulStep,
  type MulType,
  type NfpInsn,
  type NfpShift,
  SHIFT_ALU_OPS,
  type ShiftAluOp,
} from './instruction.js';
import { NO_OPERAND, type NfpOperand, parseNumber, parseOperand } from './operands.js';

interface ParsedText {
  mnemonic: string;
  args: string[];
  suffixes: string[];
}

/** Split on commas outside brackets. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

function splitInstruction(text: string, bad: (reason: string) => never): ParsedText {
  const open = text.indexOf('[');
  if (open < 0) return { mnemonic: text, args: [], suffixes: [] };
  let depth = 0;
  let close = -1;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '[') depth++;
    if (text[i] === ']' && --depth === 0) {
      close = i;
      break;
    }
  }
  if (close < 0) bad('unbalanced brackets');
  const rest = text.slice(close + 1).trim();
  if (rest !== '' && !rest.startsWith(',')) bad(`unexpected text after operands: ${rest}`);
  return {
    mnemonic: text.slice(0, open),
    args: splitTopLevel(text.slice(open + 1, close)),
    suffixes: rest === '' ? [] : splitTopLevel(rest.slice(1)),
  };
}

/** Parse one instruction's text into a record. */
export function parseInsn(text: string): NfpInsn {
  const source = text.trim();
  const bad = (reason: string): never => fail('NC6002', { text: source, reason });
  const { mnemonic, args, suffixes } = splitInstruction(source, bad);

  const remaining = new Set(suffixes);
  const takeFlag = (name: string): boolean => remaining.delete(name);
  const takeBracketed = (name: string): string | undefined => {
    for (const s of remaining) {
      const m = new RegExp(`^${name}\\[(.*)\\]$`).exec(s);
      if (m) {
        remaining.delete(s);
        return m[1];
      }
    }
    return undefined;
  };
  const takeDefer = (): number => {
    const d = takeBracketed('defer');
    return d === undefined ? 0 : number(d);
  };
  const wrboth = takeFlag('gpr_wrboth');
  const arity = (...counts: number[]): void => {
    if (!counts.includes(args.length)) bad(`expected ${counts.join(' or ')} operands, got ${args.length}`);
  };
  const operand = (t: string | undefined): NfpOperand => {
    const op = t === undefined ? undefined : parseOperand(t);
    return op ?? bad(`not an operand: ${t}`);
  };
  const number = (t: string | undefined): number => {
    const n = t === undefined ? undefined : parseNumber(t);
    return n ?? bad(`not a number: ${t}`);
  };
  const target = (t: string | undefined): number => {
    if (t === undefined || !t.startsWith('.')) return bad(`not a branch target: ${t}`);
    return number(t.slice(1));
  };
  const shift = (t: string | undefined, rightKind: 'right' | 'double-right'): NfpShift => {
    if (t === undefined) return { kind: 'rotate', amount: 0 };
    let m = /^>>rot(\d+)$/.exec(t);
    if (m) return { kind: 'rotate', amount: Number(m[1]) };
    m = /^(>>|<<)(indirect|\d+)$/.exec(t);
    if (!m) return bad(`not a shift: ${t}`);
    const amount = m[2] === 'indirect' ? 'indirect' : Number(m[2]);
    return m[1] === '<<' ? { kind: 'left', amount } : { kind: rightKind, amount };
  };

  const insn = ((): NfpInsn => {
    if (mnemonic === 'nop') {
      arity(0);
      return { format: 'nop' };
    }
    if (mnemonic === 'alu') {
      arity(4);
      const op = args[2] as AluOp;
      if (!(op in ALU_OPS)) bad(`unknown ALU operation ${args[2]}`);
      return { format: 'alu', op, dest: operand(args[0]), left: operand(args[1]), right: operand(args[3]), wrboth };
    }
    if (mnemonic === 'alu_shf') {
      arity(4, 5);
      const op = args[2] as ShiftAluOp;
      if (!SHIFT_ALU_OPS.includes(op)) bad(`unknown shift-ALU operation ${args[2]}`);
      return {
        format: 'alu_shf', op, dest: operand(args[0]), left: operand(args[1]), right: operand(args[3]),
        shift: shift(args[4], 'right'), wrboth,
      };
    }
    if (mnemonic === 'asr') {
      arity(3);
      return { format: 'alu_shf', op: 'asr', dest: operand(args[0]), left: NO_OPERAND, right: operand(args[1]), shift: shift(args[2], 'right'), wrboth };
    }
    if (mnemonic === 'dbl_shf') {
      arity(4);
      const s = shift(args[3], 'double-right');
      if (s.kind !== 'double-right') bad('dbl_shf shifts right');
      return { format: 'alu_shf', op: 'B', dest: operand(args[0]), left: operand(args[1]), right: operand(args[2]), shift: s, wrboth };
    }
    const immedForm = /^immed(?:_([bw])(\d))?$/.exec(mnemonic);
    if (immedForm) {
      arity(2, 3);
      const value = number(args[1]);
      const inverted = value > 0xffff;
      if (inverted && value >>> 16 !== 0xffff) bad(`immediate ${args[1]} is neither 16-bit nor an inverted 16-bit value`);
      let byteShift = 0;
      if (args[2] !== undefined) {
        const m = /^<<(8|16|24)$/.exec(args[2]);
        if (!m) bad(`not an immed shift: ${args[2]}`);
        byteShift = Number(m![1]) / 8;
      }
      const width = immedForm[1] === 'b' ? 'byte' : immedForm[1] === 'w' ? 'half' : 'word';
      if (immedForm[1] !== undefined) byteShift = immedForm[1] === 'w' ? Number(immedForm[2]) * 2 : Number(immedForm[2]);
      return {
        format: 'immed', dest: operand(args[0]), imm16: inverted ? ~value & 0xffff : value,
        width, byteShift, invert: inverted, wrboth,
      };
    }
    if (mnemonic === 'ld_field' || mnemonic === 'ld_field_w_clr') {
      arity(3, 4);
      if (!/^[01]{4}$/.test(args[1]!)) bad(`not a byte mask: ${args[1]}`);
      return {
        format: 'ld_field', target: operand(args[0]), byteMask: Number.parseInt(args[1]!, 2), source: operand(args[2]),
        shift: shift(args[3], 'right'), clearUnmasked: mnemonic === 'ld_field_w_clr', wrboth,
      };
    }
    if (mnemonic in BRANCH_CONDITIONS) {
      arity(1);
      return { format: 'br', condition: mnemonic as BranchCondition, target: target(args[0]), defer: takeDefer() };
    }
    if (mnemonic === 'br_bset' || mnemonic === 'br_bclr') {
      arity(3);
      return {
        format: 'br_bit', branchIfSet: mnemonic === 'br_bset', reg: operand(args[0]), bit: number(args[1]),
        target: target(args[2]), defer: takeDefer(),
      };
    }
    if (mnemonic === 'rtn') {
      arity(1);
      return { format: 'rtn', reg: operand(args[0]), defer: takeDefer() };
    }
    if (mnemonic === 'local_csr_rd' || mnemonic === 'local_csr_wr') {
      arity(mnemonic === 'local_csr_rd' ? 1 : 2);
      const named = [...LOCAL_CSR_NAMES].find(([, name]) => name === args[0]);
      const csr = named ? named[0] : number(args[0]);
      return mnemonic === 'local_csr_rd' ? { format: 'local_csr', csr } : { format: 'local_csr', csr, value: operand(args[1]) };
    }
    if (mnemonic === 'mul_step') {
      arity(2);
      const kind = [...remaining].find((s) => s === 'start' || /^\w+x\w+_\w+$/.test(s));
      if (kind === undefined) return bad('mul_step needs start or <type>_<step>');
      remaining.delete(kind);
      if (kind === 'start') return { format: 'mul_step', type: 'start', step: 'step1', left: operand(args[0]), right: operand(args[1]), wrboth };
      const [type, step] = kind.split('_') as [MulType, MulStep];
      if (!MUL_TYPES.includes(type) || !MUL_STEPS.includes(step)) bad(`unknown mul_step kind ${kind}`);
      if (step === 'last' || step === 'last2') {
        // binutils prints the absent destination as 0x0.
        const dest = args[0] === '0x0' ? NO_OPERAND : operand(args[0]);
        if (args[1] !== '--') bad(`${kind} takes -- as its second operand`);
        return { format: 'mul_step', type, step, left: dest, right: NO_OPERAND, wrboth };
      }
      return { format: 'mul_step', type, step, left: operand(args[0]), right: operand(args[1]), wrboth };
    }
    if (mnemonic === 'mem') return parseCmd(args, takeBracketed, takeFlag, operand, number, bad);
    return bad(`unknown mnemonic ${mnemonic}`);
  })();

  if (remaining.size > 0) bad(`unexpected suffix ${[...remaining].join(', ')}`);
  return insn;
}

function parseCmd(
  args: string[],
  takeBracketed: (name: string) => string | undefined,
  takeFlag: (name: string) => boolean,
  operand: (t: string | undefined) => NfpOperand,
  number: (t: string | undefined) => number,
  bad: (reason: string) => never,
): NfpInsn {
  if (args.length !== 5 && args.length !== 6) bad(`expected 5 or 6 operands for mem[], got ${args.length}`);
  const action = args[0] as CmdAction;
  if (!(action in CMD_ACTIONS)) bad(`unknown command ${args[0]}`);
  const xfer = /^\$xfer_(\d+)$/.exec(args[1]!);
  if (!xfer) bad(`not a transfer register: ${args[1]}`);
  let addressMode: 0 | 1 | 4 = 4;
  let a: NfpOperand;
  let b: NfpOperand;
  if (args.length === 5) {
    a = operand(args[2]);
    b = operand(args[3]);
  } else {
    if (args[3] !== '<<8') bad(`expected <<8, got ${args[3]}`);
    const first = operand(args[2]);
    const second = operand(args[4]);
    // "X, <<8, Y" is mode 0 (X in the A field) or mode 1 (X in the B field); the GPR banks tell which.
    const firstInB = (first.kind === 'gpr' && first.bank === 'B') || (second.kind === 'gpr' && second.bank === 'A');
    addressMode = firstInB ? 1 : 0;
    [a, b] = firstInB ? [second, first] : [first, second];
  }
  const signalText = takeBracketed('ctx_swap');
  const deferText = takeBracketed('defer');
  let ctxSwap = 3;
  let signal = 0;
  if (signalText !== undefined) {
    const m = /^sig(\d+)$/.exec(signalText);
    if (!m) bad(`not a signal: ${signalText}`);
    signal = Number(m![1]);
    ctxSwap = deferText === undefined ? 0 : number(deferText);
    if (ctxSwap !== 0 && ctxSwap !== 1 && ctxSwap !== 2) bad(`ctx_swap defer must be 1 or 2, got ${deferText}`);
  } else if (deferText !== undefined) {
    bad('defer[] on a command needs ctx_swap[]');
  }
  return {
    format: 'cmd', action, xfer: Number(xfer![1]), addressMode, a, b, length: number(args[args.length - 1]),
    ctxSwap, signal, indirectRef: takeFlag('indirect_ref'),
  };
}

/** Assemble one instruction's text into a 45-bit body (no ECC). */
export function assembleBody(text: string): bigint {
  return encodeInsn(parseInsn(text));
}

/** Assemble one instruction's text into a loaded word (body + ECC). */
export function assembleWord(text: string): bigint {
  return withEcc(assembleBody(text));
}
