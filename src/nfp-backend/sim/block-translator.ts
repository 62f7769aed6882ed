/**
 * Basic-block translation: each straight-line run of the code store, from an
 * entry pc up to and including a branch (with its defer slots), a ctx_swap
 * command (with its defer slots), the end of the program or MAX_BLOCK
 * instructions, becomes one JavaScript function (new Function) working on the
 * context's typed arrays. It must behave exactly as the interpreter in
 * microengine.ts: same results, same faults at the same pc with the same
 * counters (tests run both engines side by side).
 *
 * Inside a block the issue cycle of its i-th instruction is entry cycles + i
 * (no stall or branch shadow can happen mid-block), so LM pointer delays are
 * checked against `c0 + i`. Condition codes and side channels live in locals
 * and are written back at every exit; which instruction produced the side
 * channel is known statically except for a block's first instruction, which
 * checks the context's `pk`. local_csr_rd is fused with its immed.
 */
import type { CmdInsn, NfpInsn } from '../isa/instruction.js';
import type { NfpOperand } from '../isa/operands.js';
import { cmdIssue, cmdPerform } from './cpp-commands.js';
import {
  branchShadow,
  byteMaskBits,
  csrFollowFault,
  dblShiftFault,
  deferSlotProblem,
  immedValue,
  isCsrImmed,
  lmWindowFault,
  notSimulatedFault,
  notSimulatedReason,
  sideChannelFault,
} from './execution-rules.js';
import { csrRead, csrWrite } from './local-csrs.js';
import { type EngineStep, fault, invalidWordFault, lmEarlyFault, type MeContext, type Microengine, PREV, STEP } from './machine-state.js';
import { MUL_TYPE_CODE, mulLast, mulStep } from './multiplier.js';

type BlockFn = (s: MeContext) => number;

const MAX_BLOCK = 96;

/** What generated code calls; everything that can fault or is rare lives here. */
const RT = {
  fault,
  invalidWordFault,
  lmEarlyFault,
  lmWindowFault,
  notSimulatedFault,
  csrFollowFault,
  sideChannelFault,
  dblShiftFault,
  cmdIssue,
  cmdPerform,
  csrRead,
  csrWrite,
  mulStep,
  mulLast,
};

const CONDITIONS: Record<string, string> = {
  beq: 'fr === 0',
  bne: 'fr !== 0',
  bmi: 'fr < 0',
  bpl: 'fr >= 0',
  bcs: 'fc === 1',
  bcc: 'fc === 0',
  bvs: 'fv === 1',
  bvc: 'fv === 0',
  bge: '(fr < 0 ? 1 : 0) === fv',
  blt: '(fr < 0 ? 1 : 0) !== fv',
  ble: '(fr === 0 || (fr < 0 ? 1 : 0) !== fv)',
  bgt: '(fr !== 0 && (fr < 0 ? 1 : 0) === fv)',
  br: 'true',
};

/** Condition codes after a logical result (as the interpreter's setLogicalCc). */
const LOGICAL_CC = 'fr = r; fc = 0; fv = 0;';

/** The logical operations on operands named `a` and `b`: alu's on (x, y), alu_shf's on (x, sh). */
function logicalExpr(op: string, a: string, b: string): string {
  switch (op) {
    case 'B':
      return b;
    case '~B':
      return `~${b}`;
    case 'AND':
      return `${a} & ${b}`;
    case '~AND':
      return `~${a} & ${b}`;
    case 'AND~':
      return `${a} & ~${b}`;
    case 'OR':
      return `${a} | ${b}`;
    case 'XOR':
      return `${a} ^ ${b}`;
    default:
      throw new Error(`alu op ${op}`);
  }
}

