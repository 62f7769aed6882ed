/**
 * The verifier's per-instruction facts (verify-types.ts ProgramFacts) as
 * plain JSON for `nicoff verify --facts`, and their projection onto the keys
 * of the NFP golden vectors (../shared/nfp-golden/README.md, "verifier facts
 * assumed"), so the compiler's inputs can be checked against what the kernel
 * verifier hook recorded for those programs.
 *
 * Golden key -> nicoff field (the full table is GOLDEN_FACT_KEYS below):
 *
 * | golden key      | nicoff field                                          |
 * |-----------------|-------------------------------------------------------|
 * | ptr             | InsnFacts.mem.base (ctx, packet->pkt, stack, map_value->map) |
 * | id              | InsnFacts.mem.id                                      |
 * | off             | InsnFacts.mem.off (the base register's fixed offset)  |
 * | umin_src        | InsnFacts.alu.uminSrc                                 |
 * | umax_src        | InsnFacts.alu.umaxSrc                                 |
 * | umin_dst        | InsnFacts.alu.uminDst                                 |
 * | umax_dst        | InsnFacts.alu.umaxDst                                 |
 * | zext            | InsnFacts.zext                                        |
 * | func            | InsnFacts.call.func (helper calls)                    |
 * | arg2off         | InsnFacts.call.args[1].stackOff                       |
 * | arg1type        | InsnFacts.call.args[0].kinds                          |
 * | mapidx          | InsnFacts.mapIndex                                    |
 * | xadd16          | InsnFacts.mem.xadd16                                  |
 * | xaddbig         | InsnFacts.mem.xaddbig                                 |
 * | adjust_head_opt | ProgramFacts.adjustHeadConstant at the one adjust_head call site, inside the firmware's guaranteed range |
 */
import { disassembleInsn } from '../ebpf/disasm.js';
import type {
  AluFacts,
  CallArgFacts,
  CallFacts,
  InsnFacts,
  MemoryFacts,
  PointerKind,
  ProgramFacts,
  VerifyInput,
} from './verify-types.js';

// ---------------------------------------------------------------------------
// JSON

/** bigint as JSON: 0x-prefixed hex (values are u64 bounds and constants; a negative constant keeps its sign). */
export function bigintHex(value: bigint): string {
  return value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
}

/** MemoryFacts has no bigint fields: it goes out as it is. */
export type MemoryFactsJson = MemoryFacts;

export interface AluFactsJson {
  uminDst: string;
  umaxDst: string;
  uminSrc?: string;
  umaxSrc?: string;
  constResult?: string;
}

export interface CallArgFactsJson extends Omit<CallArgFacts, 'constValue'> {
  constValue?: string;
}

export interface CallFactsJson extends Omit<CallFacts, 'args'> {
  args: CallArgFactsJson[];
}

export interface InsnFactsJson {
  insn: number;
  /** llvm-objdump text of the instruction. */
  text: string;
  /** `file:line` from BTF line info, when the object has it. */
  source?: string;
  sourceText?: string;
  visits: number;
  mem?: MemoryFactsJson;
  alu?: AluFactsJson;
  zext?: boolean;
  call?: CallFactsJson;
  mapIndex?: number;
  branch?: InsnFacts['branch'];
}

export interface ProgramFactsJson {
  program: string;
  type: string;
  stackDepth: number;
  subprogStackDepth: number[];
  subprogStarts: number[];
  adjustHeadConstant?: string;
  /** Only instructions that have facts (filler slots and unreached code are left out). */
  insns: InsnFactsJson[];
}

function aluJson(a: AluFacts): AluFactsJson {
  const out: AluFactsJson = { uminDst: bigintHex(a.uminDst), umaxDst: bigintHex(a.umaxDst) };
  if (a.uminSrc !== undefined) out.uminSrc = bigintHex(a.uminSrc);
  if (a.umaxSrc !== undefined) out.umaxSrc = bigintHex(a.umaxSrc);
  if (a.constResult !== undefined) out.constResult = bigintHex(a.constResult);
  return out;
}

function callJson(c: CallFacts): CallFactsJson {
  return {
    kind: c.kind,
    func: c.func,
    args: c.args.map(({ constValue, ...rest }) => ({
      ...rest,
      ...(constValue !== undefined ? { constValue: bigintHex(constValue) } : {}),
    })),
  };
}

