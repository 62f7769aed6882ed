/**
 * What the lowering needs to know about each eBPF instruction: the facts the
 * kernel's nfp verifier hook records (nfp-microcode.md C.4), in the golden
 * files' own vocabulary. They come from nicoff's verifier (`factsFromVerifier`)
 * or, in kernel-compatible mode, are injected from a golden annotation
 * (`factsFromGoldenAnnotations`), because the kernel JIT's words depend on them.
 */
import type { InsnFacts, ProgramFacts } from '../verifier/verify-types.js';

export type LoweringPointer = 'ctx' | 'pkt' | 'stack' | 'map';

export interface LoweringInsnFacts {
  /** Memory instructions: the base register's pointer kind, verifier id and fixed offset. */
  ptr?: LoweringPointer;
  id?: number;
  off?: number;
  /**
   * ALU and jumps: operand ranges before the instruction, min of mins and max
   * of maxes over paths. Absent means the hook never saw the instruction; the
   * kernel then keeps its initial U64_MAX/0, which `rangeOf` reproduces.
   */
  uminSrc?: bigint;
  umaxSrc?: bigint;
  uminDst?: bigint;
  umaxDst?: bigint;
  /** 32-bit results whose high half is read later (the kernel's zext_dst). */
  zext?: boolean;
  /** Calls: helper id, R2's stack offset when one constant, R1's pointer kind for perf output. */
  func?: number;
  arg2off?: number;
  arg1type?: string;
  /** ld_imm64 of a map: its index. */
  mapidx?: number;
  /** Atomic add: the addend may fit / may exceed 16 bits. */
  xadd16?: boolean;
  xaddbig?: boolean;
  /** bpf_xdp_adjust_head: every call site passes the same constant. */
  adjustHeadOpt?: boolean;
}

export interface LoweringFacts {
  insns: (LoweringInsnFacts | undefined)[];
  /** Stack depth per function, bytes, as the verifier reports it. */
  stackDepth: number[];
}

const U64_MAX = (1n << 64n) - 1n;

/** The kernel's view of an operand range: U64_MAX/0 when no path was recorded. */
export function rangeOf(f: LoweringInsnFacts | undefined, which: 'src' | 'dst'): { umin: bigint; umax: bigint } {
  const umin = which === 'src' ? f?.uminSrc : f?.uminDst;
  const umax = which === 'src' ? f?.umaxSrc : f?.umaxDst;
  return { umin: umin ?? U64_MAX, umax: umax ?? 0n };
}

function parseNumber(text: string): bigint {
  return BigInt(text);
}

/** One golden annotation line's `key=value` tokens (after the instruction index) as facts. */
export function parseGoldenFactTokens(tokens: readonly string[]): LoweringInsnFacts {
  const f: LoweringInsnFacts = {};
  for (const token of tokens) {
    const [key, value = ''] = token.split('=') as [string, string?];
    switch (key) {
      case 'ptr':
        f.ptr = value as LoweringPointer;
        break;
      case 'id':
        f.id = Number(value);
        break;
      case 'off':
        f.off = Number(value);
        break;
      case 'umin_src':
        f.uminSrc = parseNumber(value);
        break;
      case 'umax_src':
        f.umaxSrc = parseNumber(value);
        break;
      case 'umin_dst':
        f.uminDst = parseNumber(value);
        break;
      case 'umax_dst':
        f.umaxDst = parseNumber(value);
        break;
      case 'zext':
        f.zext = true;
        break;
      case 'func':
        f.func = Number(value);
        break;
      case 'arg2off':
        f.arg2off = Number(value);
        break;
      case 'arg1type':
        f.arg1type = value;
        break;
      case 'mapidx':
        f.mapidx = Number(value);
        break;
      case 'xadd16':
        f.xadd16 = value !== '0';
        break;
      case 'xaddbig':
        f.xaddbig = value !== '0';
        break;
      case 'adjust_head_opt':
        f.adjustHeadOpt = true;
        break;
      default:
        throw new Error(`unknown golden fact key ${key}`);
    }
  }
  return f;
}

/** Facts from golden annotations: `index -> tokens`. */
export function factsFromGoldenAnnotations(annotations: ReadonlyMap<number, readonly string[]>, slotCount: number, stackDepth: number[]): LoweringFacts {
  const insns: (LoweringInsnFacts | undefined)[] = new Array(slotCount).fill(undefined);
  for (const [index, tokens] of annotations) insns[index] = parseGoldenFactTokens(tokens);
  return { insns, stackDepth };
}

function pointerOf(kinds: readonly string[]): LoweringPointer | undefined {
  if (kinds.length !== 1) return undefined;
  switch (kinds[0]) {
    case 'ctx':
      return 'ctx';
    case 'packet':
      return 'pkt';
    case 'stack':
      return 'stack';
    case 'map_value':
      return 'map';
    default:
      return undefined;
  }
}

function fromInsn(f: InsnFacts): LoweringInsnFacts {
  const out: LoweringInsnFacts = {};
  if (f.mem) {
    const ptr = pointerOf(f.mem.base);
    if (ptr) out.ptr = ptr;
    if (f.mem.id !== undefined) out.id = f.mem.id;
    if (f.mem.off !== undefined) out.off = f.mem.off;
    if (f.mem.access === 'atomic') {
      if (f.mem.xadd16 !== undefined) out.xadd16 = f.mem.xadd16;
      if (f.mem.xaddbig !== undefined) out.xaddbig = f.mem.xaddbig;
    }
  }
  if (f.alu) {
    out.uminDst = f.alu.uminDst;
    out.umaxDst = f.alu.umaxDst;
    if (f.alu.uminSrc !== undefined) out.uminSrc = f.alu.uminSrc;
    if (f.alu.umaxSrc !== undefined) out.umaxSrc = f.alu.umaxSrc;
  }
  if (f.zext) out.zext = true;
  if (f.call?.kind === 'helper') {
    out.func = f.call.func;
    const r2 = f.call.args[1];
    if (r2?.stackOff !== undefined) out.arg2off = r2.stackOff;
    const r1 = f.call.args[0];
    if (r1 && r1.kinds.length === 1) out.arg1type = r1.kinds[0]!;
  }
  if (f.mapIndex !== undefined) out.mapidx = f.mapIndex;
  return out;
}

/** Facts from nicoff's own verifier (`verifyProgram(..., { target: 'nfp' })`). */
export function factsFromVerifier(facts: ProgramFacts): LoweringFacts {
  const insns = facts.insns.map((f) => (f ? fromInsn(f) : undefined));
  if (facts.adjustHeadConstant !== undefined) {
    for (const f of insns) if (f?.func === 44) f.adjustHeadOpt = true;
  }
  return { insns, stackDepth: facts.subprogStackDepth };
}
