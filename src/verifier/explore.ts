/**
 * The path exploration (the kernel's do_check and is_state_visited): walk
 * every path from the first instruction, depth first, forking at
 * conditional jumps; at prune points compare the path's state with fully
 * verified saved states and stop when one of them includes it; save states
 * now and then; detect loops that repeat a state exactly; give up after the
 * processed-instruction budget.
 */
import type { Insn } from '../ebpf/insn.js';
import {
  BPF_ADD,
  BPF_CMPXCHG,
  BPF_FETCH,
  BPF_HELPER_CALL,
  BPF_IND,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
  isAddrSpaceCast,
  jumpTarget,
  ldImm64Value,
  modeOf,
  opcodeInfo,
  type OpcodeInfo,
} from '../ebpf/opcodes.js';
import { helperById } from '../ebpf/helpers.js';
import type { DiagnosticCode } from '../diagnostics/catalogue.js';
import { aluOperands, checkAlu } from './check-alu.js';
import { checkCondJump } from './check-branch.js';
import { checkHelperCall } from './check-helper-call.js';
import { checkMemAccess, checkPointerUnmoved } from './check-memory.js';
import { insnFieldError, type ControlFlow } from './control-flow.js';
import { Backtrack, markChainPrecision, type Checkpoint, type HistEntry, type Segment } from './precision.js';
import { FactsCollector } from './program-facts.js';
import {
  IdMap,
  NOT_INIT,
  UNKNOWN_SCALAR,
  constReg,
  isPointer,
  pointerReg,
  regSafe,
  regsExact,
  regTypeName,
  withReg,
  type RegState,
} from './register-state.js';
import { computeLiveRegisters } from './register-liveness.js';
import { scalarConstValue, scalarEquals } from './scalar-range.js';
import { VerifyRefusal, type VerifierEnv } from './verifier-env.js';
import { formatChanges, formatInsn, formatState } from './verifier-log.js';
import {
  ByteKind,
  MAX_BPF_STACK,
  MAX_CALL_FRAMES,
  cloneState,
  curFrame,
  isSpilled,
  newFrame,
  slotAt,
  slotKey,
  type FuncFrame,
  type StackSlot,
  type VerifierState,
} from './verifier-state.js';
import type { ProgramFacts, VerifyInput } from './verify-types.js';

export interface ExploreOptions {
  insnLimit: number;
  logLevel: 0 | 1 | 2;
  unprivileged: boolean;
  strictAlignment: boolean;
  /** Compare every scalar exactly at prune points, so that facts hold for pruned paths too. */
  exactFacts: boolean;
}

/** BPF_COMPLEXITY_LIMIT_JMP_SEQ: pending branches at once. */
const MAX_PENDING_BRANCHES = 8192;

/** A path being explored: its state and where it is. */
interface Path extends Segment {
  state: VerifierState;
  /** Stack slots (slotKey) fully written since the segment started. */
  written: Set<number>;
  insn: number;
  prev: number;
  /** Log length when the branch was queued (level 1 keeps only the failing path). */
  logMark: number;
  /** History entries in the current segment (a long one forces a saved state). */
  histCount: number;
}

export interface ExploreCounters {
  processed: number;
  totalStates: number;
  peakStates: number;
  maxStatesPerInsn: number;
  /** Bytes of stack per subprogram, max over all paths. */
  subprogStack: number[];
}

const STRICT_POINTER_TYPES = new Set(['ctx', 'sock', 'sock_common', 'tcp_sock']);

export class Explorer implements VerifierEnv {
  readonly unprivileged: boolean;
  readonly strictAlignment: boolean;
  readonly facts: FactsCollector;
  readonly log: string[] = [];
  readonly counters: ExploreCounters;
  state!: VerifierState;
  insnIdx = 0;

  private readonly insns: readonly Insn[];
  private readonly liveIn: Uint16Array;
  private readonly explored: (Checkpoint[] | undefined)[];
  private readonly pending: Path[] = [];
  private path!: Path;
  private curEntry: HistEntry | null = null;
  private idGen = 0;
  private jmpsProcessed = 0;
  private prevJmps = 0;
  private prevProcessed = 0;
  private curStates = 0;
  /** The pointer type each load/store first saw (save_aux_ptr_type). */
  private readonly auxPtrType: (string | undefined)[];
  private frameUids = 0;

  constructor(
    readonly input: VerifyInput,
    private readonly cfg: ControlFlow,
    private readonly options: ExploreOptions,
  ) {
    this.insns = input.insns;
    this.unprivileged = options.unprivileged;
    this.strictAlignment = options.strictAlignment;
    this.facts = new FactsCollector(this.insns.length);
    this.liveIn = computeLiveRegisters(this.insns);
    this.explored = new Array(this.insns.length);
    this.auxPtrType = new Array(this.insns.length);
    this.counters = { processed: 0, totalStates: 0, peakStates: 0, maxStatesPerInsn: 0, subprogStack: cfg.subprogs.map(() => 0) };
  }

  // -------------------------------------------------------------------------
  // VerifierEnv
  // -------------------------------------------------------------------------

  newId(): number {
    return ++this.idGen;
  }

  private newFrameUid(): number {
    return ++this.frameUids;
  }

  refuse(code: DiagnosticCode, args: Record<string, string | number | bigint>, kernelStyle: string): never {
    throw new VerifyRefusal(code, { insn: this.insnIdx, ...args }, kernelStyle, this.insnIdx);
  }

  reg(r: number): RegState {
    if (r > 10) this.refuse('NC4052', { reg: r }, `R${r} is invalid`);
    return curFrame(this.state).regs[r];
  }

