/**
 * The kernel's pre-passes (control-flow.ts) against the live kernel: every
 * check has a failing and a passing program in the corpus text form, and the
 * same program is loaded into the running kernel, whose error line must be
 * exactly the kernelStyle nicoff gives (or, where nicoff cannot reproduce the
 * kernel's wording, at least a refusal).
 *
 * Three refusals cannot be put to the kernel through the runner, which
 * checks its request before calling bpf(2): an empty program, an ld_imm64 in
 * the last slot and a map index beyond the maps given. Their expectations
 * come from the kernel's documented behaviour (bpf_prog_load: E2BIG for
 * insn_cnt 0; resolve_pseudo_ldimm64: "invalid bpf_ld_imm64 insn"; "fd %d is
 * not pointing to valid bpf_map").
 */
import { describe, test, expect } from '@jest/globals';
import type { DiagnosticCode } from '../../src/diagnostics/catalogue.js';
import { kernelOracleOrSkip, runInKernelSync } from '../../src/ebpf/kernel/kernel-runner.js';
import { corpusRequest, kernelErrorLine, parseCorpusCase, type CorpusCase } from '../../src/verifier/corpus-file.js';
import { checkControlFlow, insnFieldError } from '../../src/verifier/control-flow.js';
import { verifyInputFromCorpus } from '../../src/verifier/program-input.js';

const kernel = kernelOracleOrSkip();
const liveTest = kernel.ok ? test : test.skip;

function corpusCase(name: string, body: string, header = '// type: xdp'): CorpusCase {
  return parseCorpusCase(`// rule: ${name}\n${header}\n${body}\n`, `${name}.bpf`);
}

interface KernelAnswer {
  loaded: boolean;
  errorLine: string;
  log: string;
}

function askKernel(c: CorpusCase, logLevel: 1 | 2 = 1): KernelAnswer {
  const result = runInKernelSync({ ...corpusRequest(c), logLevel });
  return { loaded: result.loaded, errorLine: kernelErrorLine(result.log), log: result.log };
}

interface RefusedCase {
  name: string;
  header?: string;
  body: string;
  code: DiagnosticCode;
  insn?: number;
  /** 'exact': the kernel's error line equals kernelStyle; 'reject': the kernel refuses, in words nicoff cannot reproduce. */
  kernel: 'exact' | 'reject';
}

