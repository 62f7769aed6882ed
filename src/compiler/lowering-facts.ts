/**
 * What the lowering needs to know about each eBPF instruction: the facts the
 * kernel's nfp verifier hook records (nfp-microcode.md C.4), in the golden
 * files' own vocabulary. They come from nicoff's verifier (`factsFromVerifier`)
 * or, in kernel-compatible mode, are injected from a golden annotation
 * (`factsFromGoldenAnnotations`), because the kernel JIT's words depend on them.
 */
import { factsGoldenKeys } from '../verifier/facts-json.js';
import type { ProgramFacts } from '../verifier/verify-types.js';

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
  /**
   * Beyond the kernel hook's vocabulary, used only by the optimizing mode:
   * conditional jumps the verifier saw go one way only, and R0 at an exit.
   */
  branch?: 'taken' | 'fallthrough' | 'both';
  exitR0?: { umin: bigint; umax: bigint };
  /** Conditional jumps: largest unsigned operand values over paths (pointers: U64_MAX). */
  compare?: { umaxDst: bigint; umaxSrc?: bigint; packetPointers?: boolean };
  /** Map helper calls: the map R1 points to on every path (the cost estimate charges its kind). */
  callMap?: number;
  /** ALU: the destination is a packet pointer and the source a scalar on every path. */
  packetPointer?: boolean;
}

export interface LoweringFacts {
  insns: (LoweringInsnFacts | undefined)[];
  /** Stack depth per function, bytes, as the verifier reports it. */
  stackDepth: number[];
  /** From the verifier only: instructions some verified path reached (golden facts cannot say). */
  reached?: boolean[];
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
        f.zext = value !== '0';
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
        f.adjustHeadOpt = value !== '0';
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

/**
 * Facts from nicoff's own verifier (`verifyProgram(..., { target: 'nfp' })`),
 * read through the same golden-key table the verifier's golden test checks
 * (src/verifier/facts-json.ts), so both ends speak one vocabulary.
 */
export function factsFromVerifier(facts: ProgramFacts): LoweringFacts {
  const insns = facts.insns.map((f, i) => {
    if (!f) return undefined;
    const tokens = [...factsGoldenKeys(facts, i)].map(([key, value]) => `${key}=${value}`);
    const lowering = parseGoldenFactTokens(tokens);
    if (f.branch !== undefined) lowering.branch = f.branch;
    if (f.compare) lowering.compare = { ...f.compare };
    if (f.alu?.packetPointer) lowering.packetPointer = true;
    if (f.call?.mapIndex !== undefined) lowering.callMap = f.call.mapIndex;
    if (f.exit) lowering.exitR0 = { umin: f.exit.r0Umin, umax: f.exit.r0Umax };
    return lowering;
  });
  return { insns, stackDepth: facts.subprogStackDepth, reached: facts.insns.map((f) => f !== undefined) };
}