  setReg(r: number, reg: RegState): void {
    curFrame(this.state).regs[r] = reg;
  }

  markPreciseRegs(regs: readonly number[]): void {
    if (this.options.exactFacts || this.unprivileged) return;
    const bt = new Backtrack(this.state.frames.length - 1);
    for (const r of regs) if (this.reg(r).type === 'scalar') bt.setReg(r);
    markChainPrecision(this.insns, this.path, this.insnIdx, bt);
  }

  markPreciseSlot(frame: number, spi: number): void {
    if (this.options.exactFacts || this.unprivileged) return;
    const bt = new Backtrack(this.state.frames.length - 1);
    bt.setSlot(frame, spi);
    markChainPrecision(this.insns, this.path, this.insnIdx, bt);
  }

  noteStackAccess(frame: number, spi: number): void {
    this.entry().stack = { frame, spi };
  }

  noteStackWritten(frame: number, spi: number): void {
    this.path.written.add(slotKey(this.state.frames[frame].uid, spi));
  }

  noteStackRead(frame: number, spi: number): void {
    this.markSlotRead(this.path, slotKey(this.state.frames[frame].uid, spi));
  }

  /**
   * A read of `key` by `path`: every saved state up the path keeps the slot
   * live, until one whose segment (or the path's own) wrote all of it first.
   */
  private markSlotRead(path: Path, key: number): void {
    if (path.written.has(key)) return;
    const uid = Math.floor(key / 64);
    for (let cp = path.parent; cp; cp = cp.parent) {
      if (!cp.state.frames.some((f) => f.uid === uid)) return;
      if (cp.readSlots.has(key)) return;
      cp.readSlots.add(key);
      if (cp.segmentWritten.has(key)) return;
    }
  }

  /** The history entry of the current instruction, created on first need. */
  private entry(): HistEntry {
    if (!this.curEntry) {
      const e: HistEntry = { idx: this.insnIdx, prev: this.path.prev, older: this.path.history };
      this.path.history = e;
      this.path.histCount++;
      this.curEntry = e;
    }
    return this.curEntry;
  }

  // -------------------------------------------------------------------------
  // Registers as operands (check_reg_arg)
  // -------------------------------------------------------------------------

  /** A register the instruction reads; `wide`: all 64 bits (a 32-bit definition then needs zero extension). */
  private readReg(r: number, wide: boolean): RegState {
    if (r > 10) this.refuse('NC4052', { reg: r }, `R${r} is invalid`);
    const reg = this.reg(r);
    if (reg.type === 'not_init') this.refuse('NC4050', { reg: r }, `R${r} !read_ok`);
    if (r !== 10 && wide && reg.subregDef) {
      this.facts.zext(reg.subregDef - 1);
      const marked = withReg(reg, { subregDef: 0 });
      this.setReg(r, marked);
      return marked;
    }
    return reg;
  }

  /** A register the instruction writes. */
  private writable(r: number): void {
    if (r > 10) this.refuse('NC4052', { reg: r }, `R${r} is invalid`);
    if (r === 10) this.refuse('NC4051', {}, 'frame pointer is read only');
  }

  // -------------------------------------------------------------------------
  // The walk
  // -------------------------------------------------------------------------

  run(): void {
    const frame = newFrame(0, -1, 0, this.newFrameUid());
    frame.regs[1] = pointerReg('ctx');
    this.path = { state: { frames: [frame], refs: [] }, written: new Set(), insn: 0, prev: -1, parent: null, history: null, firstInsn: 0, logMark: 0, histCount: 0 };
    if (this.options.logLevel) this.log.push(`0: ${formatState(this.input, this.path.state)}`);
    let path: Path | undefined = this.path;
    while (path) {
      this.path = path;
      this.state = path.state;
      this.insnIdx = path.insn;
      this.curEntry = null;
      const i = path.insn;
      if (++this.counters.processed > this.options.insnLimit) {
        this.refuse('NC4078', { processed: this.counters.processed, limit: this.options.insnLimit }, `BPF program is too large. Processed ${this.counters.processed} insn`);
      }
      if (this.cfg.pruneAt[i] && this.isStateVisited(path)) {
        if (this.options.logLevel) this.log.push(`${i}: safe`);
        path = this.finishPath(path);
        continue;
      }
      if (path.prev >= 0 && !this.sequential(path.prev, i)) this.entry();
      this.facts.visit(i);
      const before = this.options.logLevel === 2 ? curFrame(this.state).regs.slice() : undefined;
      if (this.options.logLevel) this.log.push(formatInsn(this.insns[i], i));
      const next = this.step(i);
      if (before && this.state.frames.length) {
        const frame = curFrame(this.state);
        this.log[this.log.length - 1] += formatChanges(this.input, before, frame.regs, frame.frameNo);
      }
      if (next < 0) {
        path = this.finishPath(path);
        continue;
      }
      path.prev = i;
      path.insn = next;
    }
  }

  /** The instruction after `prev` in program order is `i` (an ld_imm64 takes two slots). */
  private sequential(prev: number, i: number): boolean {
    return i === prev + this.insns[prev].slots || (this.insns[prev].slots === 2 && i === prev + 2);
  }

  /** A path ended (exit or pruned): its saved states may now be complete. Returns the next path to explore. */
  private finishPath(path: Path): Path | undefined {
    this.recordStack(path.state);
    for (let cp = path.parent; cp; cp = cp.parent) {
      if (--cp.branches > 0) break;
    }
    const next = this.pending.pop();
    if (next && this.options.logLevel) {
      if (this.options.logLevel === 1) this.log.length = next.logMark;
      this.log.push(`from ${next.prev} to ${next.insn}: ${formatState(this.input, next.state)}`);
    }
    return next;
  }