/** The arithmetic operations (result and all four condition codes); the others are logicalExpr's. */
const ARITHMETIC_CODE: Record<string, string> = {
  '+': 'const r = (x + y) | 0; fr = r; fc = ((x & y) | ((x | y) & ~r)) >>> 31; fv = ((x ^ r) & (y ^ r)) >>> 31;',
  '+carry': 'const r = (x + y + fc) | 0; fr = r; fc = ((x & y) | ((x | y) & ~r)) >>> 31; fv = ((x ^ r) & (y ^ r)) >>> 31;',
  '-': 'const r = (x - y) | 0; fr = r; fc = 1 - (((~x & y) | ((~x | y) & r)) >>> 31); fv = ((x ^ y) & (x ^ r)) >>> 31;',
  '-carry': 'const r = (x - y - 1 + fc) | 0; fr = r; fc = 1 - (((~x & y) | ((~x | y) & r)) >>> 31); fv = ((x ^ y) & (x ^ r)) >>> 31;',
  'B-A': 'const r = (y - x) | 0; fr = r; fc = 1 - (((~y & x) | ((~y | x) & r)) >>> 31); fv = ((y ^ x) & (y ^ r)) >>> 31;',
  '+16': 'const t = (x & 65535) + (y & 65535); const r = t & 65535; fr = r; fc = t >>> 16; fv = 0;',
  '+8': 'const t = (x & 255) + (y & 255); const r = t & 255; fr = r; fc = t >>> 8; fv = 0;',
};

interface Access {
  pre: string;
  read: string;
  /** Current value as a destination (transfer-out for $xfer). */
  old: string;
  post: string;
  write(v: string, wrboth: boolean): string;
}

class BlockBuilder {
  private readonly code: string[] = [];
  readonly consts: unknown[] = [];
  private i = 0;
  /** PREV kind left by the preceding instruction; undefined at entry (read s.pk). */
  private pk: number | undefined;
  private tmp = 0;
  private ended = false;

  constructor(
    private readonly me: Microengine,
    private readonly entry: number,
  ) {}

  private k(value: unknown): number {
    this.consts.push(value);
    return this.consts.length - 1;
  }

  private get sync(): string {
    return `s.cycles = c0 + ${this.i}; s.instructions = n0 + ${this.i}; `;
  }

  private emit(line: string): void {
    this.code.push(line);
  }

  /** Code that always throws; the block ends there. */
  private throwing(call: string): void {
    this.emit(`${this.sync}${call}; return -1;`);
    this.ended = true;
  }

  private epilogue(): string {
    return `s.fr = fr; s.fc = fc; s.fv = fv; s.pa = pa; s.pr = pr; s.pk = ${this.pk ?? 's.pk'}; `;
  }

  private fallExit(next: number): void {
    this.emit(`${this.epilogue()}s.cycles = c0 + ${this.i}; s.instructions = n0 + ${this.i}; s.pc = ${next}; s.fromPc = ${next - 1}; return ${STEP.continue};`);
    this.ended = true;
  }

  private access(op: NfpOperand, pc: number): Access {
    switch (op.kind) {
      case 'gpr': {
        const reg = `${op.bank}[${op.index}]`;
        return {
          pre: '',
          read: reg,
          old: reg,
          post: '',
          write: (v, wrboth) => (wrboth ? `A[${op.index}] = ${v}; B[${op.index}] = ${v};` : `${reg} = ${v};`),
        };
      }
      case 'xfer':
        return { pre: '', read: `XI[${op.index}]`, old: `XO[${op.index}]`, post: '', write: (v) => `XO[${op.index}] = ${v};` };
      case 'imm':
        return { pre: '', read: String(op.value), old: '0', post: '', write: () => '' };
      case 'lm': {
        const p = op.pointer;
        const t = `w${this.tmp++}`;
        let pre = `if (LR[${p}] > c0 + ${this.i}) { ${this.sync}rt.lmEarlyFault(s, ${pc}, ${p}); } `;
        let post = '';
        if (op.postModify === 'none') {
          if (op.offset > 0) pre += `if (((LA[${p}] >>> 2) & 15) + ${op.offset} > 15) { ${this.sync}rt.lmWindowFault(${pc}, K[${this.k(op)}], LA[${p}]); } `;
          pre += `const ${t} = (LA[${p}] >>> 2) + ${op.offset}; `;
        } else {
          pre += `const ${t} = LA[${p}] >>> 2; `;
          post = `LA[${p}] = (LA[${p}] ${op.postModify === 'inc' ? '+' : '-'} 4) & 4092; `;
        }
        return { pre, read: `LM[${t}]`, old: `LM[${t}]`, post, write: (v) => `LM[${t}] = ${v};` };
      }
      default:
        return { pre: '', read: '0', old: '0', post: '', write: () => '' };
    }
  }

