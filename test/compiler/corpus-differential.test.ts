/**
 * Every verifier-corpus program (test/verifier/corpus) that `--target nfp`
 * accepts and the compiler lowers: compiled in both modes and run on the
 * software NFP over 64 seeded packets, maps carried over. The kernel-
 * compatible image must do what the reference interpreter does (which the
 * verifier and oracle suites hold to the running kernel): the A.6 verdict for
 * its R0, the packet bytes and the maps; the optimized image must do exactly
 * what the kernel-compatible one does. The corpus is small hand-written
 * programs of every shape the verifier knows, so this reaches lowerings and
 * pass interactions the examples do not.
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileProgram, type CompiledProgram } from '../../src/compiler/compile-program.js';
import { NicoffError } from '../../src/diagnostics/diagnostic.js';
import { MAP_TYPE, singleProgramObject, type BpfObject, type BpfProgram } from '../../src/ebpf/bpf-object.js';
import { toLoadedProgram } from '../../src/nfp-backend/image/nfp-image.js';
import { NfpSimulator } from '../../src/nfp-backend/sim/nfp-simulator.js';
import { parseCorpusCase } from '../../src/verifier/corpus-file.js';
import { hex, runInterpreterOracle } from '../support/nfp-golden-programs.js';
import { nfpVerdict } from '../support/nfp-verdicts.js';
import { seeded } from '../support/seeded-random.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CORPUS = join(root, 'test', 'verifier', 'corpus');
const PACKETS = 64;

interface Unit {
  file: string;
  obj: BpfObject;
  prog: BpfProgram;
}

function units(): Unit[] {
  const out: Unit[] = [];
  for (const file of readdirSync(CORPUS).filter((f) => f.endsWith('.bpf')).sort()) {
    const c = parseCorpusCase(readFileSync(join(CORPUS, file), 'utf8'), file);
    if (c.type !== 'xdp' && c.type !== 'sched_cls') continue;
    const maps = c.maps.map((m, index) => ({ index, name: m.name, type: MAP_TYPE[m.type], keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: 0, origin: 'legacy' as const }));
    out.push({ file, ...singleProgramObject(file.replace(/\.bpf$/, ''), c.type, c.insns, { maps, license: c.license }) });
  }
  return out;
}


function packets(): Uint8Array[] {
  const rand = seeded(0x5eed);
  return Array.from({ length: PACKETS }, (_, n) => {
    const p = Uint8Array.from({ length: 60 + Math.floor(rand() * 120) }, () => Math.floor(rand() * 256));
    if (n % 2) {
      p[12] = 0x08;
      p[13] = 0x00;
      p[14] = 0x45;
    }
    return p;
  });
}

interface Observed {
  what: string;
  maps: string;
}

function runImage(c: CompiledProgram, input: readonly Uint8Array[]): Observed[] {
  const sim = new NfpSimulator(toLoadedProgram(c.image));
  return input.map((bytes) => {
    const r = sim.runPacket({ bytes: bytes.slice() });
    const maps = JSON.stringify(c.image.maps.map((m) => ({ name: m.name, entries: sim.maps.entries(m.tableId).map((x) => `${hex(x.key)}=${hex(x.value)}`).sort() })));
    return { what: r.status === 'ok' ? `${r.action} ${hex(r.packet)}` : `fault ${r.code}`, maps };
  });
}

/** Programs whose packet bytes are addresses: the card's and the interpreter's differ by design (only the two images are compared). */
const ADDRESS_BYTES: Record<string, string> = {
  'pkt-store-fp.bpf': 'stores the frame pointer into the packet',
};
/** The simulator's per-packet watchdog (NC6044) stops a program that runs longer; both images must stop the same way. */
const WATCHDOG = 'NC6044';

const lowered: { u: Unit; kernel: CompiledProgram; optimized: CompiledProgram }[] = [];
const refusedByCompiler: string[] = [];
for (const u of units()) {
  try {
    lowered.push({ u, kernel: compileProgram(u.obj, u.prog, { mode: 'kernel-compat' }), optimized: compileProgram(u.obj, u.prog) });
  } catch (e) {
    if (!(e instanceof NicoffError)) throw e;
    if (e.diagnostic.code === 'NC5100') refusedByCompiler.push(u.file);
  }
}

describe('verifier-corpus programs the NFP takes, compiled in both modes', () => {
  test('a good share of the corpus reaches the compiler', () => {
    expect(lowered.length).toBeGreaterThanOrEqual(60);
  });

  test.each(lowered.map((l) => [l.u.file, l] as const))('%s: kernel-compatible image = reference interpreter; optimized image = kernel-compatible image', (_file, { u, kernel, optimized }) => {
    const input = packets();
    const oracle = runInterpreterOracle(u, input);
    const k = runImage(kernel, input);
    const o = runImage(optimized, input);
    const problems: string[] = [];
    input.forEach((bytes, n) => {
      const want = oracle.outcomes[n]!;
      const beyondWatchdog = k[n]!.what === `fault ${WATCHDOG}`;
      if (want.ok && !beyondWatchdog && !ADDRESS_BYTES[u.file]) {
        const expected = `${nfpVerdict(u.prog.type === 'xdp' ? 'xdp' : 'tc', want.retval).action} ${hex(want.packet)}`;
        if (k[n]!.what !== expected) problems.push(`packet ${n}: kernel-compatible ${k[n]!.what.slice(0, 40)}, interpreter R0=${want.retval} ${expected.slice(0, 40)}`);
        if (k[n]!.maps !== JSON.stringify(want.maps)) problems.push(`packet ${n}: maps ${k[n]!.maps} vs interpreter ${JSON.stringify(want.maps)}`);
      }
      if (o[n]!.what !== k[n]!.what || o[n]!.maps !== k[n]!.maps) problems.push(`packet ${n} (${hex(bytes).slice(0, 40)}): optimized ${o[n]!.what.slice(0, 40)} vs kernel-compatible ${k[n]!.what.slice(0, 40)}`);
    });
    expect(problems.slice(0, 3)).toEqual([]);
  });
});