  /** Queue another path starting at `insn` (reached from `prev`) with `state`. */
  private push(state: VerifierState, insn: number, prev: number): void {
    const p = this.path;
    if (p.parent) p.parent.branches++;
    this.pending.push({ state, written: new Set(p.written), insn, prev, parent: p.parent, history: p.history, firstInsn: p.firstInsn, logMark: this.log.length, histCount: p.histCount });
    if (this.pending.length > MAX_PENDING_BRANCHES) {
      this.refuse('NC4079', { count: this.pending.length, limit: MAX_PENDING_BRANCHES }, `The sequence of ${this.pending.length} jumps is too complex.`);
    }
  }

  private recordStack(state: VerifierState): void {
    for (const f of state.frames) {
      const s = this.counters.subprogStack;
      if (f.allocated > s[f.subprog]) s[f.subprog] = f.allocated;
    }
  }

  // -------------------------------------------------------------------------
  // One instruction
  // -------------------------------------------------------------------------

  /** Process instruction i of the current path; returns the next instruction, or -1 when the path ends. */
  private step(i: number): number {
    const insn = this.insns[i];
    const fieldError = insnFieldError(insn);
    if (fieldError) this.refuse('NC4023', { reason: fieldError }, fieldError);
    const info = opcodeInfo(insn.code);
    if (!info) {
      // 8- and 16-bit atomics exist only as load-acquire / store-release (6.15), which opcodes.ts does not list.
      if ((insn.code & 0xe7) === 0xc3) {
        this.stepAcquireRelease(i, insn, insn.code & 0x18 ? (insn.code & 0x18) === 0x10 ? 1 : 2 : 4);
        return i + 1;
      }
      return this.refuse('NC9001', { reason: `no handler for opcode 0x${insn.code.toString(16)}` }, `unknown opcode ${insn.code.toString(16)}`);
    }
    switch (info.kind) {
      case 'alu64':
      case 'alu32':
      case 'endian':
      case 'bswap':
        return this.stepAlu(i, insn, info);
      case 'ld_imm64':
        this.stepLdImm64(i, insn);
        return i + 2;
      case 'ld_abs':
      case 'ld_ind':
        this.stepLdAbs(i, insn);
        return i + 1;
      case 'load':
      case 'load_sx':
        this.stepLoad(i, insn, info);
        return i + 1;
      case 'store':
      case 'store_imm':
        this.stepStore(i, insn, info);
        return i + 1;
      case 'atomic':
        this.stepAtomic(i, insn, info);
        return i + 1;
      case 'jmp':
      case 'jmp32':
        this.jmpsProcessed++;
        return this.stepCondJump(i, insn, info);
      case 'ja':
      case 'gotol':
        this.jmpsProcessed++;
        return jumpTarget(i, insn)!;
      case 'may_goto':
        this.jmpsProcessed++;
        // Whether the kernel's may_goto loops converge depends on exactly which scalars its
        // precision tracking has marked by then (widen_imprecise_scalars); nicoff cannot
        // reproduce that order reliably, and both more and less widening change verdicts.
        return this.refuse('NC4093', { what: 'may_goto' }, 'may_goto is not modelled');
      case 'call':
        this.jmpsProcessed++;
        return this.stepCall(i, insn);
      case 'exit':
        this.jmpsProcessed++;
        return this.stepExit(i);
    }
    return this.refuse('NC9001', { reason: `no handler for opcode 0x${insn.code.toString(16)}` }, `unknown opcode ${insn.code.toString(16)}`);
  }

  private stepAlu(i: number, insn: Insn, info: OpcodeInfo): number {
    if (isAddrSpaceCast(insn)) this.refuse('NC4093', { what: 'addr_space_cast (arena pointers)' }, 'addr_space_cast is not modelled');
    for (const { reg, wide } of aluOperands(insn, info).reads) this.readReg(reg, wide);
    if (insn.dst > 10) this.refuse('NC4052', { reg: insn.dst }, `R${insn.dst} is invalid`);
    const dstBefore = this.reg(insn.dst);
    const srcBefore = info.source === 0x08 && info.op !== 0xb0 ? this.reg(insn.src) : undefined;
    const res = checkAlu(this, insn, info);
    this.facts.alu(i, dstBefore, srcBefore, this.reg(insn.dst));
    if (res.alternative) {
      this.facts.alu(i, dstBefore, srcBefore, res.alternative);
      const other = cloneState(this.state);
      curFrame(other).regs[insn.dst] = res.alternative;
      this.push(other, i + 1, i);
    }
    return i + 1;
  }

  private stepLdImm64(i: number, insn: Insn): void {
    this.writable(insn.dst);
    switch (insn.src) {
      case 0:
        this.setReg(insn.dst, constReg(ldImm64Value(insn)));
        return;
      case BPF_PSEUDO_MAP_FD:
        this.facts.mapReference(i, insn.imm);
        this.setReg(insn.dst, pointerReg('map_ptr', { mapIndex: insn.imm }));
        return;
      case BPF_PSEUDO_MAP_VALUE:
        this.facts.mapReference(i, insn.imm);
        this.setReg(insn.dst, pointerReg('map_value', { mapIndex: insn.imm, off: (insn.imm2 ?? 0) >>> 0 }));
        return;
      case BPF_PSEUDO_FUNC:
        // Without BTF func_info the kernel refuses these too; with it, callbacks are not modelled here.
        this.refuse('NC4093', { what: 'callback function pointers (ld_imm64 src 4)' }, 'missing btf func_info');
        return;
      default:
        this.refuse('NC4093', { what: `ld_imm64 with src ${insn.src}` }, 'unrecognized bpf_ld_imm64 insn');
    }
  }

