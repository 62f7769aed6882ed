/**
 * The kernel verifier's passes before abstract interpretation, in its order:
 *
 *   1. bpf_prog_load: the program is not empty and not over the size limit;
 *   2. add_subprog_and_kfunc: function starts from bpf-to-bpf calls (call
 *      src 1) and function pointers (ld_imm64 src 4), kfunc calls (src 2);
 *   3. check_subprogs: every jump stays inside its function, and every
 *      function ends in exit or an unconditional jump;
 *   4. resolve_pseudo_ldimm64: LDX reserved fields, ld_imm64 second slots
 *      and pseudo sources, map references, unknown opcodes;
 *   5. check_cfg: every instruction is reachable (both sides of every
 *      conditional jump count) and no jump lands inside an ld_imm64.
 *
 * Each failure carries the kernel's own log line in `kernelStyle`, probed
 * against a 6.18 kernel (test/verifier/control-flow.test.ts re-checks them
 * live). The per-instruction reserved-field checks the kernel makes while
 * interpreting (do_check) are in insnFieldError for the interpreter to call.
 *
 * Only the privileged (CAP_BPF) rules are modelled: unprivileged loading
 * also refuses back-edges and bpf-to-bpf calls here.
 */
import { makeDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { DiagnosticCode } from '../diagnostics/catalogue.js';
import { MAP_TYPE } from '../ebpf/bpf-object.js';
import { helperById } from '../ebpf/helpers.js';
import type { Insn } from '../ebpf/insn.js';
import {
  ATOMIC_IMMS,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_EXIT,
  BPF_JA,
  BPF_JMP,
  BPF_JMP32,
  BPF_LDX,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOV,
  BPF_NEG,
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  BPF_STX,
  BPF_X,
  ADDR_SPACE_CAST_IMMS,
  insnClass,
  isLdImm64,
  modeOf,
  opcodeInfo,
  sizeOf,
  BPF_W,
  BPF_DW,
  type FieldRule,
} from '../ebpf/opcodes.js';
import type { VerifyInput } from './verify-types.js';

export interface ControlFlow {
  /** Functions as [start, end) slot ranges, entry first, sorted by start. */
  subprogs: { start: number; end: number }[];
  /** Slot index -> index into subprogs. */
  subprogOf: Int32Array;
  /**
   * 1 where the kernel looks for an equivalent earlier state (its prune
   * points): targets of jumps (conditional, goto, and the entries of called
   * functions), the conditional jumps themselves (the kernel checks the state
   * before it forks, not at the fall-through), bpf-to-bpf calls and calls of
   * helpers that take a callback, and the instruction after every call (call
   * return points).
   */
  pruneAt: Uint8Array;
}

export type ControlFlowResult = { ok: true; cfg: ControlFlow } | { ok: false; error: Diagnostic; kernelStyle: string };

/** bpf_prog_load's limit for a CAP_BPF loader (BPF_COMPLEXITY_LIMIT_INSNS). */
const MAX_PROGRAM_INSNS = 1_000_000;
/** BPF_MAX_SUBPROGS. */
const MAX_SUBPROGS = 256;
/** MAX_USED_MAPS. */
const MAX_USED_MAPS = 64;
/** BPF_MAX_VAR_OFF: the largest offset an ld_imm64 may point into a map value. */
const MAX_DIRECT_VALUE_OFFSET = 1 << 29;

/** Atomic load-acquire / store-release (kernel 6.15): valid to the kernel, absent from LLVM 19 and so from opcodes.ts. */
const BPF_LOAD_ACQ = 0x100;
const BPF_STORE_REL = 0x110;

/** The licenses the kernel's license_is_gpl_compatible accepts. */
const GPL_COMPATIBLE = new Set(['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL']);

const hex2 = (v: number): string => (v & 0xff).toString(16).padStart(2, '0');

/**
 * The kernel's table of opcodes it knows (bpf_opcode_in_insntable): the
 * opcodes.ts table plus the 8- and 16-bit atomic opcodes, which 6.15 added
 * for load-acquire / store-release.
 */
function kernelKnowsOpcode(code: number): boolean {
  if (code === (BPF_STX | BPF_ATOMIC | 0x10) || code === (BPF_STX | BPF_ATOMIC | 0x08)) return true;
  return opcodeInfo(code) !== undefined;
}

function mapTypeName(type: number): string {
  for (const [name, value] of Object.entries(MAP_TYPE)) if (value === type) return name;
  return `type ${type}`;
}

export function checkControlFlow(input: VerifyInput): ControlFlowResult {
  const insns = input.insns;
  const n = insns.length;
  const refuse = (code: DiagnosticCode, args: Record<string, string | number | bigint>, insn: number | undefined, kernelStyle: string): ControlFlowResult => {
    const source = insn !== undefined ? input.lineInfo[insn] : undefined;
    const error = makeDiagnostic(code, insn !== undefined ? { insn, ...args } : args, {
      ...(input.file !== undefined ? { file: input.file } : {}),
      ...(insn !== undefined ? { insn } : {}),
      ...(source ? { source } : {}),
    });
    return { ok: false, error, kernelStyle };
  };

  // 1. bpf_prog_load refuses these with E2BIG before the verifier writes a log.
  if (n === 0) return refuse('NC4001', {}, undefined, 'E2BIG: insn_cnt 0 (refused by bpf_prog_load, no verifier log)');
  if (n > MAX_PROGRAM_INSNS) {
    return refuse('NC4002', { count: n, limit: MAX_PROGRAM_INSNS }, undefined, `E2BIG: insn_cnt ${n} (refused by bpf_prog_load, no verifier log)`);
  }

  // 2. Function starts and kfunc calls, in instruction order.
  const starts = new Set<number>([0]);
  for (let i = 0; i < n; i++) {
    const insn = insns[i];
    const funcPointer = isLdImm64(insn) && insn.src === BPF_PSEUDO_FUNC;
    const call = insn.code === (BPF_JMP | BPF_CALL);
    if (funcPointer || (call && insn.src === BPF_PSEUDO_CALL)) {
      const target = i + insn.imm + 1;
      if (target < 0 || target >= n) return refuse('NC4003', { target, last: n - 1 }, i, 'call to invalid destination');
      if (!starts.has(target)) {
        if (starts.size >= MAX_SUBPROGS) return refuse('NC4004', { count: starts.size + 1, limit: MAX_SUBPROGS }, i, 'too many subprograms');
        starts.add(target);
      }
    } else if (call && insn.src === BPF_PSEUDO_KFUNC_CALL) {
      if (!GPL_COMPATIBLE.has(input.license)) {
        return refuse('NC4005', { license: input.license }, i, 'cannot call kernel function from non-GPL compatible program');
      }
      // id 0 with slot 0 is left for dead-code elimination to remove; the interpreter refuses it if reached.
      if (insn.imm === 0 && insn.off === 0) continue;
      // A non-zero off names a module BTF in fd_array; the kernel logs why, then this line.
      if (insn.off !== 0) return refuse('NC4006', { slot: insn.off }, i, 'failed to find BTF for kernel function');
      return refuse('NC4007', { id: insn.imm >>> 0 }, i, `kernel btf_id ${insn.imm >>> 0} cannot be resolved (nicoff has no vmlinux BTF)`);
    }
  }
  const sortedStarts = [...starts].sort((a, b) => a - b);
  const subprogs = sortedStarts.map((start, k) => ({ start, end: k + 1 < sortedStarts.length ? sortedStarts[k + 1] : n }));

  // 3. Jumps stay inside their function; functions do not fall into the next one.
  const subprogOf = new Int32Array(n);
  for (let k = 0; k < subprogs.length; k++) {
    const { start, end } = subprogs[k];
    for (let i = start; i < end; i++) {
      subprogOf[i] = k;
      const code = insns[i].code;
      const cls = insnClass(code);
      const op = code & 0xf0;
      // Every slot is looked at, ld_imm64 second halves included, as the kernel does.
      if ((cls === BPF_JMP || cls === BPF_JMP32) && op !== BPF_EXIT && op !== BPF_CALL) {
        const target = code === (BPF_JMP32 | BPF_JA) ? i + insns[i].imm + 1 : i + insns[i].off + 1;
        if (target < start || target >= end) {
          return refuse('NC4008', { target, start, last: end - 1 }, i, `jump out of range from insn ${i} to ${target}`);
        }
      }
      if (i === end - 1 && code !== (BPF_JMP | BPF_EXIT) && code !== (BPF_JMP | BPF_JA) && code !== (BPF_JMP32 | BPF_JA)) {
        return refuse('NC4009', { start, next: end < n ? `the function at ${end}` : 'the end of the program' }, i, 'last insn is not an exit or jmp');
      }
    }
  }

  // 4. ld_imm64 operands, LDX reserved fields, unknown opcodes.
  const usedMaps = new Set<number>();
  for (let i = 0; i < n; i++) {
    const insn = insns[i];
    if (insnClass(insn.code) === BPF_LDX) {
      const mode = modeOf(insn.code);
      if ((mode !== BPF_MEM && mode !== BPF_MEMSX) || insn.imm !== 0) {
        const reason = insn.imm !== 0 ? `imm is ${insn.imm}, not 0` : `mode 0x${hex2(mode)} is neither MEM nor MEMSX`;
        return refuse('NC4010', { reason }, i, 'BPF_LDX uses reserved fields');
      }
    }
    if (!isLdImm64(insn)) {
      if (!kernelKnowsOpcode(insn.code)) return refuse('NC4020', { code: hex2(insn.code) }, i, `unknown opcode ${hex2(insn.code)}`);
      continue;
    }
    const second = insns[i + 1];
    if (i === n - 1 || second.code !== 0 || second.dst !== 0 || second.src !== 0 || second.off !== 0) {
      const reason = i === n - 1 ? 'it is the last slot of the program' : 'the second slot must have code, registers and offset 0';
      return refuse('NC4011', { reason }, i, 'invalid bpf_ld_imm64 insn');
    }
    // The assembler and decoder keep the upper half in imm2; a raw `.insn` pair keeps it in the second slot.
    const upper = insn.slots === 2 ? (insn.imm2 ?? 0) : second.imm;
    const src = insn.src;
    if (src === BPF_PSEUDO_BTF_ID) {
      return refuse('NC4013', { id: insn.imm }, i, `pseudo btf_id ${insn.imm} in ldimm64 cannot be resolved (nicoff has no vmlinux BTF)`);
    }
    const mapRef = src === BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_MAP_IDX;
    const valueRef = src === BPF_PSEUDO_MAP_VALUE || src === BPF_PSEUDO_MAP_IDX_VALUE;
    if ((mapRef && upper !== 0) || (src !== 0 && src !== BPF_PSEUDO_FUNC && !mapRef && !valueRef)) {
      return refuse('NC4012', { src }, i, 'unrecognized bpf_ld_imm64 insn');
    }
    if (src === BPF_PSEUDO_MAP_IDX || src === BPF_PSEUDO_MAP_IDX_VALUE) {
      return refuse('NC4014', { index: insn.imm, src }, i, 'fd_idx without fd_array is invalid');
    }
    if (mapRef || valueRef) {
      const map = input.maps[insn.imm];
      if (insn.imm < 0 || map === undefined) {
        return refuse('NC4015', { index: insn.imm, count: input.maps.length }, i, `fd ${insn.imm} is not pointing to valid bpf_map`);
      }
      usedMaps.add(insn.imm);
      if (usedMaps.size > MAX_USED_MAPS) {
        return refuse('NC4019', { limit: MAX_USED_MAPS }, i, `The total number of maps per program has reached the limit of ${MAX_USED_MAPS}`);
      }
      if (valueRef) {
        const off = upper >>> 0;
        if (off >= MAX_DIRECT_VALUE_OFFSET) {
          return refuse('NC4016', { off, map: map.name, limit: MAX_DIRECT_VALUE_OFFSET - 1 }, i, `direct value offset of ${off} is not allowed`);
        }
        // Of the map types nicoff models only arrays have directly addressable values.
        if (map.type !== MAP_TYPE.array) {
          return refuse('NC4017', { map: map.name, mapType: mapTypeName(map.type) }, i, 'no direct value access support for this map type');
        }
        if (map.maxEntries !== 1 || off >= map.valueSize) {
          return refuse('NC4018', { off, map: map.name, valueSize: map.valueSize, entries: map.maxEntries }, i,
            `invalid access to map value pointer, value_size=${map.valueSize} off=${off}`);
        }
      }
    }
    i++; // the second slot is part of this instruction
  }

  // 5. Reachability and prune points, as check_cfg walks the program.
  const reached = new Uint8Array(n);
  const pruneAt = new Uint8Array(n);
  const work: number[] = [0];
  reached[0] = 1;
  const edge = (from: number, to: number): ControlFlowResult | undefined => {
    if (to < 0 || to >= n) return refuse('NC4008', { target: to, start: 0, last: n - 1 }, from, `jump out of range from insn ${from} to ${to}`);
    if (!reached[to]) {
      reached[to] = 1;
      work.push(to);
    }
    return undefined;
  };
  while (work.length) {
    const t = work.pop()!;
    const insn = insns[t];
    const cls = insnClass(insn.code);
    const op = insn.code & 0xf0;
    let failed: ControlFlowResult | undefined;
    if (isLdImm64(insn) && insn.src === BPF_PSEUDO_FUNC) {
      // A function pointer is explored like a call: the callee is reached, and so is the next instruction.
      const callee = t + insn.imm + 1;
      pruneAt[t] = pruneAt[t + 2] = pruneAt[callee] = 1;
      failed = edge(t, t + 2) ?? edge(t, callee);
    } else if (cls !== BPF_JMP && cls !== BPF_JMP32) {
      failed = edge(t, t + (isLdImm64(insn) ? 2 : 1));
    } else if (op === BPF_EXIT) {
      continue;
    } else if (op === BPF_CALL) {
      pruneAt[t + 1] = 1;
      // Helpers that call back into the program (bpf_loop, timers ...) re-enter here: the call itself is a prune point.
      if (insn.src === 0 && helperById(insn.imm)?.args.includes('ptr_to_func')) pruneAt[t] = 1;
      failed = edge(t, t + 1);
      if (!failed && insn.src === BPF_PSEUDO_CALL) {
        const callee = t + insn.imm + 1;
        pruneAt[t] = pruneAt[callee] = 1;
        failed = edge(t, callee);
      }
    } else if (op === BPF_JA) {
      const target = cls === BPF_JMP32 ? t + insn.imm + 1 : t + insn.off + 1;
      pruneAt[target] = 1;
      failed = edge(t, target);
    } else {
      // Conditional jumps and may_goto: both ways count, whatever the values at run time.
      const target = t + insn.off + 1;
      pruneAt[t] = pruneAt[target] = 1;
      failed = edge(t, t + 1) ?? edge(t, target);
    }
    if (failed) return failed;
  }
  for (let i = 0; i < n; i++) {
    if (!reached[i]) return refuse('NC4021', {}, i, `unreachable insn ${i}`);
    if (isLdImm64(insns[i])) {
      if (reached[i + 1]) return refuse('NC4022', {}, i, `jump into the middle of ldimm64 insn ${i}`);
      i++;
    }
  }
  return { ok: true, cfg: { subprogs, subprogOf, pruneAt } };
}

// ---------------------------------------------------------------------------
// Reserved fields, as do_check finds them when it reaches an instruction.
// ---------------------------------------------------------------------------

function ruleAllows(rule: FieldRule, value: number): boolean {
  if (rule === 'any' || rule === 'reg') return true; // register numbers are checked with register state (R%d is invalid)
  if (rule === 'zero') return value === 0;
  return rule.includes(value);
}

/**
 * The kernel's "... uses reserved fields" refusal for one instruction, in its
 * words, or null. It is what do_check reports before looking at any register,
 * so the interpreter calls it first when it reaches an instruction (NC4023
 * carries it; the up-front LDX and ld_imm64 second-slot checks are already
 * done by checkControlFlow). Not covered, because the kernel interleaves them
 * with register-state checks: register numbers above 10 ("R11 is invalid"),
 * writes to r10, and LD_ABS/IND in program types without skb access (the
 * program-type refusal comes first there).
 *
 * Built on the opcodes.ts field rules, with the kernel's own leniencies where
 * they differ: it ignores exit's off field, and since 6.15 accepts atomic
 * load-acquire / store-release (imm 0x100 / 0x110, any width).
 */
export function insnFieldError(insn: Pick<Insn, 'code' | 'dst' | 'src' | 'off' | 'imm'>): string | null {
  const code = insn.code;
  const cls = insnClass(code);
  if (cls === BPF_STX && modeOf(code) === BPF_ATOMIC) {
    const acquireRelease = insn.imm === BPF_LOAD_ACQ || insn.imm === BPF_STORE_REL;
    if (!acquireRelease && !ATOMIC_IMMS.includes(insn.imm)) return `BPF_ATOMIC uses invalid atomic opcode ${hex2(insn.imm)}`;
    if (!acquireRelease && sizeOf(code) !== BPF_W && sizeOf(code) !== BPF_DW) return 'invalid atomic operand size';
    return null;
  }
  const info = opcodeInfo(code);
  if (!info) return null; // unknown opcodes are refused up front (checkControlFlow)
  const f = info.fields;
  const fieldsOk = (): boolean => ruleAllows(f.dst, insn.dst) && ruleAllows(f.src, insn.src) && ruleAllows(f.off, insn.off) && ruleAllows(f.imm, insn.imm);
  switch (info.kind) {
    case 'alu64':
    case 'alu32': {
      if (info.op === BPF_NEG) return fieldsOk() ? null : 'BPF_NEG uses reserved fields';
      if (info.op === BPF_MOV) {
        if (cls === BPF_ALU64 && info.source === BPF_X && insn.off === 1) {
          return ADDR_SPACE_CAST_IMMS.includes(insn.imm) ? null : 'addr_space_cast insn can only convert between address space 1 and 0';
        }
        const immOk = info.source === BPF_X ? insn.imm === 0 : true;
        return ruleAllows(f.src, insn.src) && ruleAllows(f.off, insn.off) && immOk ? null : 'BPF_MOV uses reserved fields';
      }
      // off 1 (signed) is only allowed for DIV and MOD; the table encodes that.
      return fieldsOk() ? null : 'BPF_ALU uses reserved fields';
    }
    case 'endian':
    case 'bswap':
      return fieldsOk() ? null : 'BPF_END uses reserved fields';
    case 'ld_imm64':
      return insn.off === 0 ? null : 'BPF_LD_IMM64 uses reserved fields';
    case 'ld_abs':
    case 'ld_ind':
      return fieldsOk() ? null : 'BPF_LD_[ABS|IND] uses reserved fields';
    case 'load':
    case 'load_sx':
      return insn.imm === 0 ? null : 'BPF_LDX uses reserved fields';
    case 'store_imm':
      return insn.src === 0 ? null : 'BPF_ST uses reserved fields';
    case 'store':
      return insn.imm === 0 ? null : 'BPF_STX uses reserved fields';
    case 'jmp':
    case 'jmp32':
      return fieldsOk() ? null : 'BPF_JMP/JMP32 uses reserved fields';
    case 'ja':
    case 'gotol':
      return fieldsOk() ? null : 'BPF_JA uses reserved fields';
    case 'may_goto':
      return fieldsOk() ? null : `invalid may_goto imm ${insn.imm}`;
    case 'call': {
      const offOk = insn.off === 0 || insn.src === BPF_PSEUDO_KFUNC_CALL;
      return ruleAllows(f.src, insn.src) && insn.dst === 0 && offOk ? null : 'BPF_CALL uses reserved fields';
    }
    case 'exit':
      return insn.dst === 0 && insn.src === 0 && insn.imm === 0 ? null : 'BPF_EXIT uses reserved fields';
    case 'atomic':
      return null; // handled above
  }
  return null;
}
