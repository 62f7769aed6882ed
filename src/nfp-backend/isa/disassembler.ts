/**
 * Text form of NfpInsn records, matching the binutils nfp-dis.c output for
 * NFP-6xxx in 4-context mode (the syntax of shared/nfp-golden), checked word
 * for word against binutils' objdump by test/nfp-backend/binutils-oracle.test.ts.
 */
import { decodeInsn } from './codec.js';
import {
  BRANCH_INPUT_STATES,
  type CmdInsn,
  CRC_BYTES,
  LOCAL_CSR_NAMES,
  type NfpInsn,
  type NfpShift,
  USTORE_CSR,
} from './instruction.js';
import { formatHex, formatOperand } from './operands.js';

/**
 * Shift text. ALU_SHF always prints a rotate (`>>rot0` too); LD_FIELD prints
 * nothing for rotate 0 and `>>dblN` for its double-shift class.
 */
export function formatShift(shift: NfpShift, context: 'alu_shf' | 'ld_field' = 'alu_shf'): string {
  switch (shift.kind) {
    case 'rotate':
      return context === 'ld_field' && shift.amount === 0 ? '' : `>>rot${shift.amount}`;
    case 'right':
      return `>>${shift.amount}`;
    case 'double-right':
      return context === 'ld_field' ? `>>dbl${shift.amount === 'indirect' ? 0 : shift.amount}` : `>>${shift.amount}`;
    case 'left':
      return `<<${shift.amount}`;
  }
}

export function formatCsr(csr: number): string {
  return LOCAL_CSR_NAMES.get(csr) ?? formatHex(csr);
}

/** Immediate text value: binutils shows an inverted immediate as 0xffff0000 | ~imm16. */
function immedValue(imm16: number, invert: boolean): number {
  return invert ? (0xffff0000 | (~imm16 & 0xffff)) >>> 0 : imm16;
}

function immedMnemonic(insn: Extract<NfpInsn, { format: 'immed' }>): string {
  if (insn.width === 'word') return 'immed';
  if (insn.width === 'byte') return `immed_b${insn.byteShift}`;
  return `immed_w${insn.byteShift >> 1}`;
}

function args(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(', ');
}

function suffixes(base: string, ...parts: string[]): string {
  return [base, ...parts.filter((p) => p !== '')].join(', ');
}

function deferSuffix(defer: number): string {
  return defer === 0 ? '' : `defer[${defer}]`;
}

/** `no_cc`, `gpr_wrboth`, `predicate_cc` in binutils' order. */
function aluSuffixes(insn: { wrboth: boolean; noCc?: boolean; predicateCc?: boolean }): string[] {
  return [insn.noCc ? 'no_cc' : '', insn.wrboth ? 'gpr_wrboth' : '', insn.predicateCc ? 'predicate_cc' : ''];
}

/** The text of a branch condition's state field (conditions 16-23). */
export function formatBranchState(condition: string, state: number): string {
  if (condition.endsWith('inp_state')) return BRANCH_INPUT_STATES[state] ?? String(state);
  if (condition.endsWith('cls_state')) return `cls_ring${state}_status`;
  return String(state);
}