  private stepLdAbs(i: number, insn: Insn): void {
    const type = this.input.type;
    if (type !== 'socket_filter' && type !== 'sched_cls' && type !== 'sched_act') {
      this.refuse('NC4089', { type }, 'BPF_LD_[ABS|IND] instructions not allowed for this program type');
    }
    const ctx = this.readReg(6, true);
    if (this.state.refs.length) {
      const lines = this.state.refs.map((r) => `Unreleased reference id=${r.id} alloc_insn=${r.insn}`);
      this.refuse('NC4087', { id: this.state.refs[0].id, alloc: this.state.refs[0].insn }, [...lines, 'BPF_LD_[ABS|IND] would lead to reference leak'].join('\n'));
    }
    if (ctx.type !== 'ctx') this.refuse('NC4090', { kind: regTypeName(ctx) }, 'at the time of BPF_LD_ABS|IND R6 != pointer to skb');
    if (modeOf(insn.code) === BPF_IND) this.readReg(insn.src, true);
    checkPointerUnmoved(this, 6, ctx);
    const regs = curFrame(this.state).regs;
    for (let r = 1; r <= 5; r++) regs[r] = NOT_INIT;
    regs[0] = withReg(UNKNOWN_SCALAR, { subregDef: i + 1 });
  }

  /** save_aux_ptr_type: a load or store whose base is a context or socket pointer on one path must be so on all. */
  private savePointerType(i: number, base: RegState): void {
    const type = base.type;
    const prev = this.auxPtrType[i];
    if (prev === undefined) {
      this.auxPtrType[i] = type;
    } else if (prev !== type && (STRICT_POINTER_TYPES.has(prev) || STRICT_POINTER_TYPES.has(type))) {
      this.refuse('NC4092', { reg: -1, kind: prev, other: type }, 'same insn cannot be used with different pointers');
    }
  }

  private stepLoad(i: number, insn: Insn, info: OpcodeInfo): void {
    const base = this.readReg(insn.src, true);
    this.writable(insn.dst);
    const size = info.size!;
    const signExtend = info.kind === 'load_sx';
    checkMemAccess(this, { regno: insn.src, off: insn.off, size, kind: 'read', dst: insn.dst, value: { kind: 'none' }, strictOnce: false, signExtend });
    this.savePointerType(i, base);
    const loaded = this.reg(insn.dst);
    if (size < 8 && !signExtend && loaded.type === 'scalar') this.setReg(insn.dst, withReg(loaded, { subregDef: i + 1 }));
    else if (loaded.subregDef && loaded.type !== 'scalar') this.setReg(insn.dst, withReg(loaded, { subregDef: 0 }));
    this.facts.memory(i, 'read', size, base, insn.off, this.state.frames.length - 1);
  }

  private stepStore(i: number, insn: Insn, info: OpcodeInfo): void {
    const size = info.size!;
    if (info.kind === 'store') {
      const src = this.reg(insn.src);
      this.readReg(insn.src, size === 8 || isPointer(src));
    }
    const base = this.readReg(insn.dst, true);
    const value = info.kind === 'store' ? { kind: 'reg' as const, regno: insn.src } : { kind: 'imm' as const, value: BigInt(insn.imm) };
    checkMemAccess(this, { regno: insn.dst, off: insn.off, size, kind: 'write', dst: -1, value, strictOnce: false, signExtend: false });
    this.savePointerType(i, base);
    this.facts.memory(i, 'write', size, base, insn.off, this.state.frames.length - 1);
  }

  private stepAtomic(i: number, insn: Insn, info: OpcodeInfo): void {
    const size = info.size!;
    if (insn.imm === 0x100 || insn.imm === 0x110) {
      this.stepAcquireRelease(i, insn, size);
      return;
    }
    const srcBefore = this.reg(insn.src);
    this.readReg(insn.src, size === 8 || isPointer(srcBefore));
    const base = this.readReg(insn.dst, true);
    if (insn.imm === BPF_CMPXCHG) {
      const r0 = this.readReg(0, size === 8);
      if (this.unprivileged && isPointer(r0)) this.refuse('NC4098', { detail: 'R0 leaks addr into mem' }, 'R0 leaks addr into mem');
    }
    if (this.unprivileged && isPointer(srcBefore)) this.refuse('NC4098', { detail: `R${insn.src} leaks addr into mem` }, `R${insn.src} leaks addr into mem`);
    const t = base.type;
    if (t === 'ctx' || t === 'packet' || t === 'packet_meta' || t === 'sock' || t === 'sock_common' || t === 'tcp_sock') {
      const text = `BPF_ATOMIC stores into R${insn.dst} ${regTypeName(base)} is not allowed`;
      this.refuse('NC4088', { reg: insn.dst, kind: regTypeName(base) }, text);
    }
    let loadReg = -1;
    if (insn.imm & BPF_FETCH) {
      loadReg = insn.imm === BPF_CMPXCHG ? 0 : insn.src;
      this.writable(loadReg);
      this.setReg(loadReg, UNKNOWN_SCALAR);
    }
    const access = { regno: insn.dst, off: insn.off, size, dst: -1, value: { kind: 'none' as const }, strictOnce: true, signExtend: false };
    checkMemAccess(this, { ...access, kind: 'read' });
    if (loadReg >= 0) checkMemAccess(this, { ...access, kind: 'read', dst: loadReg });
    checkMemAccess(this, { ...access, kind: 'write' });
    if (loadReg >= 0 && size < 8) {
      const r = this.reg(loadReg);
      if (r.type === 'scalar') this.setReg(loadReg, withReg(r, { subregDef: i + 1 }));
    }
    this.facts.memory(i, 'atomic', size, base, insn.off, this.state.frames.length - 1, srcBefore, (insn.imm & ~BPF_FETCH) === BPF_ADD);
  }

