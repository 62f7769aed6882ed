/**
 * `nicoff verify` through the built launcher: verdicts and exit statuses
 * checked against the running kernel's own verdict on the same program, the
 * refusal line against the C source, --type / --target / --log / --facts /
 * --json, and bad input.
 *
 * The CLI is built into build/cli-verify-test (not dist/): test/cli/cli.test.ts
 * rebuilds dist/ in a parallel worker, and a launcher reading a file tsc is
 * rewriting would make both suites flaky.
 */
import { describe, test, expect, beforeAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolAvailable } from '../fixtures/objects/oracle.js';
import { loadObject } from '../../src/ebpf/load-object.js';
import { PROG_TYPE } from '../../src/ebpf/kernel/kernel-enums.js';
import { kernelOracleOrSkip, programRequestFromObject, runInKernelSync, type KernelRunResult } from '../../src/ebpf/kernel/kernel-runner.js';
import type { ProgramType } from '../../src/ebpf/bpf-object.js';

const root = join(import.meta.dirname, '..', '..');
const buildDir = join(root, 'build', 'cli-verify-test');
const tmp = mkdtempSync(join(tmpdir(), 'nicoff-cli-verify-'));
const FIXTURE_C = join(root, 'test', 'fixtures', 'verifier', 'xdp-missing-bounds.c');
const badObject = join(tmp, 'xdp-missing-bounds.o');
const CLANG = 'clang-19';

