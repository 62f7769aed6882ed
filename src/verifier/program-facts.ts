/**
 * Per-instruction facts for the compiler, merged over every path the
 * verifier processed (verify-types.ts documents each field). Facts are
 * exact only when every scalar is compared precisely at pruning points
 * (verifyProgram does that for the nfp target): otherwise a pruned path may
 * carry values the explored one did not.
 */
import type { RegState } from './register-state.js';
import { scalarConstValue } from './scalar-range.js';
import type { AluFacts, CallArgFacts, InsnFacts, MemoryFacts, PointerKind, ProgramFacts } from './verify-types.js';

/** Facts' name for a register's kind. */
/** data and data_end pointers: 32-bit CTM addresses on the NFP (spec A.5). */
function isPacketPointer(reg: RegState): boolean {
  return reg.type === 'packet' || reg.type === 'packet_end';
}

export function pointerKindOf(reg: RegState): PointerKind {
  switch (reg.type) {
    case 'ctx':
    case 'packet':
    case 'packet_meta':
    case 'packet_end':
    case 'stack':
    case 'map_value':
    case 'map_ptr':
      return reg.type;
    // Ring buffer records and sockets have no kind of their own in the facts (no NFP use): 'scalar' keeps the NFP from trusting them.
    case 'mem':
    case 'sock':
    case 'sock_common':
    case 'tcp_sock':
      return 'scalar';
    case 'scalar':
      return scalarConstValue(reg.value) === 0n ? 'null' : 'scalar';
    default:
      return 'scalar';
  }
}

/** "Same value on every path": undefined until seen, then the value, or VARIES. */
const VARIES = Symbol('varies');
type Agreed<T> = T | undefined | typeof VARIES;

function agree<T>(seen: Agreed<T>, next: T | undefined): Agreed<T> {
  if (next === undefined) return VARIES;
  if (seen === undefined) return next;
  if (seen === VARIES || seen !== next) return VARIES;
  return seen;
}

function settled<T>(v: Agreed<T>): T | undefined {
  return v === VARIES ? undefined : v;
}

interface MemDraft {
  access: MemoryFacts['access'];
  size: MemoryFacts['size'];
  base: Set<PointerKind>;
  id: Agreed<number>;
  off: Agreed<number>;
  accessOffset: Agreed<number>;
  varOffset: boolean;
  stack?: { min: number; max: number; callerFrame: boolean };
  mapIndex: Agreed<number>;
  packetCovered: boolean;
  sawPacket: boolean;
  xadd16: boolean;
  xaddbig: boolean;
  isAdd: boolean;
}

interface AluDraft {
  /** The destination was a packet pointer (data or data_end) and the source a scalar, on every path. */
  packetPointer: boolean;
  uminDst: bigint;
  umaxDst: bigint;
  uminSrc?: bigint;
  umaxSrc?: bigint;
  constResult: Agreed<bigint>;
}

interface ArgDraft {
  kinds: Set<PointerKind>;
  stackOff: Agreed<number>;
  sawStack: boolean;
  constValue: Agreed<bigint>;
  sawScalar: boolean;
}

interface InsnDraft {
  visits: number;
  mem?: MemDraft;
  alu?: AluDraft;
  zext?: boolean;
  call?: { kind: 'helper' | 'subprog'; func: number; args: ArgDraft[]; mapIndex?: Agreed<number> };
  mapIndex?: number;
  taken: boolean;
  fallthrough: boolean;
  isBranch: boolean;
  /** Conditional jumps: largest unsigned value of each operand over paths (pointers count as unbounded). */
  compare?: { umaxDst: bigint; umaxSrc?: bigint; packetPointers: boolean };
  /** map_update_elem: value words the stack may hold non-zero, on some path. */
  updateWords?: { mapIndex: number; words: Set<number> };
  exit?: { r0Const: Agreed<bigint>; r0Umin: bigint; r0Umax: bigint };
}

export class FactsCollector {
  private readonly drafts: (InsnDraft | undefined)[];
  private adjustHead: Agreed<bigint> = undefined;

  constructor(private readonly count: number) {
    this.drafts = new Array(count);
  }

  private draft(i: number): InsnDraft {
    let d = this.drafts[i];
    if (!d) {
      d = { visits: 0, taken: false, fallthrough: false, isBranch: false };
      this.drafts[i] = d;
    }
    return d;
  }

  visit(i: number): void {
    this.draft(i).visits++;
  }