const REFUSED: RefusedCase[] = [
  { name: 'pseudo call past the end', body: '.insn 0x85, 0, 1, 0, 10\nr0 = 0\nexit', code: 'NC4003', insn: 0, kernel: 'exact' },
  { name: 'pseudo call before the start', body: 'r0 = 0\n.insn 0x85, 0, 1, 0, -5\nexit', code: 'NC4003', insn: 1, kernel: 'exact' },
  { name: 'function pointer past the end', body: 'ld_pseudo r1, 4, 30\nr0 = 0\nexit', code: 'NC4003', insn: 0, kernel: 'exact' },
  { name: 'call checked before jumps', body: 'goto +10\n.insn 0x85, 0, 1, 0, 40\nexit', code: 'NC4003', insn: 1, kernel: 'exact' },
  { name: 'kfunc from a non-GPL program', header: '// type: xdp\n// license: MIT', body: '.insn 0x85, 0, 2, 0, 0\nr0 = 0\nexit', code: 'NC4005', insn: 0, kernel: 'exact' },
  { name: 'kfunc in a module BTF slot', body: '.insn 0x85, 0, 2, 1, 5\nr0 = 0\nexit', code: 'NC4006', insn: 0, kernel: 'exact' },
  { name: 'kfunc with a negative BTF slot', body: '.insn 0x85, 0, 2, -1, 5\nr0 = 0\nexit', code: 'NC4006', insn: 0, kernel: 'exact' },
  { name: 'kfunc by vmlinux BTF id', body: '.insn 0x85, 0, 2, 0, 1\nr0 = 0\nexit', code: 'NC4007', insn: 0, kernel: 'reject' },
  { name: 'goto past the end', body: 'goto +5\nr0 = 0\nexit', code: 'NC4008', insn: 0, kernel: 'exact' },
  { name: 'goto before the start', body: 'r0 = 0\ngoto -3\nexit', code: 'NC4008', insn: 1, kernel: 'exact' },
  { name: 'conditional jump past the end', body: 'r0 = 0\nif r1 == 0 goto +2\nexit', code: 'NC4008', insn: 1, kernel: 'exact' },
  { name: 'gotol past the end', body: 'r0 = 0\ngotol +5\nexit', code: 'NC4008', insn: 1, kernel: 'exact' },
  { name: 'may_goto past the end', body: 'r0 = 0\nmay_goto +5\nexit', code: 'NC4008', insn: 1, kernel: 'exact' },
  { name: 'jump into another function', body: '.insn 0x85, 0, 1, 0, 2\nr0 = 0\ngoto +1\nr0 = 1\nexit', code: 'NC4008', insn: 2, kernel: 'exact' },
  { name: 'second slot of ld_imm64 seen as a jump', body: '.insn 0x18, 1, 0, 0, 0\n.insn 0x05, 0, 0, 50, 0\nr0 = 0\nexit', code: 'NC4008', insn: 1, kernel: 'exact' },
  { name: 'program falls off its end', body: 'r0 = 0', code: 'NC4009', insn: 0, kernel: 'exact' },
  { name: 'program ends in a call', body: 'r0 = 0\ncall 0x7', code: 'NC4009', insn: 1, kernel: 'exact' },
  { name: 'program ends in a conditional jump', body: 'r0 = 0\nif r0 == 0 goto -1', code: 'NC4009', insn: 1, kernel: 'exact' },
  { name: 'function falls into the next', body: '.insn 0x85, 0, 1, 0, 2\nr0 = 0\nr0 = 1\nr0 = 2\nexit', code: 'NC4009', insn: 2, kernel: 'exact' },
  { name: 'function pointer splits an ld_imm64', body: 'ld_pseudo r1, 4, 1\nr0 = 0\nexit\nr0 = 1\nexit', code: 'NC4009', insn: 1, kernel: 'exact' },
  { name: 'unknown opcode in the last slot', body: 'r0 = 0\nexit\n.insn 0xff, 0, 0, 0, 0', code: 'NC4009', insn: 2, kernel: 'exact' },
  { name: 'LDX with an immediate', body: 'r0 = 0\nexit\n.insn 0x61, 0, 1, 0, 1\nexit', code: 'NC4010', insn: 2, kernel: 'exact' },
  { name: 'LDX with mode ABS', body: 'r0 = 0\nexit\n.insn 0x21, 0, 1, 0, 0\nexit', code: 'NC4010', insn: 2, kernel: 'exact' },
  { name: 'ld_imm64 second slot with an opcode', body: '.insn 0x18, 0, 0, 0, 0\n.insn 0x07, 0, 0, 0, 0\nr0 = 0\nexit', code: 'NC4011', insn: 0, kernel: 'exact' },
  { name: 'ld_imm64 second slot with a register', body: '.insn 0x18, 1, 0, 0, 0\n.insn 0, 0, 1, 0, 5\nr0 = 0\nexit', code: 'NC4011', insn: 0, kernel: 'exact' },
  { name: 'ld_imm64 second slot with an offset', body: '.insn 0x18, 1, 0, 0, 0\n.insn 0, 0, 0, 1, 5\nr0 = 0\nexit', code: 'NC4011', insn: 0, kernel: 'exact' },
  { name: 'ld_imm64 pseudo source 7', body: 'ld_pseudo r1, 7, 0\nr0 = 0\nexit', code: 'NC4012', insn: 0, kernel: 'exact' },
  { name: 'map fd with an upper half', header: '// type: xdp\n// maps: m:array:4:8:1', body: '.insn 0x18, 1, 1, 0, 0\n.insn 0, 0, 0, 0, 5\nr0 = 0\nexit', code: 'NC4012', insn: 0, kernel: 'exact' },
  { name: 'kernel BTF object', body: 'ld_pseudo r1, 3, 1\nr0 = 0\nexit', code: 'NC4013', insn: 0, kernel: 'reject' },
  { name: 'map by fd_array slot', body: 'ld_pseudo r1, 5, 0\nr0 = 0\nexit', code: 'NC4014', insn: 0, kernel: 'exact' },
  { name: 'map value by fd_array slot', body: 'ld_pseudo r1, 6, 0\nr0 = 0\nexit', code: 'NC4014', insn: 0, kernel: 'exact' },
  { name: 'direct value offset too large', header: '// type: xdp\n// maps: m:array:4:8:1', body: '.insn 0x18, 1, 2, 0, 0\n.insn 0, 0, 0, 0, 0x20000000\nr0 = 0\nexit', code: 'NC4016', insn: 0, kernel: 'exact' },
  { name: 'direct value of a hash map', header: '// type: xdp\n// maps: m:hash:4:8:1', body: 'ld_pseudo r1, 2, 0\nr0 = 0\nexit', code: 'NC4017', insn: 0, kernel: 'exact' },
  { name: 'direct value of a two-entry array', header: '// type: xdp\n// maps: m:array:4:8:2', body: 'ld_pseudo r1, 2, 0\nr0 = 0\nexit', code: 'NC4018', insn: 0, kernel: 'exact' },
  { name: 'direct value past the value', header: '// type: xdp\n// maps: m:array:4:8:1', body: '.insn 0x18, 1, 2, 0, 0\n.insn 0, 0, 0, 0, 8\nr0 = 0\nexit', code: 'NC4018', insn: 0, kernel: 'exact' },
  { name: 'unknown opcode', body: '.insn 0xff, 0, 0, 0, 0\nr0 = 0\nexit', code: 'NC4020', insn: 0, kernel: 'exact' },
  { name: 'unknown opcode before unreachable code', body: 'r0 = 0\ngoto +1\n.insn 0x8f, 0, 0, 0, 0\nexit', code: 'NC4020', insn: 2, kernel: 'exact' },
  { name: 'goto by register', body: 'r0 = 0\n.insn 0x0d, 0, 0, 0, 0\nexit', code: 'NC4020', insn: 1, kernel: 'exact' },
  { name: 'call in the JMP32 class', body: 'r0 = 0\n.insn 0x86, 0, 1, 0, 0\nexit', code: 'NC4020', insn: 1, kernel: 'exact' },
  { name: 'code after exit', body: 'r0 = 0\nexit\nexit', code: 'NC4021', insn: 2, kernel: 'exact' },
  { name: 'code jumped over', body: 'r0 = 0\ngoto +1\nr0 = 1\nexit', code: 'NC4021', insn: 2, kernel: 'exact' },
  { name: 'function never called', body: 'r0 = 0\nexit\nr0 = 1\nexit', code: 'NC4021', insn: 2, kernel: 'exact' },
  { name: 'jump to the second half of an unreached ld_imm64', body: 'goto +1\nr0 = 0 ll\nr0 = 0\nexit', code: 'NC4021', insn: 1, kernel: 'exact' },
  { name: 'unreached code before a split ld_imm64', body: 'r0 = 0\nif r1 == 0 goto +3\nexit\nexit\nr1 = 0 ll\nexit', code: 'NC4021', insn: 3, kernel: 'exact' },
  { name: 'jump into an ld_imm64', body: 'r0 = 0\nif r1 == 0 goto +1\nr0 = 0 ll\nexit', code: 'NC4022', insn: 2, kernel: 'exact' },
  { name: 'jump back into an ld_imm64', body: 'r0 = 0 ll\nif r1 == 0 goto -2\nexit', code: 'NC4022', insn: 0, kernel: 'exact' },
];