export function factsToJson(facts: ProgramFacts, input: VerifyInput): ProgramFactsJson {
  const insns: InsnFactsJson[] = [];
  facts.insns.forEach((f, i) => {
    if (!f) return;
    const insn = input.insns[i];
    const entry: InsnFactsJson = { insn: i, text: insn ? disassembleInsn(insn, i) : '', visits: f.visits };
    const line = input.lineInfo[i];
    if (line) {
      entry.source = `${line.file}:${line.line}`;
      if (line.text) entry.sourceText = line.text.trim();
    }
    if (f.mem) entry.mem = { ...f.mem };
    if (f.alu) entry.alu = aluJson(f.alu);
    if (f.zext !== undefined) entry.zext = f.zext;
    if (f.call) entry.call = callJson(f.call);
    if (f.mapIndex !== undefined) entry.mapIndex = f.mapIndex;
    if (f.branch !== undefined) entry.branch = f.branch;
    insns.push(entry);
  });
  const out: ProgramFactsJson = {
    program: input.name,
    type: input.type,
    stackDepth: facts.stackDepth,
    subprogStackDepth: [...facts.subprogStackDepth],
    subprogStarts: [...facts.subprogStarts],
    insns,
  };
  if (facts.adjustHeadConstant !== undefined) out.adjustHeadConstant = bigintHex(facts.adjustHeadConstant);
  return out;
}

// ---------------------------------------------------------------------------
// Golden keys

export type GoldenFactKey =
  | 'ptr'
  | 'id'
  | 'off'
  | 'umin_src'
  | 'umax_src'
  | 'umin_dst'
  | 'umax_dst'
  | 'zext'
  | 'func'
  | 'arg2off'
  | 'arg1type'
  | 'mapidx'
  | 'xadd16'
  | 'xaddbig'
  | 'adjust_head_opt';

export interface GoldenFactKeyInfo {
  key: GoldenFactKey;
  /** The InsnFacts / ProgramFacts field the key is read from. */
  field: string;
  /** How the golden files spell the value: a pointer name, a number, or a flag (present / 1 / 0). */
  value: 'pointer' | 'number' | 'flag';
  /** nicoff's value at `insn` in canonical form (see canonicalGoldenValue), or undefined when nicoff has no such fact there. */
  read(facts: ProgramFacts, insn: number): string | undefined;
}

/** The golden files name pointer types the way the kernel nfp driver's debug output does. */
const GOLDEN_POINTER_NAME: Record<PointerKind, string> = {
  ctx: 'ctx',
  packet: 'pkt',
  packet_meta: 'pkt_meta',
  packet_end: 'pkt_end',
  stack: 'stack',
  map_value: 'map',
  map_ptr: 'map_ptr',
  map_key: 'map_key',
  scalar: 'scalar',
  null: 'null',
};

/** One pointer name when every path agreed, else the kinds joined by '|' (which no golden value matches). */
function pointerName(kinds: readonly PointerKind[]): string | undefined {
  if (kinds.length === 0) return undefined;
  return kinds.map((k) => GOLDEN_POINTER_NAME[k]).join('|');
}

const num = (v: number | bigint | undefined): string | undefined => (v === undefined ? undefined : BigInt(v).toString());
const flag = (v: boolean | undefined): string | undefined => (v === undefined ? undefined : v ? '1' : '0');

/** BPF_FUNC_xdp_adjust_head. */
const ADJUST_HEAD = 44;
/**
 * The golden files' firmware (README: adjust_head guaranteed sub 84 / add 112)
 * and the driver's own cap: growing by more than ETH_ZLEN - ETH_HLEN (46) bytes
 * could leave a frame shorter than the minimum, so the fast path needs the
 * check (nfp bpf/verifier.c nfp_record_adjust_head).
 */
const ADJUST_HEAD_FAST_PATH = { min: -84n, max: 46n };

function adjustHeadOpt(facts: ProgramFacts, insn: number): string | undefined {
  const call = facts.insns[insn]?.call;
  if (!call || call.kind !== 'helper' || call.func !== ADJUST_HEAD) return undefined;
  // The driver keeps the fast path only for a program with a single reached call site.
  const sites = facts.insns.filter((f) => f?.call?.kind === 'helper' && f.call.func === ADJUST_HEAD).length;
  const c = facts.adjustHeadConstant;
  return flag(sites === 1 && c !== undefined && c >= ADJUST_HEAD_FAST_PATH.min && c <= ADJUST_HEAD_FAST_PATH.max);
}