  /** Atomic load-acquire (imm 0x100) and store-release (0x110): an ordinary load or store, aligned, to stack or map memory. */
  private stepAcquireRelease(i: number, insn: Insn, size: 1 | 2 | 4 | 8): void {
    const load = insn.imm === 0x100;
    const baseReg = load ? insn.src : insn.dst;
    let base: RegState;
    if (load) {
      base = this.readReg(insn.src, true);
      this.writable(insn.dst);
      checkMemAccess(this, { regno: insn.src, off: insn.off, size, kind: 'read', dst: insn.dst, value: { kind: 'none' }, strictOnce: true, signExtend: false });
      const loaded = this.reg(insn.dst);
      if (size < 8 && loaded.type === 'scalar') this.setReg(insn.dst, withReg(loaded, { subregDef: i + 1 }));
    } else {
      const src = this.reg(insn.src);
      this.readReg(insn.src, size === 8 || isPointer(src));
      base = this.readReg(insn.dst, true);
      checkMemAccess(this, { regno: insn.dst, off: insn.off, size, kind: 'write', dst: -1, value: { kind: 'reg', regno: insn.src }, strictOnce: true, signExtend: false });
    }
    const t = base.type;
    if (t === 'ctx' || t === 'packet' || t === 'packet_meta' || t === 'sock' || t === 'sock_common' || t === 'tcp_sock') {
      const text = `BPF_ATOMIC ${load ? 'loads from' : 'stores into'} R${baseReg} ${regTypeName(base)} is not allowed`;
      this.refuse('NC4088', { reg: baseReg, kind: regTypeName(base) }, text);
    }
    this.savePointerType(i, base);
    this.facts.memory(i, load ? 'read' : 'write', size, base, insn.off, this.state.frames.length - 1);
  }

  /**
   * Before a bpf_map_update_elem call: the value words (of R1's map, through
   * R3's stack bytes) holding any byte the verifier does not know is zero.
   * The kernel's nfp hook looks at the same byte kinds (STACK_ZERO or not).
   */
  private recordUpdateValueWords(i: number): void {
    const r1 = this.reg(1);
    const r3 = this.reg(3);
    if (r1.type !== 'map_ptr' || r1.mapIndex < 0 || r3.type !== 'stack') return;
    const map = this.input.maps[r1.mapIndex];
    const c = scalarConstValue(r3.value);
    const frame = this.state.frames[r3.frame];
    if (!map || c === undefined || !frame) return;
    const off = r3.off + Number(BigInt.asIntN(64, c));
    const words = new Set<number>();
    for (let b = 0; b < map.valueSize; b++) {
      const addr = off + b; // negative, frame-relative
      const spi = Math.floor((-addr - 1) / 8);
      const slot = slotAt(frame, spi);
      const kind = slot.kinds[addr + 8 * (spi + 1)];
      if (kind !== ByteKind.Zero) words.add(Math.floor(b / 4));
    }
    this.facts.updateValueWords(i, r1.mapIndex, words);
  }

  private stepCondJump(i: number, insn: Insn, info: OpcodeInfo): number {
    const wide = info.kind === 'jmp';
    this.readReg(insn.dst, wide);
    if (info.source === 0x08) this.readReg(insn.src, wide);
    const target = jumpTarget(i, insn)!;
    this.facts.compare(i, this.reg(insn.dst), info.source === 0x08 ? this.reg(insn.src) : undefined);
    const res = checkCondJump(this, insn, info);
    if (res.pred === 1) {
      this.facts.branch(i, true, false);
      return target;
    }
    if (res.pred === 0) {
      this.facts.branch(i, false, true);
      return i + 1;
    }
    this.facts.branch(i, true, true);
    if (res.linked) this.entry().linked = res.linked;
    this.push(res.taken!, target, i);
    return i + 1;
  }