interface AcceptedCase {
  name: string;
  header?: string;
  body: string;
  /** The kernel accepts it; otherwise it refuses it in a later pass, with this line (not a control-flow refusal). */
  kernelLater?: string;
}

const ACCEPTED: AcceptedCase[] = [
  { name: 'return a constant', body: 'r0 = 0\nexit' },
  { name: 'both sides of a branch count, even one never taken', body: 'r0 = 0\nif r0 == 0 goto +1\nr0 = 1\nexit' },
  { name: 'loop back to an earlier instruction (privileged)', body: 'r0 = 0\nr1 = 3\nr1 += -1\nif r1 != 0 goto -2\nexit' },
  { name: 'goto to the first half of an ld_imm64', body: 'goto +0\nr0 = 0 ll\nexit' },
  { name: 'bpf-to-bpf call', body: '.insn 0x85, 0, 1, 0, 2\nr0 = 0\nexit\nr0 = 1\nexit' },
  { name: 'function ending in a goto back', body: '.insn 0x85, 0, 1, 0, 2\nr0 = 0\nexit\nr0 = 1\nif r0 == 0 goto +1\nexit\ngoto -2' },
  { name: 'gotol inside the program', body: 'r0 = 0\ngotol +0\nexit' },
  { name: 'may_goto inside the program', body: 'r0 = 0\nmay_goto +0\nexit' },
  { name: 'map fd', header: '// type: xdp\n// maps: m:hash:4:8:1', body: 'r1 = 0 ll\nr0 = 0\nexit' },
  { name: 'direct value of a single-entry array', header: '// type: xdp\n// maps: m:array:4:8:1', body: '.insn 0x18, 1, 2, 0, 0\n.insn 0, 0, 0, 0, 4\nr0 = 0\nexit' },
  { name: 'load-acquire atomic (6.15)', body: '*(u64 *)(r10 - 0x8) = 0x0\n.insn 0xdb, 1, 10, -8, 0x100\nr0 = 0\nexit' },
  // These pass every pre-pass; the kernel refuses them while interpreting, for reasons that are not control flow.
  { name: 'kfunc id 0 is left to dead-code elimination', body: '.insn 0x85, 0, 2, 0, 0\nr0 = 0\nexit', kernelLater: 'invalid kernel function call not eliminated in verifier pass' },
  { name: 'function pointer', body: 'ld_pseudo r1, 4, 3\nr0 = 0\nexit\nr0 = 1\nexit', kernelLater: 'missing btf func_info' },
  { name: 'exit with reserved fields passes the pre-passes', body: 'r0 = 0\n.insn 0x95, 1, 0, 0, 0', kernelLater: 'BPF_EXIT uses reserved fields' },
];

