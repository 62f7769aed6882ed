/**
 * Which registers an instruction may still read before writing them, on
 * some path from it: a backward dataflow pass over each function (like the
 * kernel's compute_live_registers, which its state comparison uses since
 * 6.15). A register that is dead at a saved state cannot matter to anything
 * verified after it, so state comparison skips it.
 */
import { helperById } from '../ebpf/helpers.js';
import type { Insn } from '../ebpf/insn.js';
import {
  BPF_ABS,
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_CMPXCHG,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_HELPER_CALL,
  BPF_IMM,
  BPF_IND,
  BPF_JA,
  BPF_JCOND,
  BPF_JMP,
  BPF_JMP32,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_MEM,
  BPF_MOV,
  BPF_NEG,
  BPF_ST,
  BPF_STX,
  insnClass,
  isLdImm64,
  modeOf,
} from '../ebpf/opcodes.js';

const bit = (r: number): number => (r <= 10 ? 1 << r : 0);
const CALLER_SAVED = 0b111111;

/** Registers read and written by one instruction. */
function useDef(insn: Insn): { use: number; def: number } {
  const cls = insnClass(insn.code);
  const op = insn.code & 0xf0;
  const isX = (insn.code & 0x08) !== BPF_K;
  const dst = bit(insn.dst);
  const src = bit(insn.src);
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
      if (op === BPF_MOV) return { use: isX ? src : 0, def: dst };
      if (op === BPF_NEG || op === BPF_END) return { use: dst, def: dst };
      return { use: dst | (isX ? src : 0), def: dst };
    case BPF_LDX:
      return { use: src, def: dst };
    case BPF_ST:
      return { use: dst, def: 0 };
    case BPF_STX:
      if (modeOf(insn.code) === BPF_MEM) return { use: dst | src, def: 0 };
      if (modeOf(insn.code) === BPF_ATOMIC) {
        if (insn.imm === BPF_CMPXCHG) return { use: 1 | dst | src, def: 1 };
        // load-acquire (0x100) writes dst from memory at src.
        if (insn.imm === 0x100) return { use: src, def: dst };
        return { use: dst | src, def: insn.imm & BPF_FETCH ? src : 0 };
      }
      return { use: dst | src, def: 0 };
    case BPF_LD:
      if (modeOf(insn.code) === BPF_IMM) return { use: 0, def: dst };
      if (modeOf(insn.code) === BPF_ABS) return { use: bit(6), def: CALLER_SAVED };
      if (modeOf(insn.code) === BPF_IND) return { use: bit(6) | src, def: CALLER_SAVED };
      return { use: 0, def: 0 };
    case BPF_JMP:
    case BPF_JMP32:
      if (op === BPF_JA || op === BPF_JCOND) return { use: 0, def: 0 };
      if (op === BPF_EXIT) return { use: 1, def: 0 };
      if (op === BPF_CALL && cls === BPF_JMP) {
        let use = CALLER_SAVED & ~1;
        if (insn.src === BPF_HELPER_CALL) {
          const proto = helperById(insn.imm);
          if (proto) use = ((1 << (proto.args.length + 1)) - 1) & ~1;
        }
        return { use, def: CALLER_SAVED };
      }
      return { use: dst | (isX ? src : 0), def: 0 };
    default:
      return { use: 0, def: 0 };
  }
}

/** Where control goes next inside the same function (calls continue after themselves). */
function successors(insns: readonly Insn[], i: number): number[] {
  const insn = insns[i];
  const cls = insnClass(insn.code);
  const op = insn.code & 0xf0;
  if (cls === BPF_JMP || cls === BPF_JMP32) {
    if (op === BPF_EXIT && cls === BPF_JMP) return [];
    if (op === BPF_CALL && cls === BPF_JMP) return [i + 1];
    if (op === BPF_JA) return [cls === BPF_JMP32 ? i + 1 + insn.imm : i + 1 + insn.off];
    return [i + 1, i + 1 + insn.off];
  }
  return [i + (isLdImm64(insn) ? 2 : 1)];
}

/** Live-in register mask per instruction (bit r: Rr may be read later before being written). */
export function computeLiveRegisters(insns: readonly Insn[]): Uint16Array {
  const n = insns.length;
  const use = new Uint16Array(n);
  const def = new Uint16Array(n);
  const succ: number[][] = new Array(n);
  const isInsn = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const ud = useDef(insns[i]);
    use[i] = ud.use;
    def[i] = ud.def;
    succ[i] = successors(insns, i).filter((s) => s >= 0 && s < n);
    isInsn[i] = 1;
    if (isLdImm64(insns[i])) i++;
  }
  const live = new Uint16Array(n);
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = n - 1; i >= 0; i--) {
      if (!isInsn[i]) continue;
      let out = 0;
      for (const s of succ[i]) out |= live[s];
      const next = (use[i] | (out & ~def[i])) & 0x7ff;
      if (next !== live[i]) {
        live[i] = next;
        changed = true;
      }
    }
  }
  return live;
}