  private stepCall(i: number, insn: Insn): number {
    const args = curFrame(this.state).regs.slice(1, 6);
    if (insn.src === BPF_HELPER_CALL) {
      const proto = helperById(insn.imm);
      if (proto) {
        // Arguments are read as 64-bit values (is_reg64 for helper calls).
        for (let a = 0; a < proto.args.length; a++) {
          const r = this.reg(a + 1);
          if (r.type !== 'not_init' && r.subregDef) {
            this.facts.zext(r.subregDef - 1);
            this.setReg(a + 1, withReg(r, { subregDef: 0 }));
          }
        }
      }
      // map_update_elem: which 4-byte value words the stack may hold non-zero (the NFP's atomic-counter rule, D.4).
      if (insn.imm === 2) this.recordUpdateValueWords(i);
      const res = checkHelperCall(this, insn.imm);
      this.facts.call(i, 'helper', insn.imm, args);
      if (res.helper.id === 44) this.facts.adjustHeadCall(res.adjustHeadDelta);
      return i + 1;
    }
    if (insn.src === BPF_PSEUDO_CALL) {
      const target = i + insn.imm + 1;
      if (this.input.globalFunctions?.includes(target)) {
        // Inlining a global function could accept what the kernel, verifying it alone against its prototype, refuses.
        this.refuse('NC4093', { what: `a call to the global function at instruction ${target}` }, 'global functions are verified by their BTF prototype, which nicoff does not model');
      }
      const frames = this.state.frames;
      if (frames.length >= MAX_CALL_FRAMES) {
        this.refuse('NC4080', { frames: frames.length + 1, limit: MAX_CALL_FRAMES }, `the call stack of ${frames.length + 1} frames is too deep`);
      }
      const caller = curFrame(this.state);
      const callee = newFrame(frames.length, i, this.cfg.subprogOf[target], this.newFrameUid());
      for (let r = 1; r <= 5; r++) callee.regs[r] = caller.regs[r];
      for (let r = 0; r <= 5; r++) caller.regs[r] = NOT_INIT;
      frames.push(callee);
      this.facts.call(i, 'subprog', target, args);
      if (this.options.logLevel) this.log.push(`caller: ${formatState(this.input, this.state)}`);
      return target;
    }
    return this.refuse('NC4093', { what: 'kernel function calls (kfuncs)' }, 'kfunc calls are not modelled');
  }

  private stepExit(i: number): number {
    const frames = this.state.frames;
    if (frames.length > 1) {
      const callee = frames[frames.length - 1];
      const r0 = callee.regs[0];
      if (r0.type === 'stack') this.refuse('NC4094', {}, 'cannot return stack pointer to the caller');
      this.facts.exit(i, r0);
      this.recordStack(this.state);
      frames.pop();
      curFrame(this.state).regs[0] = r0;
      if (this.options.logLevel) this.log.push(`returning from callee: to caller at ${callee.callsite + 1}: ${formatState(this.input, this.state)}`);
      return callee.callsite + 1;
    }
    if (this.state.refs.length) {
      const ref = this.state.refs[0];
      const lines = this.state.refs.map((r) => `Unreleased reference id=${r.id} alloc_insn=${r.insn}`);
      this.refuse('NC4087', { id: ref.id, alloc: ref.insn }, [...lines, 'BPF_EXIT instruction in main prog would lead to reference leak'].join('\n'));
    }
    const r0 = this.readReg(0, true);
    if (this.unprivileged && isPointer(r0)) this.refuse('NC4077', { value: regTypeName(r0), type: this.input.type, expected: 'a scalar' }, 'R0 leaks addr as return value');
    this.facts.exit(i, r0);
    return -1;
  }

  // -------------------------------------------------------------------------
  // State pruning
  // -------------------------------------------------------------------------

  /** The live-register mask of frame `fr` of a state saved at `insn`. */
  private liveMask(state: VerifierState, fr: number, insn: number): number {
    const top = state.frames.length - 1;
    return this.liveIn[fr === top ? insn : state.frames[fr + 1].callsite];
  }

  private isStateVisited(path: Path): boolean {
    const i = path.insn;
    const list = this.explored[i] ?? (this.explored[i] = []);
    const forceNew = path.histCount > 40;
    let addNew = forceNew || (this.jmpsProcessed - this.prevJmps >= 2 && this.counters.processed - this.prevProcessed >= 8);
    let count = 0;
    let evicted = 0;
    // Newest first, as the kernel keeps its lists.
    for (let k = list.length - 1; k >= 0; k--) {
      const cp = list[k];
      if (cp.evicted) continue;
      count++;
      if (cp.branches > 0) {
        // An ancestor still being explored: only an exact repeat is conclusive.
        if (this.maybeLooping(cp.state, path.state) && this.statesEqual(cp, path.state, true)) {
          if (this.options.logLevel) {
            this.log.push(`infinite loop detected at insn ${i}`);
            this.log.push(`cur state: ${formatState(this.input, path.state)}`);
            this.log.push(`old state: ${formatState(this.input, cp.state)}`);
          }
          this.refuse('NC4085', {}, `infinite loop detected at insn ${i}`);
        }
        // Loop iterations differ from each other: save states only now and then.
        if (!forceNew && this.jmpsProcessed - this.prevJmps < 20 && this.counters.processed - this.prevProcessed < 100) addNew = false;
      } else if (this.statesEqual(cp, path.state, false)) {
        cp.hits++;
        this.propagateStackReads(cp, path);
        // The arrival must be on record before backtracking walks back from here.
        if (path.prev >= 0 && !this.sequential(path.prev, i)) this.entry();
        this.propagatePrecision(cp, path);
        if (count > this.counters.maxStatesPerInsn) this.counters.maxStatesPerInsn = count;
        if (evicted) this.explored[i] = list.filter((c) => !c.evicted);
        return true;
      }
      // Misses count only when a state would be added, so a loop keeps states from several iterations.
      if (addNew) cp.misses++;
      if (cp.misses > cp.hits * 3 + 3) {
        // Rarely useful: stop comparing against it (it stays in its path's chain).
        cp.evicted = true;
        evicted++;
        this.curStates--;
      }
    }
    if (count > this.counters.maxStatesPerInsn) this.counters.maxStatesPerInsn = count;
    if (evicted) this.explored[i] = list.filter((cp) => !cp.evicted);
    if (count > this.counters.maxStatesPerInsn) this.counters.maxStatesPerInsn = count;
    // BPF_COMPLEXITY_LIMIT_STATES holds for unprivileged programs only.
    if (this.unprivileged && count > 64) return false;
    if (!addNew) return false;
    this.clearSingularIds(path.state);
    const target = this.explored[i]!;
    const cp: Checkpoint = {
      insn: i,
      lastInsn: path.prev,
      state: cloneState(path.state),
      parent: path.parent,
      history: path.history,
      firstInsn: path.firstInsn,
      branches: 1,
      preciseRegs: path.state.frames.map(() => 0),
      preciseSlots: path.state.frames.map(() => new Set<number>()),
      allPrecise: this.options.exactFacts || this.unprivileged,
      hits: 0,
      misses: 0,
      evicted: false,
      readSlots: new Set(),
      segmentWritten: path.written,
    };
    target.push(cp);
    this.counters.totalStates++;
    this.curStates++;
    if (this.curStates > this.counters.peakStates) this.counters.peakStates = this.curStates;
    this.prevJmps = this.jmpsProcessed;
    this.prevProcessed = this.counters.processed;
    path.parent = cp;
    path.firstInsn = i;
    path.history = null;
    path.histCount = 0;
    path.written = new Set();
    return false;
  }