describe('checkControlFlow refusals, against the live kernel', () => {
  test.each(REFUSED.map((c) => [c.name, c] as const))('%s', (_name, rc) => {
    const c = corpusCase(rc.name, rc.body, rc.header);
    const result = checkControlFlow(verifyInputFromCorpus(c));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect({ code: result.error.code, insn: result.error.location.insn }).toEqual({ code: rc.code, insn: rc.insn });
    expect(result.error.category).toBe('invalid');
    expect(result.error.location.file).toBe(c.file);
    if (!kernel.ok) return;
    const answer = askKernel(c);
    expect(answer.loaded).toBe(false);
    if (rc.kernel === 'exact') expect(result.kernelStyle).toBe(answer.errorLine);
  });
});

describe('checkControlFlow acceptances, against the live kernel', () => {
  test.each(ACCEPTED.map((c) => [c.name, c] as const))('%s', (_name, ac) => {
    const c = corpusCase(ac.name, ac.body, ac.header);
    const result = checkControlFlow(verifyInputFromCorpus(c));
    expect(result.ok ? 'ok' : `${result.error.code} ${result.kernelStyle}`).toBe('ok');
    if (!kernel.ok) return;
    const answer = askKernel(c);
    if (ac.kernelLater === undefined) expect(answer.errorLine).toBe('');
    else expect(answer.errorLine).toBe(ac.kernelLater);
    expect(answer.loaded).toBe(ac.kernelLater === undefined);
  });
});

/** The entry calls functions 1..functions-1, each `r0 = 0; exit`. */
function functionsProgram(functions: number): string {
  const calls = functions - 1;
  const lines: string[] = [];
  for (let k = 0; k < calls; k++) lines.push(`.insn 0x85, 0, 1, 0, ${calls - k + 1 + 2 * k}`);
  lines.push('r0 = 0', 'exit');
  for (let k = 0; k < calls; k++) lines.push('r0 = 0', 'exit');
  return lines.join('\n');
}

/** A whole corpus file whose program references each of `maps` maps once. */
function mapsProgram(maps: number): string {
  const header = ['// type: xdp', ...Array.from({ length: maps }, (_, k) => `// maps: m${k}:array:4:8:1`)].join('\n');
  const body = [...Array.from({ length: maps }, (_, k) => `ld_pseudo r1, 1, ${k}`), 'r0 = 0', 'exit'].join('\n');
  return `${header}\n${body}`;
}