  /** A load, store or atomic through `base`; `offset` is the instruction's off field. */
  memory(i: number, access: MemoryFacts['access'], size: MemoryFacts['size'], base: RegState, offset: number, stackFrameDepth: number, addend?: RegState, isAdd = false): void {
    const d = this.draft(i);
    if (!d.mem) {
      d.mem = {
        access, size, base: new Set(), id: undefined, off: undefined, accessOffset: undefined, varOffset: false,
        mapIndex: undefined, packetCovered: true, sawPacket: false, xadd16: false, xaddbig: false, isAdd,
      };
    }
    const m = d.mem;
    m.base.add(pointerKindOf(base));
    m.id = agree(m.id, base.id);
    m.off = agree(m.off, base.off);
    const varConst = scalarConstValue(base.value);
    if (varConst === undefined) m.varOffset = true;
    m.accessOffset = agree(m.accessOffset, varConst === undefined ? undefined : base.off + offset + Number(BigInt.asIntN(64, varConst)));
    if (base.type === 'stack') {
      const lo = base.off + offset + Number(base.value.smin);
      const hi = base.off + offset + Number(base.value.smax);
      const callerFrame = base.frame !== stackFrameDepth;
      m.stack = m.stack
        ? { min: Math.min(m.stack.min, lo), max: Math.max(m.stack.max, hi), callerFrame: m.stack.callerFrame || callerFrame }
        : { min: lo, max: hi, callerFrame };
    }
    if (base.type === 'map_value') m.mapIndex = agree(m.mapIndex, base.mapIndex);
    if (base.type === 'packet' || base.type === 'packet_meta') m.sawPacket = true;
    if (addend && isAdd && addend.type === 'scalar') {
      if (addend.value.umin <= 0xffffn) m.xadd16 = true;
      if (addend.value.umax > 0xffffn) m.xaddbig = true;
    } else if (addend && isAdd) {
      m.xaddbig = true;
    }
  }

  /** An ALU instruction's operands before it ran and its result. */
  alu(i: number, dst: RegState, src: RegState | undefined, result: RegState): void {
    const d = this.draft(i);
    const wide = (r: RegState): [bigint, bigint] => (r.type === 'scalar' ? [r.value.umin, r.value.umax] : [0n, 0xffffffffffffffffn]);
    const [dmin, dmax] = wide(dst);
    const c = result.type === 'scalar' ? scalarConstValue(result.value) : undefined;
    const packetPointer = isPacketPointer(dst) && (src === undefined || src.type === 'scalar');
    if (d.alu) d.alu.packetPointer &&= packetPointer;
    if (!d.alu) {
      d.alu = { packetPointer, uminDst: dmin, umaxDst: dmax, constResult: undefined };
      if (src) [d.alu.uminSrc, d.alu.umaxSrc] = wide(src);
    } else {
      const a = d.alu;
      if (dmin < a.uminDst) a.uminDst = dmin;
      if (dmax > a.umaxDst) a.umaxDst = dmax;
      if (src) {
        const [smin, smax] = wide(src);
        if (a.uminSrc === undefined || smin < a.uminSrc) a.uminSrc = smin;
        if (a.umaxSrc === undefined || smax > a.umaxSrc) a.umaxSrc = smax;
      }
    }
    d.alu.constResult = agree(d.alu.constResult, c);
  }

  zext(defInsn: number): void {
    this.draft(defInsn).zext = true;
  }

  /** A call with the argument registers R1..R5 as they were. */
  call(i: number, kind: 'helper' | 'subprog', func: number, args: readonly RegState[]): void {
    const d = this.draft(i);
    if (!d.call) {
      d.call = {
        kind, func,
        args: args.map(() => ({ kinds: new Set<PointerKind>(), stackOff: undefined, sawStack: false, constValue: undefined, sawScalar: false })),
      };
    }
    const r1 = args[0];
    if (r1?.type === 'map_ptr') d.call.mapIndex = agree(d.call.mapIndex, r1.mapIndex);
    args.forEach((reg, k) => {
      const a = d.call!.args[k];
      if (!a || reg.type === 'not_init') return;
      a.kinds.add(pointerKindOf(reg));
      if (reg.type === 'stack') {
        a.sawStack = true;
        const c = scalarConstValue(reg.value);
        a.stackOff = agree(a.stackOff, c === undefined ? undefined : reg.off + Number(BigInt.asIntN(64, c)));
      } else {
        a.stackOff = agree(a.stackOff, undefined);
      }
      if (reg.type === 'scalar') {
        a.sawScalar = true;
        a.constValue = agree(a.constValue, scalarConstValue(reg.value));
      } else {
        a.constValue = agree(a.constValue, undefined);
      }
    });
  }

  mapReference(i: number, index: number): void {
    this.draft(i).mapIndex = index;
  }

  updateValueWords(i: number, mapIndex: number, words: ReadonlySet<number>): void {
    const d = this.draft(i);
    if (!d.updateWords) d.updateWords = { mapIndex, words: new Set() };
    for (const w of words) d.updateWords.words.add(w);
  }

  /** A conditional jump's operands as they were (the optimizing compiler narrows 64-bit compares of 32-bit values). */
  compare(i: number, dst: RegState, src: RegState | undefined): void {
    const d = this.draft(i);
    const umax = (r: RegState): bigint => (r.type === 'scalar' ? r.value.umax : 0xffffffffffffffffn);
    const dmax = umax(dst);
    const smax = src ? umax(src) : undefined;
    const packetPointers = isPacketPointer(dst) && src !== undefined && isPacketPointer(src);
    if (!d.compare) {
      d.compare = { umaxDst: dmax, ...(smax !== undefined ? { umaxSrc: smax } : {}), packetPointers };
      return;
    }
    d.compare.packetPointers &&= packetPointers;
    if (dmax > d.compare.umaxDst) d.compare.umaxDst = dmax;
    if (smax !== undefined && (d.compare.umaxSrc === undefined || smax > d.compare.umaxSrc)) d.compare.umaxSrc = smax;
  }

