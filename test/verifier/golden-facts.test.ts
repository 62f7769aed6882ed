/**
 * The verifier's per-instruction facts against the facts the kernel's nfp
 * verifier hook recorded for the golden JIT vectors in ../shared/nfp-golden
 * (read in place, never copied): every `# verifier facts assumed` line of
 * every golden file must be reproduced by nicoff, and every key the golden
 * README documents must map to a facts field. Without that directory the
 * suite prints a skip notice, except under CI=true where it fails.
 */
import { describe, test, expect } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAP_TYPE, type ProgramType } from '../../src/ebpf/bpf-object.js';
import { decodeProgram } from '../../src/ebpf/decode.js';
import { encodeProgram } from '../../src/ebpf/encode.js';
import { PROG_TYPE } from '../../src/ebpf/kernel/kernel-enums.js';
import { kernelOracleOrSkip, runInKernelSync } from '../../src/ebpf/kernel/kernel-runner.js';
import { BPF_PSEUDO_MAP_FD } from '../../src/ebpf/opcodes.js';
import {
  canonicalGoldenValue,
  factsGoldenKeys,
  goldenFactKey,
  GOLDEN_FACT_KEYS,
  type GoldenFactKey,
} from '../../src/verifier/facts-json.js';
import { verifyProgram } from '../../src/verifier/verify-program.js';
import type { InsnFacts, ProgramFacts, VerifyInput } from '../../src/verifier/verify-types.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const GOLDEN_DIR = resolve(REPO_ROOT, '../shared/nfp-golden');
const GOLDEN_PROGRAMS = ['tc_shot', 'xdp_alu', 'xdp_count', 'xdp_drop', 'xdp_pass', 'xdp_udp53'];

/** README: "xdp_count.c: BPF_MAP_TYPE_ARRAY cnt, 4 x u64" (key: the u32 in the C source). */
const GOLDEN_MAPS: Record<string, VerifyInput['maps']> = {
  xdp_count: [{ name: 'cnt', type: MAP_TYPE.array, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 }],
};

/** The golden headers' program type names. */
const GOLDEN_TYPES: Record<string, ProgramType> = { xdp: 'xdp', tc: 'sched_cls' };

interface GoldenFactLine {
  insn: number;
  /** key -> value as written (undefined for a bare flag like `zext`). */
  pairs: [string, string | undefined][];
  text: string;
}

interface GoldenProgram {
  name: string;
  type: ProgramType;
  stackDepth: number;
  facts: GoldenFactLine[];
  bytes: Uint8Array;
}