/** A limit: one past it is refused with `code` (at `insn` when given) in the kernel's words, the limit itself loads. */
interface LimitCase {
  name: string;
  over: () => CorpusCase;
  atLimit: () => CorpusCase;
  code: DiagnosticCode;
  insn?: number;
}

const LIMITS: LimitCase[] = [
  {
    name: '257 functions are too many; 256 are not',
    over: () => corpusCase('too many functions', functionsProgram(257)),
    atLimit: () => corpusCase('functions at the limit', functionsProgram(256)),
    code: 'NC4004',
  },
  {
    name: '65 maps in one program are too many; 64 are not',
    over: () => parseCorpusCase(mapsProgram(65), 'maps-65.bpf'),
    atLimit: () => parseCorpusCase(mapsProgram(64), 'maps-64.bpf'),
    code: 'NC4019',
    insn: 128,
  },
];

describe('limits, against the live kernel', () => {
  liveTest.each(LIMITS.map((c) => [c.name, c] as const))('%s', (_name, lc) => {
    const over = lc.over();
    const result = checkControlFlow(verifyInputFromCorpus(over));
    expect(result.ok ? 'ok' : result.error.code).toBe(lc.code);
    if (!result.ok) {
      if (lc.insn !== undefined) expect(result.error.location.insn).toBe(lc.insn);
      expect(result.kernelStyle).toBe(askKernel(over).errorLine);
    }
    const limit = lc.atLimit();
    expect(checkControlFlow(verifyInputFromCorpus(limit)).ok).toBe(true);
    expect(askKernel(limit).loaded).toBe(true);
  });

  liveTest('which opcode bytes the kernel knows: all 256', () => {
    // Placed after exit, a known opcode is "unreachable", an unknown one "unknown opcode".
    const mismatches: string[] = [];
    for (let code = 0; code < 256; code++) {
      if (code === 0x18) continue; // ld_imm64 needs its second slot
      const c = corpusCase(`opcode ${code}`, `r0 = 0\nexit\n.insn ${code}, 0, 0, 0, 0\nexit`);
      const ours = checkControlFlow(verifyInputFromCorpus(c));
      const theirs = askKernel(c).errorLine;
      const oursLine = ours.ok ? '' : ours.kernelStyle;
      if (oursLine !== theirs) mismatches.push(`0x${code.toString(16)}: nicoff "${oursLine}", kernel "${theirs}"`);
    }
    expect(mismatches).toEqual([]);
  });
});

/** Refusals checked against the kernel's documented words: [code, insn, kernelStyle]. */
const UNASKABLE: { name: string; rule: string; header?: string; body: string; expected: [DiagnosticCode, number, string] }[] = [
  {
    name: 'an ld_imm64 in the last slot: check_subprogs finds it first, as the last instruction',
    rule: 'ld_imm64 last',
    body: 'r0 = 0\nexit\n.insn 0x18, 0, 0, 0, 0',
    expected: ['NC4009', 2, 'last insn is not an exit or jmp'],
  },
  {
    name: 'a map index beyond the maps given',
    rule: 'map index',
    header: '// type: xdp\n// maps: m:array:4:8:1',
    body: 'ld_pseudo r1, 1, 5\nr0 = 0\nexit',
    expected: ['NC4015', 0, 'fd 5 is not pointing to valid bpf_map'],
  },
];

describe('the refusals the runner cannot put to the kernel', () => {
  test('an empty program is refused before verification (E2BIG)', () => {
    const result = checkControlFlow({ name: 'empty', type: 'xdp', insns: [], maps: [], license: 'GPL', lineInfo: [], file: 'empty.o' });
    expect(result.ok ? 'ok' : result.error.code).toBe('NC4001');
    if (!result.ok) expect(result.error.location.file).toBe('empty.o');
  });

  test.each(UNASKABLE.map((c) => [c.name, c] as const))('%s', (_name, uc) => {
    const c = corpusCase(uc.rule, uc.body, uc.header);
    const result = checkControlFlow(verifyInputFromCorpus(c));
    expect(result.ok ? 'ok' : [result.error.code, result.error.location.insn, result.kernelStyle]).toEqual(uc.expected);
  });
});