  /** clear_singular_ids: a link id held by one register links nothing; dropping it helps states match. */
  private clearSingularIds(state: VerifierState): void {
    const counts = new Map<number, number>();
    const count = (r: RegState): void => {
      if (r.type === 'scalar' && r.id) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
    };
    for (const f of state.frames) {
      for (let r = 0; r < 10; r++) count(f.regs[r]);
      for (const slot of f.slots) if (slot && isSpilled(slot)) count(slot.spilled!);
    }
    const clear = (r: RegState): RegState | undefined => (r.type === 'scalar' && r.id && counts.get(r.id) === 1 ? withReg(r, { id: 0, off: 0, delta: false }) : undefined);
    for (const f of state.frames) {
      for (let r = 0; r < 10; r++) {
        const next = clear(f.regs[r]);
        if (next) f.regs[r] = next;
      }
      f.slots.forEach((slot, spi) => {
        if (!slot || !isSpilled(slot)) return;
        const next = clear(slot.spilled!);
        if (next) f.slots[spi] = { kinds: slot.kinds, spilled: next };
      });
    }
  }

  /** states_maybe_looping: the innermost frame's registers are identical. */
  private maybeLooping(old: VerifierState, cur: VerifierState): boolean {
    if (old.frames.length !== cur.frames.length) return false;
    const a = curFrame(old).regs;
    const b = curFrame(cur).regs;
    for (let r = 0; r < 11; r++) if (!identical(a[r], b[r])) return false;
    return true;
  }

  /** Does the saved state `cp` include `cur` (exact: equal to it)? */
  private statesEqual(cp: Checkpoint, cur: VerifierState, exact: boolean): boolean {
    const old = cp.state;
    const allPrecise = cp.allPrecise;
    if (old.frames.length !== cur.frames.length) return false;
    const ids = new IdMap();
    if (old.refs.length !== cur.refs.length) return false;
    for (let k = 0; k < old.refs.length; k++) if (!ids.check(old.refs[k].id, cur.refs[k].id)) return false;
    for (let fr = 0; fr < old.frames.length; fr++) {
      const of = old.frames[fr];
      const cf = cur.frames[fr];
      if (of.callsite !== cf.callsite) return false;
      const live = this.liveMask(old, fr, cp.insn);
      const preciseRegs = allPrecise ? 0x7ff : cp.preciseRegs[fr] ?? 0;
      for (let r = 0; r < 10; r++) {
        if (!(live & (1 << r))) continue;
        const ok = exact ? regsExact(of.regs[r], cf.regs[r], ids) : regSafe(of.regs[r], cf.regs[r], (preciseRegs & (1 << r)) !== 0, ids);
        if (!ok) return false;
      }
      if (!this.stackSafe(of, cf, exact, allPrecise, cp.preciseSlots[fr], ids, cp.readSlots)) return false;
    }
    return true;
  }

  private stackSafe(old: FuncFrame, cur: FuncFrame, exact: boolean, allPrecise: boolean, precise: Set<number> | undefined, ids: IdMap, read?: Set<number>): boolean {
    const slots = old.allocated / 8;
    const privileged = !this.unprivileged;
    for (let spi = 0; spi < slots; spi++) {
      // Nothing verified after the saved state read this slot before overwriting it.
      if (!exact && read && !read.has(slotKey(old.uid, spi))) continue;
      const o = slotAt(old, spi);
      const c = slotAt(cur, spi);
      const beyond = spi >= cur.allocated / 8;
      if (exact) {
        if (beyond || o.kinds.some((k, b) => k !== c.kinds[b])) return false;
        if (isSpilled(o) && !regsExact(o.spilled!, c.spilled!, ids)) return false;
        continue;
      }
      // Bytes the old state never had, or had as unknown data, constrain nothing.
      if (o.kinds.every((k) => k === ByteKind.Invalid || (privileged && k === ByteKind.Misc))) continue;
      if (beyond) return false;
      const isPrecise = allPrecise || (precise?.has(spi) ?? false);
      const os = scalarOfSlot(o, privileged);
      const cs = scalarOfSlot(c, privileged);
      if (os && cs) {
        if (!regSafe(os, cs, isPrecise, ids)) return false;
        continue;
      }
      for (let b = 0; b < 8; b++) {
        const ok = o.kinds[b];
        const ck = c.kinds[b];
        if (ok === ByteKind.Invalid || (privileged && ok === ByteKind.Misc)) continue;
        if (ok === ByteKind.Misc && ck === ByteKind.Zero) continue;
        if (ok !== ck) return false;
      }
      if (isSpilled(o) && !regSafe(o.spilled!, c.spilled!, isPrecise, ids)) return false;
    }
    return true;
  }