  /** NC6041 for what the kernel JIT never emits (the interpreter's requireSimulated); true when the block ends there. */
  private notSimulated(insn: NfpInsn, pc: number): boolean {
    const why = notSimulatedReason(insn);
    if (why) this.throwing(`rt.notSimulatedFault(${pc}, K[${this.k(insn)}], ${JSON.stringify(why)})`);
    return Boolean(why);
  }

  /** Side-channel producer check before a consumer (same rule as the interpreter). */
  private needSide(pc: number, min: number, what: string, needs: string): void {
    if (this.pk === undefined) {
      this.emit(`if (s.pk < ${min}) { ${this.sync}rt.sideChannelFault(${pc}, ${JSON.stringify(what)}, ${JSON.stringify(needs)}, s.pk); }`);
    } else if (this.pk < min) {
      this.throwing(`rt.sideChannelFault(${pc}, ${JSON.stringify(what)}, ${JSON.stringify(needs)}, ${this.pk})`);
    }
  }

  private shiftExpr(shift: { kind: string; amount: number | 'indirect' }): string {
    if (shift.amount === 'indirect') {
      switch (shift.kind) {
        case 'right':
          return '((y >>> (pa & 31)) | 0)';
        case 'left':
          return '(y << (pa & 31))';
        default:
          return '(k6 === 0 ? y : k6 === 32 ? x : ((y >>> k6) | (x << (32 - k6))))';
      }
    }
    const n = shift.amount;
    switch (shift.kind) {
      case 'rotate':
        return n === 0 ? 'y' : `((y >>> ${n}) | (y << ${32 - n}))`;
      case 'right':
        return `(y >>> ${n})`;
      case 'left':
        return `(y << ${n})`;
      default:
        return `((y >>> ${n}) | (x << ${32 - n}))`;
    }
  }