describe('what checkControlFlow returns', () => {
  test('functions as the kernel lists them at log level 2 (func#N @start)', () => {
    const c = corpusCase('three functions', '.insn 0x85, 0, 1, 0, 3\n.insn 0x85, 0, 1, 0, 4\nr0 = 0\nexit\nr0 = 0\nexit\nr0 = 1\nexit');
    const result = checkControlFlow(verifyInputFromCorpus(c));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { subprogs, subprogOf } = result.cfg;
    expect(subprogs).toEqual([
      { start: 0, end: 4 },
      { start: 4, end: 6 },
      { start: 6, end: 8 },
    ]);
    expect(Array.from(subprogOf)).toEqual([0, 0, 0, 0, 1, 1, 2, 2]);
    if (!kernel.ok) return;
    const answer = askKernel(c, 2);
    const listed = [...answer.log.matchAll(/^func#(\d+) @(\d+)$/gm)].map((m) => Number(m[2]));
    expect(listed).toEqual(subprogs.map((s) => s.start));
  });

  test('prune points: branch targets, conditional jumps, call sites and return points, goto targets', () => {
    // 0: r0 = 0
    // 1: if r1 == 0 goto +2   (conditional jump: itself and its target 4)
    // 2: call 7               (helper: return point 3)
    // 3: goto +0              (target 4)
    // 4: call pc+1 -> 6       (bpf-to-bpf: itself, callee 6, return point 5)
    // 5: exit
    // 6: r0 = 0
    // 7: exit
    const c = corpusCase('prune points', 'r0 = 0\nif r1 == 0 goto +2\ncall 0x7\ngoto +0\n.insn 0x85, 0, 1, 0, 1\nexit\nr0 = 0\nexit');
    const result = checkControlFlow(verifyInputFromCorpus(c));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Array.from(result.cfg.pruneAt)).toEqual([0, 1, 0, 1, 1, 1, 1, 0]);
  });

  test('errors carry the source line from line info', () => {
    const c = corpusCase('line info', 'r0 = 0\nexit\nexit');
    const source = { file: 'prog.c', line: 12, column: 3, text: 'return 0;' };
    const result = checkControlFlow({ ...verifyInputFromCorpus(c), lineInfo: [undefined, undefined, source] });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.location).toEqual({ file: c.file, insn: 2, source });
  });
});

