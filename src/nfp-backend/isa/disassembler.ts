/**
 * Text form of NfpInsn records, matching the binutils nfp-dis.c output for
 * NFP-6xxx in 4-context mode (the syntax of shared/nfp-golden).
 */
import { fail } from '../../diagnostics/diagnostic.js';
import { decodeInsn } from './codec.js';
import { LOCAL_CSR_NAMES, type NfpInsn, type NfpShift } from './instruction.js';
import { formatHex, formatOperand, type NfpOperand } from './operands.js';

export function formatShift(shift: NfpShift): string {
  switch (shift.kind) {
    case 'rotate':
      // Rotate by 0 is "no shift" and prints nothing.
      return shift.amount === 0 ? '' : `>>rot${shift.amount}`;
    case 'right':
    case 'double-right':
      return `>>${shift.amount}`;
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
  if (insn.byteShift === 0) return 'immed_w0';
  if (insn.byteShift === 2) return 'immed_w1';
  return fail('NC6003', { format: 'immed', reason: `16-bit immed with byte shift ${insn.byteShift} has no text form` });
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

function wrbothSuffix(wrboth: boolean): string {
  return wrboth ? 'gpr_wrboth' : '';
}

export function formatInsn(insn: NfpInsn): string {
  const op = formatOperand;
  switch (insn.format) {
    case 'nop':
      return 'nop';
    case 'alu':
      return suffixes(`alu[${args(op(insn.dest), op(insn.left), insn.op, op(insn.right))}]`, wrbothSuffix(insn.wrboth));
    case 'alu_shf': {
      const shift = formatShift(insn.shift);
      let text: string;
      if (insn.shift.kind === 'double-right') text = `dbl_shf[${args(op(insn.dest), op(insn.left), op(insn.right), shift)}]`;
      else if (insn.op === 'asr') text = `asr[${args(op(insn.dest), op(insn.right), shift)}]`;
      else text = `alu_shf[${args(op(insn.dest), op(insn.left), insn.op, op(insn.right), shift)}]`;
      return suffixes(text, wrbothSuffix(insn.wrboth));
    }
    case 'immed': {
      const shift = insn.width === 'word' && insn.byteShift > 0 ? `<<${8 * insn.byteShift}` : '';
      const value = formatHex(immedValue(insn.imm16, insn.invert));
      return suffixes(`${immedMnemonic(insn)}[${args(op(insn.dest), value, shift)}]`, wrbothSuffix(insn.wrboth));
    }
    case 'ld_field': {
      const name = insn.clearUnmasked ? 'ld_field_w_clr' : 'ld_field';
      const mask = insn.byteMask.toString(2).padStart(4, '0');
      const text = `${name}[${args(op(insn.target), mask, op(insn.source), formatShift(insn.shift))}]`;
      return suffixes(text, wrbothSuffix(insn.wrboth));
    }
    case 'br':
      return suffixes(`${insn.condition}[.${insn.target}]`, deferSuffix(insn.defer));
    case 'br_bit': {
      const name = insn.branchIfSet ? 'br_bset' : 'br_bclr';
      return suffixes(`${name}[${args(op(insn.reg), String(insn.bit), `.${insn.target}`)}]`, deferSuffix(insn.defer));
    }
    case 'rtn':
      return suffixes(`rtn[${op(insn.reg)}]`, deferSuffix(insn.defer));
    case 'local_csr':
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
      return suffixes(text, wrbothSuffix(insn.wrboth));
    }
    case 'cmd': {
      const addr = cmdAddress(insn.addressMode, insn.a, insn.b);
      const text = `mem[${args(insn.action, `$xfer_${insn.xfer}`, ...addr, String(insn.length))}]`;
      const swap = insn.ctxSwap === 3 ? '' : `ctx_swap[sig${insn.signal}]`;
      const defer = insn.ctxSwap === 1 || insn.ctxSwap === 2 ? `defer[${insn.ctxSwap}]` : '';
      return suffixes(text, swap, defer, insn.indirectRef ? 'indirect_ref' : '');
    }
  }
}

function cmdAddress(mode: 0 | 1 | 4, a: NfpOperand, b: NfpOperand): string[] {
  if (mode === 4) return [formatOperand(a), formatOperand(b)];
  if (mode === 1) return [formatOperand(b), '<<8', formatOperand(a)];
  return [formatOperand(a), '<<8', formatOperand(b)];
}

/** Decode and print one word (loaded or raw form). */
export function disassembleWord(word: bigint): string {
  return formatInsn(decodeInsn(word));
}