  /** A straight-line instruction (what a defer slot may hold). */
  private simple(insn: NfpInsn, pc: number): void {
    if (this.notSimulated(insn, pc)) return;
    switch (insn.format) {
      case 'alu': {
        const L = this.access(insn.left, pc);
        const R = this.access(insn.right, pc);
        const D = this.access(insn.dest, pc);
        const code = ARITHMETIC_CODE[insn.op] ?? `const r = ${logicalExpr(insn.op, 'x', 'y')}; ${LOGICAL_CC}`;
        const op = insn.noCc ? `const of = fr, oc = fc, ov = fv; ${code} fr = of; fc = oc; fv = ov;` : code;
        this.emit(`{ ${L.pre}${R.pre}${D.pre}const x = ${L.read}, y = ${R.read}; ${op} ${D.write('r', insn.wrboth)} ${L.post}${R.post}${D.post}pa = x; pr = r; }`);
        this.pk = PREV.resultAndA;
        break;
      }
      case 'alu_shf': {
        const indirect = insn.shift.amount === 'indirect';
        if (indirect) this.needSide(pc, PREV.resultAndA, `${insn.op === 'asr' ? 'asr' : 'a shift'} by indirect amount`, 'its amount (the A operand)');
        if (this.ended) return;
        if (insn.op === 'asr') this.needSide(pc, PREV.result, 'asr', 'its fill bit (the result MSB)');
        if (this.ended) return;
        const L = this.access(insn.left, pc);
        const R = this.access(insn.right, pc);
        const D = this.access(insn.dest, pc);
        let body: string;
        if (insn.op === 'asr') {
          body = indirect
            ? 'const k = pa & 31; const r = k === 0 ? y : ((y >>> k) | (pr < 0 ? (-1 << (32 - k)) : 0));'
            : `const r = (y >>> ${insn.shift.amount}) | (pr < 0 ? ${-1 << (32 - (insn.shift.amount as number))} : 0);`;
        } else if (indirect && insn.shift.kind === 'double-right') {
          body = `const k6 = pa & 63; if (k6 > 32) { ${this.sync}rt.dblShiftFault(${pc}, pa); } const sh = ${this.shiftExpr(insn.shift)}; const r = sh;`;
        } else body = `const sh = ${this.shiftExpr(insn.shift)}; const r = ${logicalExpr(insn.op, 'x', 'sh')};`;
        this.emit(`{ ${L.pre}${R.pre}${D.pre}const x = ${L.read}, y = ${R.read}; ${body} ${insn.noCc ? '' : `${LOGICAL_CC} `}${D.write('r', insn.wrboth)} ${L.post}${R.post}${D.post}pa = x; pr = r; }`);
        this.pk = PREV.resultAndA;
        break;
      }
      case 'immed': {
        const D = this.access(insn.dest, pc);
        let value: string;
        if (insn.width === 'word') value = String(immedValue(insn, 0));
        else {
          const kept = immedValue(insn, -1) ^ immedValue(insn, 0);
          value = `(${D.old} & ${kept}) | ${immedValue(insn, 0)}`;
        }
        this.emit(`{ ${D.pre}const r = ${value}; ${D.write('r', insn.wrboth)} ${D.post}pr = r; }`);
        this.pk = PREV.result;
        break;
      }
      case 'nop':
        this.pk = PREV.none;
        break;
      case 'ld_field': {
        if (insn.shift.amount === 'indirect') this.needSide(pc, PREV.resultAndA, 'ld_field by indirect amount', 'its amount (the A operand)');
        if (this.ended) return;
        const T = this.access(insn.target, pc);
        const S = this.access(insn.source, pc);
        const m = byteMaskBits(insn.byteMask);
        const merge = insn.clearUnmasked ? `sh & ${m}` : `(o & ${~m}) | (sh & ${m})`;
        this.emit(`{ ${T.pre}${S.pre}const o = ${T.old}, x = 0, y = ${S.read}; const sh = ${this.shiftExpr(insn.shift)}; const r = ${merge}; ${T.write('r', insn.wrboth)} ${T.post}${S.post}${insn.loadCc ? `${LOGICAL_CC} ` : ''}pr = r; }`);
        this.pk = PREV.result;
        break;
      }
      case 'local_csr': {
        // Reads are fused with their immed in block(); here only writes.
        const V = this.access(insn.value!, pc);
        this.emit(`{ ${V.pre}const v = ${V.read}; ${this.sync}rt.csrWrite(s, ${pc}, ${insn.csr}, v); ${V.post}}`);
        this.pk = PREV.none;
        break;
      }
      case 'mul_step': {
        const typeCode = MUL_TYPE_CODE[insn.type];
        if (typeCode !== 0 && (insn.step === 'last' || insn.step === 'last2')) {
          const D = this.access(insn.left, pc);
          this.emit(`{ ${D.pre}${this.sync}const r = rt.mulLast(s, ${pc}, ${typeCode}, ${insn.step === 'last2'}); ${D.write('r', insn.wrboth)} ${D.post}${insn.noCc ? '' : `${LOGICAL_CC} `}pr = r; }`);
          this.pk = PREV.result;
        } else {
          const L = this.access(insn.left, pc);
          const R = this.access(insn.right, pc);
          const stepCode = typeCode === 0 ? 0 : ['step1', 'step2', 'step3', 'step4'].indexOf(insn.step);
          this.emit(`{ ${L.pre}${R.pre}${this.sync}rt.mulStep(s, ${pc}, ${typeCode}, ${stepCode}, ${L.read}, ${R.read}); ${L.post}${R.post}}`);
          this.pk = PREV.none;
        }
        break;
      }
      case 'cmd':
        this.issue(insn, pc);
        this.emit('rt.cmdPerform(s, s.nowCmd);');
        this.pk = PREV.none;
        break;
      default:
        this.throwing(`rt.notSimulatedFault(${pc}, K[${this.k(insn)}], ${JSON.stringify(`${insn.format} outside a branch position`)})`);
        return;
    }
    this.i++;
  }