/** Reserved-field cases: the instruction at slot 3 after r0..r2 are set, then `r0 = 0; exit`. */
const FIELD_CASES: [string, string, string?][] = [
  ['alu K with a source register', '.insn 0x07, 1, 2, 0, 1'],
  ['alu X with an immediate', '.insn 0x0f, 1, 2, 0, 1'],
  ['alu K with an offset', '.insn 0x07, 1, 0, 1, 1'],
  ['alu X with an offset', '.insn 0x0f, 1, 2, 1, 0'],
  ['div K with offset 2', '.insn 0x37, 1, 0, 2, 3'],
  ['div X with an immediate', '.insn 0x3f, 1, 2, 0, 3'],
  ['shift with offset 1', '.insn 0x67, 1, 0, 1, 3'],
  ['smod K (offset 1) is valid', '.insn 0x97, 1, 0, 1, 3'],
  ['reserved fields come before the register number', '.insn 0x07, 11, 3, 0, 0'],
  ['neg with an immediate', '.insn 0x87, 1, 0, 0, 1'],
  ['neg with a source register', '.insn 0x87, 1, 2, 0, 0'],
  ['neg with an offset', '.insn 0x87, 1, 0, 1, 0'],
  ['le with width 17', '.insn 0xd4, 1, 0, 0, 17'],
  ['le with a source register', '.insn 0xd4, 1, 2, 0, 16'],
  ['le with an offset', '.insn 0xd4, 1, 0, 1, 16'],
  ['bswap with width 8', '.insn 0xd7, 1, 0, 0, 8'],
  ['mov X with an immediate', '.insn 0xbf, 1, 2, 0, 1'],
  ['mov32 X with offset 1', '.insn 0xbc, 1, 2, 1, 0'],
  ['mov32 X with offset 32', '.insn 0xbc, 1, 2, 32, 0'],
  ['mov64 X with offset 3', '.insn 0xbf, 1, 2, 3, 0'],
  ['mov K with a source register', '.insn 0xb7, 1, 2, 0, 0'],
  ['mov K with an offset', '.insn 0xb7, 1, 0, 8, 0'],
  ['mov32 K with an offset', '.insn 0xb4, 1, 0, 1, 0'],
  ['addr_space_cast to space 5', '.insn 0xbf, 1, 2, 1, 5'],
  ['st with a source register', '.insn 0x7a, 10, 1, -8, 0'],
  ['stx with an immediate', '.insn 0x7b, 10, 1, -8, 1'],
  ['atomic with opcode 2', '.insn 0xdb, 10, 1, -8, 2'],
  ['atomic add on a byte', '.insn 0xd3, 10, 1, -8, 0'],
  ['atomic add on a half word', '.insn 0xcb, 10, 1, -8, 0'],
  ['conditional jump K with a source register', '.insn 0x15, 1, 2, 0, 0'],
  ['conditional jump X with an immediate', '.insn 0x1d, 1, 2, 0, 1'],
  ['jmp32 K with a source register', '.insn 0x16, 1, 2, 0, 0'],
  ['goto with a destination register', '.insn 0x05, 1, 0, 0, 0'],
  ['goto with a source register', '.insn 0x05, 0, 1, 0, 0'],
  ['goto with an immediate', '.insn 0x05, 0, 0, 0, 1'],
  ['gotol with an offset', '.insn 0x06, 0, 0, 1, 0'],
  ['gotol with a destination register', '.insn 0x06, 1, 0, 0, 0'],
  ['call with a destination register', '.insn 0x85, 1, 0, 0, 7'],
  ['helper call with an offset', '.insn 0x85, 0, 0, 1, 7'],
  ['call with source 3', '.insn 0x85, 0, 3, 0, 7'],
  ['ld_imm64 with an offset', '.insn 0x18, 1, 0, 1, 0\n.insn 0, 0, 0, 0, 0'],
  ['may_goto with an immediate', '.insn 0xe5, 0, 0, 0, 1'],
  ['may_goto with a source register', '.insn 0xe5, 0, 1, 0, 0'],
  ['may_goto with a destination register', '.insn 0xe5, 1, 0, 0, 0'],
  ['ld_abs with a destination register', 'r6 = r1\n.insn 0x20, 1, 0, 0, 0', 'sched_cls'],
  ['ld_abs with an offset', 'r6 = r1\n.insn 0x20, 0, 0, 1, 0', 'sched_cls'],
  ['ld_abs with a source register', 'r6 = r1\n.insn 0x20, 0, 1, 0, 0', 'sched_cls'],
  ['ld_ind with a destination register', 'r6 = r1\n.insn 0x40, 1, 1, 0, 0', 'sched_cls'],
];

const EXIT_CASES: [string, string][] = [
  ['exit with a destination register', '.insn 0x95, 1, 0, 0, 0'],
  ['exit with a source register', '.insn 0x95, 0, 1, 0, 0'],
  ['exit with an immediate', '.insn 0x95, 0, 0, 0, 1'],
  ['exit with an offset is valid', '.insn 0x95, 0, 0, 1, 0'],
];

/** insnFieldError on the instruction at `under` gives the kernel's error line for the program, or nothing where it loads. */
function expectFieldVerdictOfKernel(c: CorpusCase, under: number): void {
  const ours = insnFieldError(c.insns[under]);
  if (!kernel.ok) return;
  const answer = askKernel(c);
  expect(ours ?? '(accepted)').toBe(answer.loaded ? '(accepted)' : answer.errorLine);
}

describe('insnFieldError, against the live kernel', () => {
  test.each(FIELD_CASES)('%s', (name, insnText, type = 'xdp') => {
    const c = corpusCase(name, `r0 = 0\nr1 = 0\nr2 = 0\n${insnText}\nr0 = 0\nexit`, `// type: ${type}`);
    expectFieldVerdictOfKernel(c, c.insns.length - 2 - (insnText.includes('0x18') ? 2 : 1));
  });

  test.each(EXIT_CASES)('%s', (name, insnText) => {
    expectFieldVerdictOfKernel(corpusCase(name, `r0 = 0\n${insnText}`), 1);
  });
});