function parseGoldenProgram(name: string, text: string): GoldenProgram {
  const lines = text.split('\n');
  const header = lines.find((l) => l.startsWith('# program type:'));
  const m = header && /^# program type: (\w+); verifier stack depth: (\d+);/.exec(header);
  if (!m || !(m[1] in GOLDEN_TYPES)) throw new Error(`${name}: no usable '# program type' line`);
  const factsAt = lines.findIndex((l) => l.startsWith('# verifier facts assumed'));
  const insnsAt = lines.findIndex((l) => l.startsWith('# eBPF instructions'));
  if (factsAt < 0 || insnsAt < factsAt) throw new Error(`${name}: facts and instruction headers missing or out of order`);
  const facts = lines.slice(factsAt + 1, insnsAt).map((l): GoldenFactLine => {
    const f = /^#\s+(\d+)\s+(.*)$/.exec(l);
    if (!f) throw new Error(`${name}: cannot read fact line '${l}'`);
    const pairs = f[2]
      .trim()
      .split(/\s+/)
      .map((t): [string, string | undefined] => {
        const eq = t.indexOf('=');
        return eq < 0 ? [t, undefined] : [t.slice(0, eq), t.slice(eq + 1)];
      });
    return { insn: Number(f[1]), pairs, text: l.replace(/^#\s+/, '') };
  });
  const words: string[] = [];
  for (const l of lines.slice(insnsAt + 1)) {
    const w = /^#\s+bpf#(\d+)\s+([0-9a-f]{16})/.exec(l);
    if (!w) break;
    if (Number(w[1]) !== words.length) throw new Error(`${name}: bpf#${w[1]} out of order`);
    words.push(w[2]);
  }
  return { name, type: GOLDEN_TYPES[m[1]], stackDepth: Number(m[2]), facts, bytes: new Uint8Array(Buffer.from(words.join(''), 'hex')) };
}

/**
 * The golden bytes as the verifier's input. The JIT harness left map
 * references unrelocated (src 0, imm 0); `mapidx=N` says which ld_imm64 is
 * one, so it gets src BPF_PSEUDO_MAP_FD and imm N, as libbpf would set it.
 */
function goldenInput(g: GoldenProgram): VerifyInput {
  const insns = decodeProgram(g.bytes, 'le', { file: `${g.name}.txt` });
  for (const f of g.facts) {
    const mapidx = f.pairs.find(([k]) => k === 'mapidx');
    if (mapidx) insns[f.insn] = { ...insns[f.insn], src: BPF_PSEUDO_MAP_FD, imm: Number(mapidx[1]) };
  }
  return {
    name: g.name,
    type: g.type,
    insns,
    maps: GOLDEN_MAPS[g.name] ?? [],
    license: 'GPL',
    lineInfo: [],
    file: join(GOLDEN_DIR, `${g.name}.txt`),
  };
}

/** The keys of README's "Annotation keys" table (first column, every `key=` or bare `key` in backticks). */
function readmeKeys(readme: string): string[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Annotation keys'));
  if (start < 0) throw new Error('README has no "Annotation keys" table');
  const keys: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (keys.length && !line.startsWith('|')) break;
    if (!line.startsWith('| `')) continue;
    const firstCell = line.slice(1, line.indexOf('` |') + 1);
    for (const span of firstCell.matchAll(/`([^`]*)`/g)) {
      for (const token of span[1].trim().split(/\s+/)) keys.push(token.split('=')[0]);
    }
  }
  return keys;
}

/** Each golden key's nicoff field, written down independently of the facts-json table: setting it must make the key readable. */
const FIELD_SAMPLES: Record<GoldenFactKey, { insn?: Partial<InsnFacts>; program?: Partial<ProgramFacts>; expected: string }> = {
  ptr: { insn: { mem: { access: 'read', size: 4, base: ['packet'], varOffset: false } }, expected: 'pkt' },
  id: { insn: { mem: { access: 'read', size: 4, base: ['packet'], varOffset: false, id: 3 } }, expected: '3' },
  off: { insn: { mem: { access: 'read', size: 4, base: ['stack'], varOffset: false, off: -8 } }, expected: '-8' },
  umin_src: { insn: { alu: { uminDst: 0n, umaxDst: 1n, uminSrc: 5n, umaxSrc: 9n } }, expected: '5' },
  umax_src: { insn: { alu: { uminDst: 0n, umaxDst: 1n, uminSrc: 5n, umaxSrc: 9n } }, expected: '9' },
  umin_dst: { insn: { alu: { uminDst: 7n, umaxDst: 0xffffffffn } }, expected: '7' },
  umax_dst: { insn: { alu: { uminDst: 7n, umaxDst: 0xffffffffn } }, expected: '4294967295' },
  zext: { insn: { zext: true }, expected: '1' },
  func: { insn: { call: { kind: 'helper', func: 1, args: [] } }, expected: '1' },
  arg2off: { insn: { call: { kind: 'helper', func: 1, args: [{ kinds: ['map_ptr'] }, { kinds: ['stack'], stackOff: -4 }] } }, expected: '-4' },
  arg1type: { insn: { call: { kind: 'helper', func: 25, args: [{ kinds: ['ctx'] }] } }, expected: 'ctx' },
  mapidx: { insn: { mapIndex: 2 }, expected: '2' },
  xadd16: { insn: { mem: { access: 'atomic', size: 8, base: ['map_value'], varOffset: false, xadd16: true, xaddbig: false } }, expected: '1' },
  xaddbig: { insn: { mem: { access: 'atomic', size: 8, base: ['map_value'], varOffset: false, xadd16: true, xaddbig: true } }, expected: '1' },
  adjust_head_opt: { insn: { call: { kind: 'helper', func: 44, args: [{ kinds: ['ctx'] }, { kinds: ['scalar'], constValue: -14n }] } }, program: { adjustHeadConstant: -14n }, expected: '1' },
};

function factsWith(insn: Partial<InsnFacts> | undefined, program: Partial<ProgramFacts> = {}): ProgramFacts {
  return {
    insns: [undefined, { insn: 1, visits: 1, ...insn }],
    stackDepth: 0,
    subprogStackDepth: [0],
    subprogStarts: [0],
    ...program,
  };
}

/** Every golden fact nicoff does not reproduce, as `insn N key: golden X, nicoff Y`. */
function missingFacts(g: GoldenProgram, facts: ProgramFacts): string[] {
  const problems: string[] = [];
  for (const line of g.facts) {
    const mine = factsGoldenKeys(facts, line.insn);
    for (const [key, raw] of line.pairs) {
      const info = goldenFactKey(key);
      if (!info) {
        problems.push(`insn ${line.insn} ${key}: key not in the facts table`);
        continue;
      }
      const want = canonicalGoldenValue(info, raw);
      const got = mine.get(info.key);
      if (got !== want) problems.push(`insn ${line.insn} ${key}: golden ${want}, nicoff ${got ?? '(no fact)'}  [${line.text}]`);
    }
  }
  return problems;
}

const haveGolden = existsSync(GOLDEN_DIR);
if (!haveGolden) {
  if (process.env['CI'] === 'true') throw new Error(`CI=true but the golden vectors are missing at ${GOLDEN_DIR}`);
  console.log(`verifier golden facts suite skipped: ${GOLDEN_DIR} not found`);
}

(haveGolden ? describe : describe.skip)('verifier facts against the nfp golden vectors', () => {
  const programs = haveGolden
    ? readdirSync(GOLDEN_DIR)
        .filter((f) => f.endsWith('.txt'))
        .sort()
        .map((f) => parseGoldenProgram(f.replace(/\.txt$/, ''), readFileSync(join(GOLDEN_DIR, f), 'utf8')))
    : [];

  test('the six golden programs parse, with their fact lines and instructions', () => {
    expect(programs.map((p) => p.name)).toEqual(GOLDEN_PROGRAMS);
    const byName = Object.fromEntries(programs.map((p) => [p.name, p]));
    // Counts read off the files by eye: they pin the parser, not nicoff.
    expect(Object.fromEntries(programs.map((p) => [p.name, [p.bytes.length / 8, p.facts.length]]))).toEqual({
      tc_shot: [2, 0],
      xdp_alu: [21, 5],
      xdp_count: [11, 4],
      xdp_drop: [2, 0],
      xdp_pass: [2, 0],
      xdp_udp53: [21, 7],
    });
    expect(byName.tc_shot.type).toBe('sched_cls');
    expect(byName.xdp_count.stackDepth).toBe(4);
    expect(byName.xdp_count.facts[3].pairs).toEqual([['ptr', 'map'], ['xadd16', '1'], ['xaddbig', '0']]);
  });

  test('every key of the README table has a facts field, and nothing else is in the table', () => {
    const keys = readmeKeys(readFileSync(join(GOLDEN_DIR, 'README.md'), 'utf8'));
    expect([...new Set(keys)].sort()).toEqual(GOLDEN_FACT_KEYS.map((k) => k.key).sort());
    expect(keys.length).toBe(15);
  });

  test.each(GOLDEN_FACT_KEYS.map((k) => [k.key, k] as const))('golden key %s reads its field', (key, info) => {
    const sample = FIELD_SAMPLES[key];
    expect(info.read(factsWith(sample.insn, sample.program), 1)).toBe(sample.expected);
    // With no facts at the instruction, there is no value.
    expect(info.read(factsWith(undefined), 0)).toBeUndefined();
    expect(info.read(factsWith({}), 1)).toBeUndefined();
  });

  test('every fact key used in the golden files is in the README table', () => {
    const keys = new Set(readmeKeys(readFileSync(join(GOLDEN_DIR, 'README.md'), 'utf8')));
    const used = programs.flatMap((p) => p.facts.flatMap((f) => f.pairs.map(([k]) => k)));
    expect(used.filter((k) => !keys.has(k))).toEqual([]);
  });

  const kernel = kernelOracleOrSkip();
  (kernel.ok ? test : test.skip)('the live kernel accepts every golden program as rebuilt here (maps relocated)', () => {
    for (const g of programs) {
      const input = goldenInput(g);
      const result = runInKernelSync({
        progType: PROG_TYPE[g.type],
        license: 'GPL',
        insns: encodeProgram(input.insns, 'le'),
        maps: input.maps.map((m) => ({ ...m })),
        packets: [],
        dumpMapsAtEnd: false,
      });
      expect({ program: g.name, loaded: result.loaded, log: result.loaded ? '' : result.log }).toEqual({ program: g.name, loaded: true, log: '' });
    }
  });

  /*
   * Stack depth: the golden files carry the depth the older kernel behind the
   * JIT harness recorded (the deepest byte used: 4 for xdp_count). The running
   * kernel (6.18) reports it rounded up to 8-byte slots, and nicoff follows the
   * running kernel; so the golden depth rounded to 8 must equal nicoff's, and
   * nicoff's must equal the live kernel's "stack depth" line.
   */
  (kernel.ok ? test : test.skip)('stack depth: the golden depth in 8-byte slots, and the live kernel\'s', () => {
    for (const g of programs) {
      const input = goldenInput(g);
      const result = verifyProgram(input, { target: 'host' });
      if (!result.ok) throw new Error(`${g.name} refused: ${result.error.code} ${result.error.message}`);
      const live = runInKernelSync({
        progType: PROG_TYPE[g.type],
        license: 'GPL',
        insns: encodeProgram(input.insns, 'le'),
        maps: input.maps.map((m) => ({ ...m })),
        logLevel: 4,
        packets: [],
        dumpMapsAtEnd: false,
      });
      const liveDepth = Number(/stack depth (\d+)/.exec(live.log)?.[1]);
      expect({ program: g.name, nicoff: result.facts.stackDepth, live: liveDepth, golden8: Math.ceil(g.stackDepth / 8) * 8 }).toEqual({
        program: g.name,
        nicoff: liveDepth,
        live: liveDepth,
        golden8: liveDepth,
      });
    }
  });

  test.each(GOLDEN_PROGRAMS)('%s: nicoff accepts it and reproduces every golden fact', (name) => {
    const g = programs.find((p) => p.name === name)!;
    const input = goldenInput(g);
    const result = verifyProgram(input, { target: 'host' });
    if (!result.ok) throw new Error(`${name} refused: ${result.error.code} ${result.error.message}`);
    const problems = missingFacts(g, result.facts);
    if (problems.length) console.log(`${name}: ${problems.length} golden facts not reproduced\n${problems.join('\n')}`);
    expect(problems).toEqual([]);
  });
});