const mem = (facts: ProgramFacts, insn: number): MemoryFacts | undefined => facts.insns[insn]?.mem;
const alu = (facts: ProgramFacts, insn: number): AluFacts | undefined => facts.insns[insn]?.alu;
const helperCall = (facts: ProgramFacts, insn: number): CallFacts | undefined => {
  const call = facts.insns[insn]?.call;
  return call?.kind === 'helper' ? call : undefined;
};

export const GOLDEN_FACT_KEYS: readonly GoldenFactKeyInfo[] = [
  { key: 'ptr', field: 'InsnFacts.mem.base', value: 'pointer', read: (f, i) => pointerName(mem(f, i)?.base ?? []) },
  { key: 'id', field: 'InsnFacts.mem.id', value: 'number', read: (f, i) => num(mem(f, i)?.id) },
  { key: 'off', field: 'InsnFacts.mem.off', value: 'number', read: (f, i) => num(mem(f, i)?.off) },
  { key: 'umin_src', field: 'InsnFacts.alu.uminSrc', value: 'number', read: (f, i) => num(alu(f, i)?.uminSrc) },
  { key: 'umax_src', field: 'InsnFacts.alu.umaxSrc', value: 'number', read: (f, i) => num(alu(f, i)?.umaxSrc) },
  { key: 'umin_dst', field: 'InsnFacts.alu.uminDst', value: 'number', read: (f, i) => num(alu(f, i)?.uminDst) },
  { key: 'umax_dst', field: 'InsnFacts.alu.umaxDst', value: 'number', read: (f, i) => num(alu(f, i)?.umaxDst) },
  { key: 'zext', field: 'InsnFacts.zext', value: 'flag', read: (f, i) => flag(f.insns[i]?.zext) },
  { key: 'func', field: 'InsnFacts.call.func', value: 'number', read: (f, i) => num(helperCall(f, i)?.func) },
  { key: 'arg2off', field: 'InsnFacts.call.args[1].stackOff', value: 'number', read: (f, i) => num(helperCall(f, i)?.args[1]?.stackOff) },
  {
    key: 'arg1type',
    field: 'InsnFacts.call.args[0].kinds',
    value: 'pointer',
    read: (f, i) => pointerName(helperCall(f, i)?.args[0]?.kinds ?? []),
  },
  { key: 'mapidx', field: 'InsnFacts.mapIndex', value: 'number', read: (f, i) => num(f.insns[i]?.mapIndex) },
  { key: 'xadd16', field: 'InsnFacts.mem.xadd16', value: 'flag', read: (f, i) => flag(mem(f, i)?.xadd16) },
  { key: 'xaddbig', field: 'InsnFacts.mem.xaddbig', value: 'flag', read: (f, i) => flag(mem(f, i)?.xaddbig) },
  { key: 'adjust_head_opt', field: 'ProgramFacts.adjustHeadConstant', value: 'flag', read: adjustHeadOpt },
];

export function goldenFactKey(key: string): GoldenFactKeyInfo | undefined {
  return GOLDEN_FACT_KEYS.find((k) => k.key === key);
}

/**
 * A golden annotation value in the form `read` returns: numbers in decimal
 * (the files mix `0` and `0xffffffff`), flags as 1 or 0 (a bare `zext` is 1),
 * pointer names as written.
 */
export function canonicalGoldenValue(info: GoldenFactKeyInfo, text: string | undefined): string {
  if (info.value === 'flag') return text === undefined || text === '' ? '1' : BigInt(text) !== 0n ? '1' : '0';
  if (text === undefined) throw new Error(`golden key ${info.key} needs a value`);
  return info.value === 'number' ? BigInt(text).toString() : text;
}

/** Every golden key nicoff has a fact for at `insn`, in canonical form: what `factsGoldenKeys` callers diff against a golden line. */
export function factsGoldenKeys(facts: ProgramFacts, insn: number): Map<GoldenFactKey, string> {
  const out = new Map<GoldenFactKey, string>();
  for (const k of GOLDEN_FACT_KEYS) {
    const v = k.read(facts, insn);
    if (v !== undefined) out.set(k.key, v);
  }
  return out;
}
