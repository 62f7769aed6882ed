/**
 * Rules both engines (interpreter and block translator) apply in the same
 * order with the same messages, so their results and faults are identical:
 * what is not simulated (NC6041), what a defer slot may hold (NC6051), the
 * local_csr_rd -> immed pairing (NC6049), side-channel producers (NC6048),
 * LM windows (NC6054), branch shadow cycles, immed and ld_field values.
 */
import { formatInsn } from '../isa/disassembler.js';
import type { NfpInsn } from '../isa/instruction.js';
import type { NfpOperand } from '../isa/operands.js';
import { fault, type Microengine, PREV } from './machine-state.js';
import { branchShadowCycles } from './latency-model.js';
import { hex } from './memory-map.js';

/** Operand kinds simulated; anything else (absolute GPRs, next-neighbour, indexed $xfer) the kernel JIT never emits. */
export function unsupportedOperand(op: NfpOperand): string | undefined {
  switch (op.kind) {
    case 'gpr':
    case 'xfer':
    case 'lm':
    case 'imm':
    case 'none':
      return undefined;
    case 'abs-gpr':
      return 'absolute GPRs are not simulated (the kernel JIT uses context-relative GPRs only)';
    default:
      return `${op.kind} operands are not simulated (the kernel JIT does not use them)`;
  }
}

/** alu operations simulated (the kernel JIT set plus B-A, +8, ~AND). */
export const SIMULATED_ALU_OPS: ReadonlySet<string> = new Set(['B', '~B', '+', '+carry', '-', '-carry', 'AND', 'OR', 'XOR', '~AND', 'AND~', 'B-A', '+16', '+8']);
/** Branch conditions simulated: the twelve N/Z/C/V conditions and br (not the context/signal/state tests). */
export const SIMULATED_CONDITIONS: ReadonlySet<string> = new Set(['beq', 'bne', 'bmi', 'bpl', 'bcs', 'bcc', 'bvs', 'bvc', 'bge', 'blt', 'ble', 'bgt', 'br']);
/** MU (mem) commands simulated: the ten (command, token) pairs the kernel JIT uses (doc B.8). */
export const SIMULATED_COMMANDS: ReadonlySet<string> = new Set(['read8', 'write8_swap', 'write32_swap', 'read32', 'read32_le', 'read32_swap', 'read_le', 'read_swap_le', 'add', 'add64', 'add_imm']);

/** The static NC6041 reason for an instruction (format, operation, flags, operands), or undefined. */
export function notSimulatedReason(insn: NfpInsn): string | undefined {
  const ops: NfpOperand[] = [];
  if ((insn as { predicateCc?: boolean }).predicateCc) return 'predicate_cc (conditional execution) is not simulated';
  switch (insn.format) {
    case 'alu':
      if (!SIMULATED_ALU_OPS.has(insn.op)) return `alu operation ${insn.op} is not simulated (the kernel JIT does not emit it)`;
      ops.push(insn.left, insn.right, insn.dest);
      break;
    case 'alu_shf':
      if (insn.op === 'byte_align') return 'byte_align: its semantics are not documented in the sources nicoff uses';
      if (insn.op === 'asr' && insn.shift.kind !== 'right') return `asr with a ${insn.shift.kind} shift`;
      if (insn.shift.kind === 'double-right' && insn.op !== 'B') return `dbl_shf with operation ${insn.op}`;
      ops.push(insn.left, insn.right, insn.dest);
      break;
    case 'immed':
      if (insn.width === 'word' && insn.byteShift > 2) return `immed byte shift ${insn.byteShift}`;
      if (insn.width === 'half' && insn.byteShift !== 0 && insn.byteShift !== 2) return `immed_w with byte shift ${insn.byteShift}`;
      if (insn.width === 'byte' && insn.byteShift > 3) return `immed_b with byte shift ${insn.byteShift}`;
      ops.push(insn.dest);
      break;
    case 'ld_field':
      if (insn.shift.kind === 'double-right') return 'ld_field with a double shift';
      ops.push(insn.target, insn.source);
      break;
    case 'br':
      if (!SIMULATED_CONDITIONS.has(insn.condition)) return `branch condition ${insn.condition} (context, signal and state tests) is not simulated`;
      break;
    case 'br_bit':
      ops.push(insn.reg);
      break;
    case 'rtn':
      ops.push(insn.reg);
      break;
    case 'local_csr':
      if (insn.value) ops.push(insn.value);
      break;
    case 'mul_step':
      ops.push(insn.left, insn.right);
      break;
    case 'cmd':
      if (insn.target !== 'mem') return `commands to the ${insn.target} target are not simulated (the kernel JIT uses mem only)`;
      if (!SIMULATED_COMMANDS.has(insn.action)) return `mem[${insn.action}] is not simulated (the kernel JIT does not emit it)`;
      if (insn.addressMode !== 0 && insn.addressMode !== 1 && insn.addressMode !== 4) return `command address mode ${insn.addressMode} is not simulated`;
      ops.push(insn.a, insn.b);
      break;
    case 'nop':
      break;
    default:
      return `the ${(insn as { format: string }).format} format is not simulated (the kernel JIT does not emit it)`;
  }
  for (const op of ops) {
    const why = unsupportedOperand(op);
    if (why) return why;
  }
  return undefined;
}