  private issue(insn: CmdInsn, pc: number): void {
    const a = this.access(insn.a, pc);
    const b = this.access(insn.b, pc);
    this.emit(`{ ${a.pre}${b.pre}${this.sync}rt.cmdIssue(s, ${pc}, K[${this.k(insn)}], ${a.read}, ${b.read}, ${this.pk ?? 's.pk'}, pr); }`);
  }

  private deferSlots(owner: number, count: number): void {
    const prog = this.me.program;
    for (let k = 1; k <= count && !this.ended; k++) {
      const dpc = owner + k;
      if (!prog.contains(dpc)) {
        this.throwing(`rt.fault('NC6043', ${owner}, { target: ${dpc}, first: ${prog.start}, last: ${prog.end - 1} })`);
        return;
      }
      const insn = prog.insns[dpc - prog.start];
      if (insn === undefined) {
        this.throwing(`rt.invalidWordFault(K[${this.k(prog)}], ${dpc})`);
        return;
      }
      const problem = deferSlotProblem(insn);
      if (problem) {
        this.throwing(`rt.fault('NC6051', ${dpc}, { what: ${JSON.stringify(problem)}, branch: ${owner} })`);
        return;
      }
      this.simple(insn, dpc);
    }
  }

  private branch(insn: Extract<NfpInsn, { format: 'br' | 'br_bit' | 'rtn' }>, pc: number): void {
    if (this.notSimulated(insn, pc)) return;
    let target = '';
    if (insn.format === 'br') {
      this.emit(`tk = ${CONDITIONS[insn.condition]};`);
      target = String(insn.target);
    } else {
      const R = this.access(insn.reg, pc);
      if (insn.format === 'br_bit') {
        this.emit(`{ ${R.pre}tk = ((${R.read} >>> ${insn.bit}) & 1) === ${insn.branchIfSet ? 1 : 0}; ${R.post}}`);
        target = String(insn.target);
      } else {
        this.emit(`{ ${R.pre}tg = ${R.read} >>> 0; tk = true; ${R.post}}`);
        target = 'tg';
      }
    }
    this.i++;
    this.pk = PREV.none;
    this.deferSlots(pc, insn.defer);
    if (this.ended) return;
    const codeStore = this.me.abi.codeStoreWords;
    const outside =
      insn.format === 'rtn'
        ? `if (tg >= ${codeStore}) { ${this.sync}rt.fault('NC6042', ${pc}, { target: tg, last: ${codeStore - 1} }); } `
        : Number(target) >= codeStore
          ? `${this.sync}rt.fault('NC6042', ${pc}, { target: ${target}, last: ${codeStore - 1} }); `
          : '';
    const taken = `${outside}s.cycles = c0 + ${this.i + branchShadow(this.me, insn)}; s.instructions = n0 + ${this.i}; s.pc = ${target}; s.fromPc = ${pc}; return ${STEP.branch};`;
    const unconditional = insn.format === 'rtn' || (insn.format === 'br' && insn.condition === 'br');
    this.emit(this.epilogue());
    if (unconditional) this.emit(taken);
    else {
      this.emit(`if (tk) { ${taken} }`);
      this.emit(`s.cycles = c0 + ${this.i}; s.instructions = n0 + ${this.i}; s.pc = ${pc + 1 + insn.defer}; s.fromPc = ${pc}; return ${STEP.branch};`);
    }
    this.ended = true;
  }

  private commandWithSwap(insn: CmdInsn, pc: number): void {
    if (this.notSimulated(insn, pc)) return;
    this.issue(insn, pc);
    this.i++;
    this.pk = PREV.none;
    this.deferSlots(pc, insn.ctxSwap);
    if (this.ended) return;
    this.pk = PREV.none;
    this.emit(`${this.epilogue()}s.cycles = c0 + ${this.i}; s.instructions = n0 + ${this.i}; rt.cmdPerform(s, s.swapCmd); s.pc = ${pc + 1 + insn.ctxSwap}; s.fromPc = ${pc + insn.ctxSwap}; return ${STEP.sleep};`);
    this.ended = true;
  }