  /** propagate_liveness for stack slots: what the saved state's continuation reads, this path's would read too. */
  private propagateStackReads(cp: Checkpoint, path: Path): void {
    for (const key of cp.readSlots) {
      const uid = Math.floor(key / 64);
      const depth = cp.state.frames.findIndex((f) => f.uid === uid);
      const frame = path.state.frames[depth];
      if (depth >= 0 && frame) this.markSlotRead(path, slotKey(frame.uid, key % 64));
    }
  }

  /** propagate_precision: the values the saved state relied on must stay exact on this path too. */
  private propagatePrecision(cp: Checkpoint, path: Path): void {
    if (this.options.exactFacts || this.unprivileged) return;
    const bt = new Backtrack(path.state.frames.length - 1);
    cp.state.frames.forEach((f, fr) => {
      const live = this.liveMask(cp.state, fr, cp.insn);
      for (let r = 0; r < 10; r++) {
        if (!(live & (1 << r)) || f.regs[r].type !== 'scalar') continue;
        if (cp.allPrecise || (cp.preciseRegs[fr] ?? 0) & (1 << r)) bt.setReg(r, fr);
      }
      f.slots.forEach((slot, spi) => {
        if (!slot || !isSpilled(slot) || slot.spilled!.type !== 'scalar') return;
        if (cp.allPrecise || cp.preciseSlots[fr]?.has(spi)) bt.setSlot(fr, spi);
      });
    });
    const saved = this.insnIdx;
    this.insnIdx = path.insn;
    markChainPrecision(this.insns, path, path.insn, bt);
    this.insnIdx = saved;
  }

  // -------------------------------------------------------------------------
  // After the walk
  // -------------------------------------------------------------------------

  /** check_max_stack_depth: every static call chain fits 512 bytes (frames rounded up to 16 bytes, as with the JIT). */
  checkCombinedStack(): void {
    const subprogs = this.cfg.subprogs;
    const depth = this.counters.subprogStack;
    const round = (bytes: number): number => Math.ceil(bytes / 16) * 16;
    const walk = (k: number, above: number, calls: number, via: number): void => {
      const total = above + round(depth[k]);
      if (total > MAX_BPF_STACK) {
        this.insnIdx = via;
        this.refuse('NC4081', { calls, bytes: total }, `combined stack size of ${calls} calls is ${total}. Too large`);
      }
      if (calls > MAX_CALL_FRAMES) {
        this.insnIdx = via;
        this.refuse('NC4080', { frames: calls, limit: MAX_CALL_FRAMES }, `the call stack of ${calls} frames is too deep !`);
      }
      for (let i = subprogs[k].start; i < subprogs[k].end; i++) {
        const insn = this.insns[i];
        if (insn.code === 0x85 && insn.src === BPF_PSEUDO_CALL) {
          const target = this.cfg.subprogOf[i + insn.imm + 1];
          // Recursion never verifies (the frame limit stops it), so the walk ends.
          if (calls < MAX_CALL_FRAMES + 1) walk(target, total, calls + 1, i);
        }
      }
    };
    walk(0, 0, 1, 0);
  }

  finishFacts(): ProgramFacts {
    const depth = this.counters.subprogStack;
    return this.facts.finish(maxChainDepth(this.cfg, this.insns, depth), depth.slice(), this.cfg.subprogs.map((s) => s.start));
  }
}

/** The deepest combined stack over static call chains. */
function maxChainDepth(cfg: ControlFlow, insns: readonly Insn[], depth: number[]): number {
  const memo = new Map<number, number>();
  const visit = (k: number, guard: number): number => {
    if (guard > MAX_CALL_FRAMES) return 0;
    const known = memo.get(k);
    if (known !== undefined) return known;
    let deepest = 0;
    for (let i = cfg.subprogs[k].start; i < cfg.subprogs[k].end; i++) {
      const insn = insns[i];
      if (insn.code === 0x85 && insn.src === BPF_PSEUDO_CALL) deepest = Math.max(deepest, visit(cfg.subprogOf[i + insn.imm + 1], guard + 1));
    }
    const total = depth[k] + deepest;
    memo.set(k, total);
    return total;
  };
  return visit(0, 1);
}

/** Field-by-field identity, ids compared as numbers (states_maybe_looping's memcmp). */
function identical(a: RegState, b: RegState): boolean {
  if (a === b) return true;
  return (
    a.type === b.type &&
    a.off === b.off &&
    a.id === b.id &&
    a.delta === b.delta &&
    a.range === b.range &&
    a.mapIndex === b.mapIndex &&
    a.inner === b.inner &&
    a.frame === b.frame &&
    a.maybeNull === b.maybeNull &&
    a.refId === b.refId &&
    a.size === b.size &&
    scalarEquals(a.value, b.value)
  );
}

/** scalar_reg_for_stack: an 8-byte scalar spill, or 8 bytes of unknown data, read back as a scalar. */
function scalarOfSlot(slot: StackSlot, privileged: boolean): RegState | undefined {
  if (slot.kinds.every((k) => k === ByteKind.Spill) && slot.spilled?.type === 'scalar') return slot.spilled;
  if (slot.kinds.every((k) => k === ByteKind.Misc || (privileged && k === ByteKind.Invalid))) return UNKNOWN_SCALAR;
  return undefined;
}