function nicoff(args: string[]) {
  const env = { ...process.env };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  const r = spawnSync(process.execPath, [join(buildDir, 'bin', 'nicoff'), ...args], { cwd: root, encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(args: string[]) {
  const r = nicoff([...args, '--json']);
  return { status: r.status, j: JSON.parse(r.stdout) };
}

/** The kernel's verdict on one program of an object, loaded as `type` (default: its own). */
function kernelLoad(path: string, progName?: string, type?: ProgramType): KernelRunResult {
  const obj = loadObject(new Uint8Array(readFileSync(path)), { path });
  const prog = progName ? obj.programs.find((p) => p.name === progName)! : obj.programs[0];
  const request = programRequestFromObject(obj, prog);
  return runInKernelSync(type ? { ...request, progType: PROG_TYPE[type], expectedAttachType: undefined } : request);
}

/** The instruction the kernel stopped at: the last `N: (op) ...` line of its log. */
function kernelFailingInsn(log: string): number | undefined {
  const lines = [...log.matchAll(/^(\d+): \([0-9a-f]{2}\)/gm)];
  return lines.length ? Number(lines[lines.length - 1][1]) : undefined;
}

const kernel = kernelOracleOrSkip();
const kernelTest = kernel.ok ? test : test.skip;

beforeAll(() => {
  mkdirSync(join(buildDir, 'bin'), { recursive: true });
  copyFileSync(join(root, 'bin', 'nicoff'), join(buildDir, 'bin', 'nicoff'));
  const b = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(buildDir, 'dist')], { cwd: root, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build failed:\n${b.stdout}${b.stderr}`);
  if (!toolAvailable(CLANG)) throw new Error(`${CLANG} is needed to build ${FIXTURE_C}`);
  const include = `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
  const c = spawnSync(CLANG, ['-O2', '-g', '-target', 'bpf', include, '-c', FIXTURE_C, '-o', badObject], { encoding: 'utf8' });
  if (c.status !== 0) throw new Error(`${CLANG} failed:\n${c.stderr}`);
}, 180_000);

describe('nicoff verify: accepted programs', () => {
  kernelTest('an example the kernel accepts: exit 0 and one ok line with the counts', () => {
    expect(kernelLoad('examples/xdp_count.o').loaded).toBe(true);
    const r = nicoff(['verify', 'examples/xdp_count.o']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/^xdp_count \(xdp, host\): ok: \d+ insns processed, \d+ states \(peak \d+\), [\d.]+ ms$/m);
  });

  kernelTest('a straight-line program: the processed-instruction count is the kernel\'s', () => {
    const k = kernelLoad('examples/xdp_pass.o');
    expect(k.loaded).toBe(true);
    const { status, j } = json(['verify', 'examples/xdp_pass.o']);
    expect(status).toBe(0);
    expect(j.ok).toBe(true);
    expect(j.programs).toHaveLength(1);
    expect(j.programs[0]).toMatchObject({ name: 'xdp_pass', type: 'xdp', ok: true });
    expect(j.programs[0].stats.processedInsns).toBe(k.processedInsns);
  });

  test('without --prog every program of the object is verified', () => {
    const names = loadObject(new Uint8Array(readFileSync(join(root, 'test/fixtures/objects/multi.o')))).programs.map((p) => p.name);
    expect(names.length).toBeGreaterThan(1);
    const { status, j } = json(['verify', 'test/fixtures/objects/multi.o']);
    expect(j.programs.map((p: { name: string }) => p.name)).toEqual(names);
    expect(status).toBe(j.programs.every((p: { ok: boolean }) => p.ok) ? 0 : 1);
    const one = json(['verify', 'test/fixtures/objects/multi.o', '--prog', 'tc_prog']);
    expect(one.j.programs.map((p: { name: string }) => p.name)).toEqual(['tc_prog']);
  });
});

describe('nicoff verify: refusals', () => {
  kernelTest('a packet read without a bounds check: the kernel refuses it, and so does nicoff, naming the C line', () => {
    const k = kernelLoad(badObject);
    expect(k.loaded).toBe(false);
    expect(k.log).toMatch(/invalid access to packet/);
    const failingInsn = kernelFailingInsn(k.log);
    const sourceLine = readFileSync(FIXTURE_C, 'utf8').split('\n').findIndex((l) => l.includes('MISSING BOUNDS CHECK')) + 1;

    const r = nicoff(['verify', badObject]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^error NC4\\d{3} .*insn ${failingInsn}, .*xdp-missing-bounds\\.c:${sourceLine}: \\S`));

    const { status, j } = json(['verify', badObject]);
    expect(status).toBe(1);
    expect(j.ok).toBe(false);
    expect(j.programs[0].error.code).toMatch(/^NC4\d{3}$/);
    expect(j.programs[0].error.location.insn).toBe(failingInsn);
    expect(j.programs[0].error.location.source.line).toBe(sourceLine);
    expect(typeof j.programs[0].kernelStyle).toBe('string');
  });

  test('--log adds the state trace after the one-line refusal; --log 2 traces at least as much', () => {
    const plain = nicoff(['verify', badObject]).stderr.trim().split('\n');
    const level1 = nicoff(['verify', badObject, '--log']);
    const level2 = nicoff(['verify', badObject, '--log', '2']);
    expect(level1.status).toBe(1);
    expect(level2.status).toBe(1);
    const l1 = level1.stderr.trim().split('\n');
    const l2 = level2.stderr.trim().split('\n');
    expect(l1[0]).toBe(plain[0]);
    expect(l1.length).toBeGreaterThan(1);
    expect(l2.length).toBeGreaterThanOrEqual(l1.length);
    const { j } = json(['verify', badObject, '--log', '2']);
    expect(j.programs[0].log.length).toBe(l2.length - 1);
  });

  kernelTest('--type overrides the section: tc_mark is refused as xdp, by the kernel and by nicoff', () => {
    expect(kernelLoad('examples/tc_mark.o').loaded).toBe(true);
    expect(kernelLoad('examples/tc_mark.o', undefined, 'xdp').loaded).toBe(false);
    expect(json(['verify', 'examples/tc_mark.o']).status).toBe(0);
    const asTc = json(['verify', 'examples/tc_mark.o', '--type', 'tc']);
    expect(asTc.status).toBe(0);
    expect(asTc.j.programs[0].type).toBe('sched_cls');
    const asXdp = json(['verify', 'examples/tc_mark.o', '--type', 'xdp']);
    expect(asXdp.status).toBe(1);
    expect(asXdp.j.programs[0].type).toBe('xdp');
    expect(asXdp.j.programs[0].error.code).toMatch(/^NC4\d{3}$/);
    // The other spellings map to the kernel's names.
    expect(json(['verify', 'examples/tc_mark.o', '--type', 'action']).j.programs[0].type).toBe('sched_act');
    expect(json(['verify', 'examples/xdp_pass.o', '--type', 'socket']).j.programs[0].type).toBe('socket_filter');
  });

  test('--target nfp refuses what the NFP offload cannot run (an LRU hash map, bpf_ktime_get_ns) with an NC5 code, exit 1', () => {
    // nfp-microcode.md D: the firmware offers hash and array maps only, and no ktime helper.
    const source = readFileSync(join(root, 'examples', 'xdp_rate_limit.c'), 'utf8');
    expect(source).toMatch(/BPF_MAP_TYPE_LRU_HASH/);
    expect(source).toMatch(/bpf_ktime_get_ns\(\)/);
    expect(nicoff(['verify', 'examples/xdp_rate_limit.o']).status).toBe(0);
    const r = nicoff(['verify', 'examples/xdp_rate_limit.o', '--target', 'nfp']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error NC5\d{3} /);
  });
});

describe('nicoff verify --facts', () => {
  test('JSON shape: one entry per instruction with facts, disassembly text, hex bigints, the lookup call and the map load', () => {
    const { status, j } = json(['verify', 'examples/xdp_count.o', '--facts']);
    expect(status).toBe(0);
    const facts = j.programs[0].facts;
    expect(facts.program).toBe('xdp_count');
    expect(Array.isArray(facts.insns)).toBe(true);
    for (const e of facts.insns) {
      expect(typeof e.insn).toBe('number');
      expect(typeof e.text).toBe('string');
      expect(e.visits).toBeGreaterThan(0);
      expect(e.source).toMatch(/xdp_count\.c:\d+$/);
      for (const v of Object.values(e.alu ?? {})) expect(v).toMatch(/^0x[0-9a-f]+$/);
    }
    // xdp_count.c: key (a u32 at r10 - 4) -> bpf_map_lookup_elem (helper 1) on the one map.
    const call = facts.insns.find((e: { call?: { func: number } }) => e.call?.func === 1);
    expect(call.call.kind).toBe('helper');
    expect(call.call.args[1].stackOff).toBe(-4);
    expect(call.text).toBe('call 0x1');
    const mapLoad = facts.insns.find((e: { mapIndex?: number }) => e.mapIndex !== undefined);
    expect(mapLoad.mapIndex).toBe(0);
    expect(mapLoad.insn).toBeLessThan(call.insn);

    // Without --json: the ok line, then the same facts as JSON.
    const text = nicoff(['verify', 'examples/xdp_count.o', '--facts']);
    expect(text.status).toBe(0);
    const [first, ...rest] = text.stdout.split('\n');
    expect(first).toMatch(/^xdp_count .*ok/);
    expect(JSON.parse(rest.join('\n'))).toEqual(facts);
  });

  test('the facts text of each instruction is what llvm-objdump-19 prints for it', () => {
    if (!toolAvailable('llvm-objdump-19')) return;
    const { j } = json(['verify', 'examples/xdp_udp53.o', '--facts']);
    const llvm = spawnSync('llvm-objdump-19', ['-d', 'examples/xdp_udp53.o'], { cwd: root, encoding: 'utf8' }).stdout;
    const byPc = new Map(
      llvm
        .split('\n')
        .map((l) => /^\s+(\d+):\t[0-9a-f ]+\t(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => !!m)
        .map((m) => [Number(m[1]), m[2].replace(/ <[^>]*>$/, '').trim()]),
    );
    const entries = j.programs[0].facts.insns as { insn: number; text: string }[];
    expect(entries.length).toBeGreaterThan(10);
    for (const e of entries) expect({ insn: e.insn, text: e.text }).toEqual({ insn: e.insn, text: byPc.get(e.insn) });
  });
});

describe('nicoff verify: bad input and usage', () => {
  test('a missing file, a file that is not ELF: exit 2 with an NC1 code', () => {
    const missing = nicoff(['verify', 'no/such/file.o']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/NC1001 no\/such\/file\.o: cannot read file/);
    const garbage = join(tmp, 'garbage.o');
    writeFileSync(garbage, 'not an object');
    const g = nicoff(['verify', garbage]);
    expect(g.status).toBe(2);
    expect(g.stderr).toMatch(/NC1002/);
  });

  test('an unknown --prog: exit 2, NC1022 listing the programs', () => {
    const r = nicoff(['verify', 'examples/xdp_pass.o', '--prog', 'nope']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/NC1022 .*nope.*xdp_pass/);
    expect(json(['verify', 'examples/xdp_pass.o', '--prog', 'nope']).j.error.code).toBe('NC1022');
  });

  test('bad option values: exit 2', () => {
    expect(nicoff(['verify', 'examples/xdp_pass.o', '--type', 'kprobe']).status).toBe(2);
    expect(nicoff(['verify', 'examples/xdp_pass.o', '--target', 'gpu']).status).toBe(2);
    expect(nicoff(['verify', 'examples/xdp_pass.o', '--log', '3']).status).toBe(2);
    expect(nicoff(['verify']).status).toBe(2);
  });
});