  /** local_csr_rd and the immed that receives its value. */
  private csrRead(insn: Extract<NfpInsn, { format: 'local_csr' }>, pc: number): number {
    this.emit(`${this.sync}cv = rt.csrRead(s, ${pc}, ${insn.csr});`);
    this.i++;
    this.pk = PREV.none;
    const prog = this.me.program;
    const next = pc + 1;
    if (!prog.contains(next)) {
      this.fallExit(next);
      return next;
    }
    const immed = prog.insns[next - prog.start];
    if (immed === undefined) {
      this.throwing(`rt.invalidWordFault(K[${this.k(prog)}], ${next})`);
      return next;
    }
    if (!isCsrImmed(immed)) {
      this.throwing(`rt.csrFollowFault(${pc}, K[${this.k(immed)}])`);
      return next;
    }
    if (this.notSimulated(immed, next)) return next;
    const D = this.access((immed as Extract<NfpInsn, { format: 'immed' }>).dest, next);
    this.emit(`{ ${D.pre}const r = cv; ${D.write('r', (immed as Extract<NfpInsn, { format: 'immed' }>).wrboth)} ${D.post}pr = r; }`);
    this.i++;
    this.pk = PREV.result;
    return next + 1;
  }

  build(): string {
    const prog = this.me.program;
    let pc = this.entry;
    while (!this.ended) {
      if (!prog.contains(pc)) {
        this.fallExit(pc);
        break;
      }
      const insn = prog.insns[pc - prog.start];
      if (insn === undefined) {
        this.throwing(`rt.invalidWordFault(K[${this.k(prog)}], ${pc})`);
        break;
      }
      this.emit(`// ${pc}: ${insn.format}`);
      if (insn.format === 'br' || insn.format === 'br_bit' || insn.format === 'rtn') this.branch(insn, pc);
      else if (insn.format === 'cmd' && insn.ctxSwap !== 3) this.commandWithSwap(insn, pc);
      else if (insn.format === 'local_csr' && insn.value === undefined) pc = this.csrRead(insn, pc);
      else {
        this.simple(insn, pc);
        pc++;
      }
      if (!this.ended && this.i >= MAX_BLOCK) this.fallExit(pc);
    }
    return [
      '"use strict";',
      `return function block_${this.entry}(s) {`,
      'const A = s.a, B = s.b, XI = s.xin, XO = s.xout, LM = s.lm, LA = s.lmAddr, LR = s.lmReady;',
      'const c0 = s.cycles, n0 = s.instructions;',
      'let fr = s.fr, fc = s.fc, fv = s.fv, pa = s.pa, pr = s.pr, tk = true, tg = 0, cv = 0;',
      ...this.code,
      '};',
    ].join('\n');
  }
}

type BlockFactory = (rt: typeof RT, consts: unknown[]) => BlockFn;
/**
 * Compiled sources, shared by all translators: the same block (same words,
 * same latency figures) compiles once per process. `K` holds the block's
 * records and is passed per translator, so a hit is always safe.
 */
const FACTORIES = new Map<string, BlockFactory>();
const FACTORY_LIMIT = 4096;

/** Translated blocks of one microengine's program, made on first use. */
export class BlockTranslator {
  private readonly blocks: (BlockFn | undefined)[];
  private readonly me: Microengine;
  readonly step: EngineStep;

  constructor(me: Microengine) {
    this.me = me;
    const start = me.program.start;
    const blocks: (BlockFn | undefined)[] = new Array(me.program.end - start).fill(undefined);
    this.blocks = blocks;
    this.step = (_me, s) => (blocks[s.pc - start] ?? this.translate(s.pc))(s);
  }

  /** The generated source of the block at `pc` (for tests and debugging). */
  source(pc: number): string {
    return new BlockBuilder(this.me, pc).build();
  }

  private translate(pc: number): BlockFn {
    const builder = new BlockBuilder(this.me, pc);
    const body = builder.build();
    let factory = FACTORIES.get(body);
    if (!factory) {
      factory = new Function('rt', 'K', body) as BlockFactory;
      if (FACTORIES.size >= FACTORY_LIMIT) FACTORIES.clear();
      FACTORIES.set(body, factory);
    }
    const fn = factory(RT, builder.consts);
    this.blocks[pc - this.me.program.start] = fn;
    return fn;
  }
}