export function formatInsn(insn: NfpInsn): string {
  const op = formatOperand;
  switch (insn.format) {
    case 'nop':
      return 'nop';
    case 'alu': {
      let text: string;
      if (insn.op === 'pop_count1' || insn.op === 'pop_count2') text = `${insn.op}[${op(insn.right)}]`;
      else if (insn.op === 'pop_count3' || insn.op === 'ffs' || insn.op === 'cam_read_tag' || insn.op === 'cam_read_state') {
        text = `${insn.op}[${args(op(insn.dest), op(insn.right))}]`;
      } else text = `alu[${args(op(insn.dest), op(insn.left), insn.op, op(insn.right))}]`;
      return suffixes(text, ...aluSuffixes(insn));
    }
    case 'cam': {
      let text: string;
      switch (insn.op) {
        case 'cam_clear':
          text = 'cam_clear';
          break;
        case 'cam_lookup':
          text = `cam_lookup[${args(op(insn.dest), op(insn.tag))}]`;
          if (insn.lmAddress) text += `, lm_addr${insn.lmAddress.pointer}[${insn.lmAddress.index}]`;
          break;
        case 'cam_write':
          text = `cam_write[${args(op(insn.entry), op(insn.tag), String(insn.state))}]`;
          break;
        case 'cam_write_state':
          text = `cam_write_state[${args(op(insn.entry), String(insn.state))}]`;
          break;
      }
      return suffixes(text, ...aluSuffixes(insn));
    }
    case 'crc': {
      const text = `crc_${insn.endian}[${args(insn.op, op(insn.dest), op(insn.source))}]`;
      const bytes = insn.bytes === CRC_BYTES[0] ? '' : insn.bytes;
      return suffixes(text, bytes, insn.bitSwap ? 'bit_swap' : '', ...aluSuffixes(insn));
    }
    case 'alu_shf': {
      const shift = formatShift(insn.shift);
      let text: string;
      if (insn.op === 'byte_align') {
        text = insn.shift.kind === 'left' ? `byte_align_le[${args(op(insn.dest), op(insn.left))}]` : `byte_align_be[${args(op(insn.dest), op(insn.right))}]`;
      } else if (insn.shift.kind === 'double-right') {
        const a = insn.op === 'asr' ? '' : op(insn.left);
        text = `dbl_shf[${args(op(insn.dest), a, op(insn.right), shift)}]`;
      }
      else if (insn.op === 'asr') text = `asr[${args(op(insn.dest), op(insn.right), shift)}]`;
      else text = `alu_shf[${args(op(insn.dest), op(insn.left), insn.op, op(insn.right), shift)}]`;
      return suffixes(text, ...aluSuffixes(insn));
    }
    case 'immed': {
      const shift = insn.width === 'word' && insn.byteShift > 0 ? `<<${8 * insn.byteShift}` : '';
      const value = formatHex(immedValue(insn.imm16, insn.invert));
      return suffixes(`${immedMnemonic(insn)}[${args(op(insn.dest), value, shift)}]`, insn.wrboth ? 'gpr_wrboth' : '', insn.predicateCc ? 'predicate_cc' : '');
    }
    case 'ld_field': {
      const name = insn.clearUnmasked ? 'ld_field_w_clr' : 'ld_field';
      const mask = insn.byteMask.toString(2).padStart(4, '0');
      const text = `${name}[${args(op(insn.target), mask, op(insn.source), formatShift(insn.shift, 'ld_field'))}]`;
      return suffixes(text, insn.loadCc ? 'load_cc' : '', insn.wrboth ? 'gpr_wrboth' : '', insn.predicateCc ? 'predicate_cc' : '');
    }
    case 'br': {
      const state = insn.state === undefined ? '' : formatBranchState(insn.condition, insn.state);
      return suffixes(`${insn.condition}[${args(state, `.${insn.target}`)}]`, deferSuffix(insn.defer));
    }
    case 'br_byte': {
      const name = insn.equal ? 'br=byte' : 'br!=byte';
      return suffixes(`${name}[${args(op(insn.reg), String(insn.byte), op(insn.value), `.${insn.target}`)}]`, deferSuffix(insn.defer));
    }
    case 'br_bit': {
      const name = insn.branchIfSet ? 'br_bset' : 'br_bclr';
      return suffixes(`${name}[${args(op(insn.reg), String(insn.bit), `.${insn.target}`)}]`, deferSuffix(insn.defer));
    }
    case 'rtn':
      return suffixes(`rtn[${op(insn.reg)}]`, deferSuffix(insn.defer));
    case 'jump':
      return suffixes(`jump[${args(op(insn.reg), `.${insn.target}`)}]`, deferSuffix(insn.defer));
    case 'ctx_arb': {
      const events = typeof insn.events === 'string' ? insn.events : insn.events.map((s) => `sig${s}`).join(', ');
      return suffixes(
        `ctx_arb[${events}]`,
        insn.any ? 'any' : '',
        insn.resume === undefined ? '' : `br[.${insn.resume}]`,
        deferSuffix(insn.defer),
      );
    }
    case 'local_csr':
      if (insn.csr === USTORE_CSR) {
        // binutils shows CSR 0x004 as the NFP-32xx code-store access; a read shows its (unused) A field.
        return insn.value === undefined ? 'urd[gprA_0, *u$index0++]' : `uwr[*u$index0++, ${op(insn.value)}]`;
      }
      return insn.value === undefined
        ? `local_csr_rd[${formatCsr(insn.csr)}]`
        : `local_csr_wr[${args(formatCsr(insn.csr), op(insn.value))}]`;
    case 'mul_step': {
      let text: string;
      if (insn.type === 'start') {
        text = `mul_step[${args(op(insn.left), op(insn.right))}], start`;
      } else if (insn.step === 'last' || insn.step === 'last2') {
        // binutils prints a missing product destination (0x300) as 0x0.
        const dest = insn.left.kind === 'none' ? '0x0' : op(insn.left);
        text = `mul_step[${dest}, --], ${insn.type}_${insn.step}`;
      } else {
        text = `mul_step[${args(op(insn.left), op(insn.right))}], ${insn.type}_${insn.step}`;
      }
      return suffixes(text, ...aluSuffixes(insn));
    }
    case 'cmd':
      return formatCmd(insn);
  }
}

function formatCmd(insn: CmdInsn): string {
  const op = formatOperand;
  const mode = insn.addressMode;
  const length = String(insn.length);
  let operands: string[];
  switch (mode) {
    case 0:
    case 1:
    case 2:
    case 3: {
      // Modes 2/3 (accelerated third party) show indirect_ref << 6 | xfer where 0/1 show the xfer register.
      const first = mode <= 1 ? `$xfer_${insn.xfer}` : formatHex(((insn.indirectRef ? 1 : 0) << 6) | insn.xfer);
      const [hi, lo] = mode === 0 || mode === 2 ? [insn.a, insn.b] : [insn.b, insn.a];
      operands = [first, op(hi), '<<8', op(lo), length];
      break;
    }
    case 4:
      operands = [`$xfer_${insn.xfer}`, op(insn.a), op(insn.b), length];
      break;
    case 5:
      operands = [`$xfer_${insn.xfer}`, formatHex(insn.address ?? 0), length];
      break;
    case 6:
      operands = [formatHex(insn.address ?? 0), formatHex(insn.data ?? 0)];
      break;
    default:
      operands = [formatHex(insn.xfer * 0x10000 + (insn.address ?? 0)), '--', length];
      break;
  }
  const text = `${insn.target}[${[insn.action, ...operands].join(', ')}]`;
  const indirect = insn.indirectRef && mode !== 2 && mode !== 3 ? 'indirect_ref' : '';
  let swap = '';
  let defer = '';
  if (insn.ctxSwap !== 3) {
    swap = `ctx_swap[${insn.signal === 0 ? '--' : `sig${insn.signal}`}]`;
    defer = deferSuffix(insn.ctxSwap);
  } else if (insn.signal !== 0) {
    swap = `sig_done[sig${insn.signal}]`;
  }
  return suffixes(text, indirect, swap, defer);
}

/** Decode and print one word (loaded or raw form). */
export function disassembleWord(word: bigint): string {
  return formatInsn(decodeInsn(word));
}
