/**
 * Reads the binutils-style text that disassembler.ts prints back into records
 * and words. One instruction per call; labels are numeric (`.3080`).
 */
import { fail } from '../../diagnostics/diagnostic.js';
import { encodeInsn } from './codec.js';
import { withEcc } from './ecc.js';
import {
  ALU_OPS,
  ALU_UNARY_OPS,
  type AluOp,
  BRANCH_CONDITIONS,
  BRANCH_INPUT_STATES,
  type BranchCondition,
  branchHasState,
  CAM_OPS,
  type CamOp,
  CMD_TARGETS,
  type CmdTarget,
  CRC_BYTES,
  CRC_OPS,
  type CrcBytes,
  type CrcOp,
  type CtxArbEvents,
  LOCAL_CSR_NAMES,
  MUL_STEPS,
  MUL_TYPES,
  type MulStep,
  type MulType,
  type NfpInsn,
  type NfpShift,
  SHIFT_ALU_OPS,
  type ShiftAluOp,
  USTORE_CSR,
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
  const comma = text.indexOf(',');
  // No operand list (nop, cam_clear): everything after the first comma is a suffix.
  if (open < 0 || (comma >= 0 && comma < open)) {
    if (comma < 0) return { mnemonic: text, args: [], suffixes: [] };
    return { mnemonic: text.slice(0, comma).trim(), args: [], suffixes: splitTopLevel(text.slice(comma + 1)) };
  }
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

/** Helpers over one instruction's suffix list; each suffix may be taken once. */
class Suffixes {
  private readonly remaining: Set<string>;
  constructor(list: string[]) {
    this.remaining = new Set(list);
  }
  flag(name: string): boolean {
    return this.remaining.delete(name);
  }
  /** `name[...]`: the bracket contents, if present. */
  bracketed(name: string): string | undefined {
    for (const s of this.remaining) {
      if (s.startsWith(`${name}[`) && s.endsWith(']')) {
        this.remaining.delete(s);
        return s.slice(name.length + 1, -1);
      }
    }
    return undefined;
  }
  /** The first remaining suffix matching `re`. */
  match(re: RegExp): RegExpExecArray | undefined {
    for (const s of this.remaining) {
      const m = re.exec(s);
      if (m) {
        this.remaining.delete(s);
        return m;
      }
    }
    return undefined;
  }
  left(): string[] {
    return [...this.remaining];
  }
}

/** Parse one instruction's text into a record. */
export function parseInsn(text: string): NfpInsn {
  const source = text.trim();
  const bad = (reason: string): never => fail('NC6002', { text: source, reason });
  const { mnemonic, args, suffixes: suffixList } = splitInstruction(source, bad);
  const sfx = new Suffixes(suffixList);

  const number = (t: string | undefined): number => {
    const n = t === undefined ? undefined : parseNumber(t);
    return n ?? bad(`not a number: ${t}`);
  };
  const takeDefer = (): number => {
    const d = sfx.bracketed('defer');
    return d === undefined ? 0 : number(d);
  };
  /** no_cc, gpr_wrboth, predicate_cc (present only when written). */
  const ccFlags = (): { wrboth: boolean; noCc?: true; predicateCc?: true } => ({
    wrboth: sfx.flag('gpr_wrboth'),
    ...(sfx.flag('no_cc') ? { noCc: true as const } : {}),
    ...(sfx.flag('predicate_cc') ? { predicateCc: true as const } : {}),
  });
  const arity = (...counts: number[]): void => {
    if (!counts.includes(args.length)) bad(`expected ${counts.join(' or ')} operands, got ${args.length}`);
  };
  const operand = (t: string | undefined): NfpOperand => {
    const op = t === undefined ? undefined : parseOperand(t);
    return op ?? bad(`not an operand: ${t}`);
  };
  const target = (t: string | undefined): number => {
    if (t === undefined || !t.startsWith('.')) return bad(`not a branch target: ${t}`);
    return number(t.slice(1));
  };
  const shift = (t: string | undefined, rightKind: 'right' | 'double-right'): NfpShift => {
    if (t === undefined) return { kind: 'rotate', amount: 0 };
    let m = /^>>rot(\d+)$/.exec(t);
    if (m) return { kind: 'rotate', amount: Number(m[1]) };
    m = /^>>dbl(\d+)$/.exec(t);
    if (m) return { kind: 'double-right', amount: Number(m[1]) === 0 ? 'indirect' : Number(m[1]) };
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
      return { format: 'alu', op, dest: operand(args[0]), left: operand(args[1]), right: operand(args[3]), ...ccFlags() };
    }
    if (mnemonic in ALU_UNARY_OPS) {
      const noDest = mnemonic === 'pop_count1' || mnemonic === 'pop_count2';
      arity(noDest ? 1 : 2);
      const dest = noDest ? NO_OPERAND : operand(args[0]);
      return { format: 'alu', op: mnemonic as AluOp, dest, left: NO_OPERAND, right: operand(args[noDest ? 0 : 1]), ...ccFlags() };
    }
    if (mnemonic in CAM_OPS) return parseCam(mnemonic as CamOp);
    if (mnemonic === 'crc_be' || mnemonic === 'crc_le') {
      arity(3);
      const op = args[0] as CrcOp;
      if (!(op in CRC_OPS)) bad(`unknown CRC operation ${args[0]}`);
      const bytes = (sfx.match(/^(bytes?_\d(?:_\d)?)$/)?.[1] ?? CRC_BYTES[0]) as CrcBytes;
      if (!CRC_BYTES.includes(bytes)) bad(`unknown CRC byte selection ${bytes}`);
      return {
        format: 'crc', endian: mnemonic === 'crc_le' ? 'le' : 'be', op, dest: operand(args[1]), source: operand(args[2]),
        bytes, bitSwap: sfx.flag('bit_swap'), ...ccFlags(),
      };
    }
    if (mnemonic === 'alu_shf') {
      arity(4, 5);
      const op = args[2] as ShiftAluOp;
      if (!SHIFT_ALU_OPS.includes(op) || op === 'asr' || op === 'byte_align') bad(`unknown shift-ALU operation ${args[2]}`);
      return {
        format: 'alu_shf', op, dest: operand(args[0]), left: operand(args[1]), right: operand(args[3]),
        shift: shift(args[4], 'right'), ...ccFlags(),
      };
    }
    if (mnemonic === 'asr') {
      arity(3);
      return { format: 'alu_shf', op: 'asr', dest: operand(args[0]), left: NO_OPERAND, right: operand(args[1]), shift: shift(args[2], 'right'), ...ccFlags() };
    }
    if (mnemonic === 'dbl_shf') {
      // Four operands: operation B; three (no A operand): operation asr.
      arity(3, 4);
      const asr = args.length === 3;
      const s = shift(args[args.length - 1], 'double-right');
      if (s.kind !== 'double-right') bad('dbl_shf shifts right');
      return {
        format: 'alu_shf', op: asr ? 'asr' : 'B', dest: operand(args[0]), left: asr ? NO_OPERAND : operand(args[1]),
        right: operand(args[asr ? 1 : 2]), shift: s, ...ccFlags(),
      };
    }
    if (mnemonic === 'byte_align_be' || mnemonic === 'byte_align_le') {
      arity(2);
      const le = mnemonic === 'byte_align_le';
      const src = operand(args[1]);
      return {
        format: 'alu_shf', op: 'byte_align', dest: operand(args[0]), left: le ? src : NO_OPERAND, right: le ? NO_OPERAND : src,
        shift: { kind: le ? 'left' : 'right', amount: 'indirect' }, ...ccFlags(),
      };
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
        width, byteShift, invert: inverted, wrboth: sfx.flag('gpr_wrboth'),
        ...(sfx.flag('predicate_cc') ? { predicateCc: true } : {}),
      };
    }
    if (mnemonic === 'ld_field' || mnemonic === 'ld_field_w_clr') {
      arity(3, 4);
      if (!/^[01]{4}$/.test(args[1]!)) bad(`not a byte mask: ${args[1]}`);
      return {
        format: 'ld_field', target: operand(args[0]), byteMask: Number.parseInt(args[1]!, 2), source: operand(args[2]),
        shift: shift(args[3], 'right'), clearUnmasked: mnemonic === 'ld_field_w_clr', wrboth: sfx.flag('gpr_wrboth'),
        ...(sfx.flag('load_cc') ? { loadCc: true } : {}),
        ...(sfx.flag('predicate_cc') ? { predicateCc: true } : {}),
      };
    }
    if (mnemonic in BRANCH_CONDITIONS) {
      const condition = mnemonic as BranchCondition;
      if (!branchHasState(condition)) {
        arity(1);
        return { format: 'br', condition, target: target(args[0]), defer: takeDefer() };
      }
      arity(2);
      return { format: 'br', condition, state: branchState(condition, args[0]!), target: target(args[1]), defer: takeDefer() };
    }
    if (mnemonic === 'br=byte' || mnemonic === 'br!=byte') {
      arity(4);
      return {
        format: 'br_byte', equal: mnemonic === 'br=byte', reg: operand(args[0]), byte: number(args[1]), value: operand(args[2]),
        target: target(args[3]), defer: takeDefer(),
      };
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
    if (mnemonic === 'jump') {
      arity(2);
      return { format: 'jump', reg: operand(args[0]), target: target(args[1]), defer: takeDefer() };
    }
    if (mnemonic === 'ctx_arb') {
      let events: CtxArbEvents;
      if (args.length === 1 && ['kill', 'voluntary', 'bpt', '--'].includes(args[0]!)) events = args[0] as CtxArbEvents;
      else {
        if (args.length === 0) bad('ctx_arb needs events');
        events = args.map((a) => Number(/^sig(\d+)$/.exec(a)?.[1] ?? bad(`not a signal: ${a}`)));
      }
      const resume = sfx.bracketed('br');
      const insn: NfpInsn = { format: 'ctx_arb', events, any: sfx.flag('any'), defer: takeDefer() };
      if (resume !== undefined) insn.resume = target(resume);
      return insn;
    }
    if (mnemonic === 'local_csr_rd' || mnemonic === 'local_csr_wr') {
      arity(mnemonic === 'local_csr_rd' ? 1 : 2);
      const named = [...LOCAL_CSR_NAMES].find(([, name]) => name === args[0]);
      const csr = named ? named[0] : number(args[0]);
      return mnemonic === 'local_csr_rd' ? { format: 'local_csr', csr } : { format: 'local_csr', csr, value: operand(args[1]) };
    }
    if (mnemonic === 'urd' || mnemonic === 'uwr') {
      // binutils' rendering of a local_csr access to CSR 0x004 (see disassembler.ts).
      arity(2);
      const ustore = mnemonic === 'urd' ? args[1] : args[0];
      if (ustore !== '*u$index0++') bad(`expected *u$index0++, got ${ustore}`);
      if (mnemonic === 'urd') {
        if (args[0] !== 'gprA_0') bad('urd reads into gprA_0 only (the field a CSR read leaves 0)');
        return { format: 'local_csr', csr: USTORE_CSR };
      }
      return { format: 'local_csr', csr: USTORE_CSR, value: operand(args[1]) };
    }
    if (mnemonic === 'mul_step') {
      arity(2);
      const kind = sfx.match(/^(start|\w+x\w+_\w+)$/)?.[1];
      if (kind === undefined) return bad('mul_step needs start or <type>_<step>');
      const flags = ccFlags();
      if (kind === 'start') {
        // binutils prints a start whose step field says last/last2 as `mul_step[X, --], start`;
        // that is no multiply sequence step, and nicoff refuses such words.
        if (args[1] === '--') bad('mul_step start takes two sources');
        return { format: 'mul_step', type: 'start', step: 'step1', left: operand(args[0]), right: operand(args[1]), ...flags };
      }
      const [type, step] = kind.split('_') as [MulType, MulStep];
      if (!MUL_TYPES.includes(type) || !MUL_STEPS.includes(step)) bad(`unknown mul_step kind ${kind}`);
      if (step === 'last' || step === 'last2') {
        // binutils prints the absent destination as 0x0.
        const dest = args[0] === '0x0' ? NO_OPERAND : operand(args[0]);
        if (args[1] !== '--') bad(`${kind} takes -- as its second operand`);
        return { format: 'mul_step', type, step, left: dest, right: NO_OPERAND, ...flags };
      }
      return { format: 'mul_step', type, step, left: operand(args[0]), right: operand(args[1]), ...flags };
    }
    if ((CMD_TARGETS as readonly string[]).includes(mnemonic)) return parseCmd(mnemonic as CmdTarget);
    return bad(`unknown mnemonic ${mnemonic}`);
  })();

  function branchState(condition: BranchCondition, t: string): number {
    if (condition.endsWith('inp_state')) {
      const i = BRANCH_INPUT_STATES.indexOf(t);
      return i >= 0 ? i : bad(`unknown input state ${t}`);
    }
    if (condition.endsWith('cls_state')) {
      const m = /^cls_ring(\d+)_status$/.exec(t);
      return m ? Number(m[1]) : bad(`not a CLS ring state: ${t}`);
    }
    return number(t);
  }

  function parseCam(op: CamOp): NfpInsn {
    const base = { format: 'cam' as const, op, dest: NO_OPERAND, tag: NO_OPERAND, entry: NO_OPERAND, state: 0 };
    switch (op) {
      case 'cam_clear':
        arity(0);
        return { ...base, ...ccFlags() };
      case 'cam_lookup': {
        arity(2);
        const lm = sfx.match(/^lm_addr(\d)\[(\d)\]$/);
        const insn: NfpInsn = { ...base, dest: operand(args[0]), tag: operand(args[1]), ...ccFlags() };
        if (lm) insn.lmAddress = { pointer: Number(lm[1]), index: Number(lm[2]) };
        return insn;
      }
      case 'cam_write':
        arity(3);
        return { ...base, entry: operand(args[0]), tag: operand(args[1]), state: number(args[2]), ...ccFlags() };
      case 'cam_write_state':
        arity(2);
        return { ...base, entry: operand(args[0]), state: number(args[1]), ...ccFlags() };
    }
  }

  function parseCmd(cmdTarget: CmdTarget): NfpInsn {
    if (args.length < 3) bad(`expected a command and its operands, got ${args.length} operands`);
    const [action, ...rest] = args as [string, ...string[]];
    const xferOf = (t: string | undefined): number => {
      const m = t === undefined ? null : /^\$xfer_(\d+)$/.exec(t);
      return m ? Number(m[1]) : bad(`not a transfer register: ${t}`);
    };
    const base = {
      format: 'cmd' as const, target: cmdTarget, action, xfer: 0, a: NO_OPERAND, b: NO_OPERAND, length: 1,
    };
    let fields: Omit<Extract<NfpInsn, { format: 'cmd' }>, 'ctxSwap' | 'signal' | 'indirectRef'>;
    let indirectInOperand: boolean | undefined;
    if (rest.length === 5) {
      // "X, <<8, Y": modes 0/2 put X in the A field, 1/3 in the B field; the GPR banks tell which.
      if (rest[2] !== '<<8') bad(`expected <<8, got ${rest[2]}`);
      const third = !rest[0]!.startsWith('$');
      const first = operand(rest[1]);
      const second = operand(rest[3]);
      const firstInB = (first.kind === 'gpr' && first.bank === 'B') || (second.kind === 'gpr' && second.bank === 'A');
      const [a, b] = firstInB ? [second, first] : [first, second];
      let xfer: number;
      if (third) {
        const v = number(rest[0]);
        if (v > 0x7f) bad(`${rest[0]} is not indirect_ref << 6 | xfer`);
        xfer = v & 0x3f;
        indirectInOperand = v >= 0x40;
      } else xfer = xferOf(rest[0]);
      fields = { ...base, addressMode: (third ? 2 : 0) + (firstInB ? 1 : 0), xfer, a, b, length: number(rest[4]) };
    } else if (rest.length === 4) {
      fields = { ...base, addressMode: 4, xfer: xferOf(rest[0]), a: operand(rest[1]), b: operand(rest[2]), length: number(rest[3]) };
    } else if (rest.length === 3 && rest[1] === '--') {
      const v = number(rest[0]);
      fields = { ...base, addressMode: 7, xfer: Math.floor(v / 0x10000), address: v & 0xffff, length: number(rest[2]) };
    } else if (rest.length === 3) {
      fields = { ...base, addressMode: 5, xfer: xferOf(rest[0]), address: number(rest[1]), length: number(rest[2]) };
    } else if (rest.length === 2) {
      fields = { ...base, addressMode: 6, address: number(rest[0]), data: number(rest[1]) };
    } else {
      return bad(`expected 2 to 6 operands for ${cmdTarget}[], got ${args.length}`);
    }
    const indirectSuffix = sfx.flag('indirect_ref');
    if (indirectInOperand !== undefined && indirectSuffix) bad('modes 2/3 carry indirect_ref in their first operand');
    const signalText = sfx.bracketed('ctx_swap');
    const deferText = sfx.bracketed('defer');
    const doneText = sfx.bracketed('sig_done');
    let ctxSwap = 3;
    let signal = 0;
    const signalOf = (t: string): number => {
      const m = /^sig(\d+)$/.exec(t);
      return m ? Number(m[1]) : bad(`not a signal: ${t}`);
    };
    if (signalText !== undefined) {
      if (doneText !== undefined) bad('ctx_swap[] and sig_done[] exclude each other');
      signal = signalText === '--' ? 0 : signalOf(signalText);
      ctxSwap = deferText === undefined ? 0 : number(deferText);
      if (ctxSwap !== 0 && ctxSwap !== 1 && ctxSwap !== 2) bad(`ctx_swap defer must be 1 or 2, got ${deferText}`);
    } else {
      if (deferText !== undefined) bad('defer[] on a command needs ctx_swap[]');
      if (doneText !== undefined) {
        signal = signalOf(doneText);
        if (signal === 0) bad('sig_done[] needs a signal 1..15');
      }
    }
    return { ...fields, ctxSwap, signal, indirectRef: indirectInOperand ?? indirectSuffix };
  }

  const unknown = sfx.left();
  if (unknown.length > 0) bad(`unexpected suffix ${unknown.join(', ')}`);
  return insn;
}

/** Assemble one instruction's text into a 45-bit body (no ECC). */
export function assembleBody(text: string): bigint {
  return encodeInsn(parseInsn(text));
}

/** Assemble one instruction's text into a loaded word (body + ECC). */
export function assembleWord(text: string): bigint {
  return withEcc(assembleBody(text));
}