  branch(i: number, taken: boolean, fallthrough: boolean): void {
    const d = this.draft(i);
    d.isBranch = true;
    if (taken) d.taken = true;
    if (fallthrough) d.fallthrough = true;
  }

  exit(i: number, r0: RegState): void {
    const d = this.draft(i);
    const isScalar = r0.type === 'scalar';
    const c = isScalar ? scalarConstValue(r0.value) : undefined;
    const umin = isScalar ? r0.value.umin : 0n;
    const umax = isScalar ? r0.value.umax : 0xffffffffffffffffn;
    if (!d.exit) d.exit = { r0Const: c ?? VARIES, r0Umin: umin, r0Umax: umax };
    else {
      d.exit.r0Const = agree(d.exit.r0Const, c);
      if (umin < d.exit.r0Umin) d.exit.r0Umin = umin;
      if (umax > d.exit.r0Umax) d.exit.r0Umax = umax;
    }
  }

  adjustHeadCall(delta: bigint | undefined): void {
    this.adjustHead = agree(this.adjustHead, delta);
  }

  finish(stackDepth: number, subprogStackDepth: number[], subprogStarts: number[]): ProgramFacts {
    const insns: (InsnFacts | undefined)[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) {
      const d = this.drafts[i];
      if (!d) continue;
      const f: InsnFacts = { insn: i, visits: d.visits };
      if (d.mem) {
        const m = d.mem;
        const mem: MemoryFacts = { access: m.access, size: m.size, base: [...m.base].sort(), varOffset: m.varOffset };
        const id = settled(m.id);
        if (id !== undefined) mem.id = id;
        const off = settled(m.off);
        if (off !== undefined) mem.off = off;
        const accessOffset = settled(m.accessOffset);
        if (accessOffset !== undefined) mem.accessOffset = accessOffset;
        if (m.stack) mem.stack = m.stack;
        const mapIndex = settled(m.mapIndex);
        if (mapIndex !== undefined) mem.mapIndex = mapIndex;
        if (m.sawPacket) mem.packetCovered = m.packetCovered;
        if (m.isAdd) {
          mem.xadd16 = m.xadd16;
          mem.xaddbig = m.xaddbig;
        }
        f.mem = mem;
      }
      if (d.alu) {
        const a: AluFacts = { uminDst: d.alu.uminDst, umaxDst: d.alu.umaxDst };
        if (d.alu.uminSrc !== undefined) a.uminSrc = d.alu.uminSrc;
        if (d.alu.umaxSrc !== undefined) a.umaxSrc = d.alu.umaxSrc;
        const c = settled(d.alu.constResult);
        if (c !== undefined) a.constResult = c;
        f.alu = a;
      }
      if (d.zext) f.zext = true;
      if (d.call) {
        const callMap = settled(d.call.mapIndex);
        f.call = {
          kind: d.call.kind,
          func: d.call.func,
          ...(callMap !== undefined ? { mapIndex: callMap } : {}),
          args: d.call.args.map((a): CallArgFacts => {
            const out: CallArgFacts = { kinds: [...a.kinds].sort() };
            const so = settled(a.stackOff);
            if (a.sawStack && so !== undefined) out.stackOff = so;
            if (a.sawStack && so === undefined) out.stackOffVaries = true;
            const cv = settled(a.constValue);
            if (a.sawScalar && cv !== undefined) out.constValue = cv;
            return out;
          }),
        };
      }
      if (d.mapIndex !== undefined) f.mapIndex = d.mapIndex;
      if (d.isBranch) f.branch = d.taken && d.fallthrough ? 'both' : d.taken ? 'taken' : 'fallthrough';
      if (d.compare) f.compare = { ...d.compare };
      if (d.alu?.packetPointer) f.alu = { ...(f.alu ?? { uminDst: d.alu.uminDst, umaxDst: d.alu.umaxDst }), packetPointer: true };
      if (d.updateWords) f.updateNonZeroWords = { mapIndex: d.updateWords.mapIndex, words: [...d.updateWords.words].sort((a, b) => a - b) };
      if (d.exit) {
        const c = settled(d.exit.r0Const);
        f.exit = { r0Umin: d.exit.r0Umin, r0Umax: d.exit.r0Umax, ...(c !== undefined ? { r0Const: c } : {}) };
      }
      insns[i] = f;
    }
    const facts: ProgramFacts = { insns, stackDepth, subprogStackDepth, subprogStarts };
    const adj = settled(this.adjustHead);
    if (adj !== undefined) facts.adjustHeadConstant = adj;
    return facts;
  }
}