const REASONS = new WeakMap<NfpInsn, string | null>();

/** notSimulatedReason, memoized per record (the interpreter asks for every instruction it runs). */
export function notSimulatedReasonOf(insn: NfpInsn): string | undefined {
  let why = REASONS.get(insn);
  if (why === undefined) {
    why = notSimulatedReason(insn) ?? null;
    REASONS.set(insn, why);
  }
  return why ?? undefined;
}

export function notSimulatedFault(pc: number, insn: NfpInsn, reason: string): never {
  let text: string;
  try {
    text = formatInsn(insn);
  } catch {
    text = insn.format;
  }
  return fault('NC6041', pc, { insn: text, reason });
}

/** NC6051: what a defer slot may not hold, or undefined. */
export function deferSlotProblem(insn: NfpInsn): string | undefined {
  if (insn.format === 'br' || insn.format === 'br_bit' || insn.format === 'rtn') return `a branch (${insn.format})`;
  if (insn.format === 'cmd' && insn.ctxSwap !== 3) return 'a command with ctx_swap';
  if (insn.format === 'local_csr' && insn.value === undefined) return 'local_csr_rd';
  return undefined;
}

/** The immed a local_csr_rd feeds must be immed[dst, 0] (whole word, no shift, no invert). */
export function isCsrImmed(insn: NfpInsn): boolean {
  return insn.format === 'immed' && insn.width === 'word' && insn.byteShift === 0 && !insn.invert && insn.imm16 === 0;
}

export function csrFollowFault(csrPc: number, next: NfpInsn): never {
  let text: string;
  try {
    text = formatInsn(next);
  } catch {
    text = next.format;
  }
  return fault('NC6049', csrPc, { why: `pc ${csrPc + 1} holds ${text}` });
}

export function sideChannelFault(pc: number, what: string, needs: string, have: number): never {
  return fault('NC6048', pc, {
    what,
    needs,
    why: have === PREV.none ? 'the preceding instruction is not an ALU instruction' : 'the preceding instruction (immed, ld_field or mul_step) has no A operand',
  });
}

/**
 * dbl_shf takes an indirect amount from bits 5:0 of the preceding A operand
 * [inference]: 32 yields the high word a, which is the only reading under
 * which the kernel's LSH64-by-register sequence (amount 32 - n) is right for
 * n = 0, while alu_shf keeps bits 4:0 (RSH64 by n >= 32 relies on that).
 * Amounts 33..63 are not simulated.
 */
export function dblShiftFault(pc: number, a: number): never {
  return fault('NC6041', pc, { insn: 'dbl_shf[..., >>indirect]', reason: `an indirect amount of ${a & 63} (A operand bits 5:0 above 32) is not simulated` });
}

export function lmWindowFault(pc: number, op: NfpOperand, pointerValue: number): never {
  const k = op.kind === 'lm' ? op.offset : 0;
  return fault('NC6054', pc, {
    operand: `*l$index${op.kind === 'lm' ? op.pointer : '?'}[${k}]`,
    address: hex((pointerValue & 0xffc) + 4 * k, 3),
  });
}

/** Unconditional br may defer 2 slots, conditional branches, br_bit and rtn 3 (latency model). */
export function branchShadow(me: Microengine, insn: NfpInsn): number {
  return branchShadowCycles(me.latency, insn as Extract<NfpInsn, { defer: number }>);
}

/** The value an immed writes, given the destination's current value. */
export function immedValue(insn: Extract<NfpInsn, { format: 'immed' }>, old: number): number {
  const shift = 8 * insn.byteShift;
  if (insn.width === 'word') {
    const v = insn.imm16 << shift;
    return insn.invert ? ~v : v;
  }
  const width = insn.width === 'byte' ? 0xff : 0xffff;
  const v = ((insn.invert ? ~insn.imm16 : insn.imm16) & width) << shift;
  const mask = width << shift;
  return (old & ~mask) | (v & mask);
}

export function byteMaskBits(mask: number): number {
  return ((mask & 1 ? 0xff : 0) | (mask & 2 ? 0xff00 : 0) | (mask & 4 ? 0xff0000 : 0) | (mask & 8 ? 0xff000000 : 0)) | 0;
}

