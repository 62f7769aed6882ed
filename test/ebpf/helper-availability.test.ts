/**
 * The helper table against the running kernel. For each networking program
 * type and each helper id, a program that zeroes R1-R5 and calls the helper is
 * loaded; the verifier answers at get_helper_proto, before it looks at the
 * arguments, so its message tells whether the type may call the helper:
 *
 *   "program of this type cannot use helper" / "unknown func" / "invalid func"
 *       -> not available
 *   anything else (loaded, an argument complaint, "might sleep", ...)
 *       -> available
 *
 * The same logs give the kernel's name for helpers a type may not call
 * (checked against the rows) and "might sleep" (checked against mightSleep);
 * a second pass with a non-GPL license checks gplOnly. Names against libbpf's
 * bpf_helper_defs.h are checked in helpers.test.ts.
 *
 * One runner process per program, so the loads run in parallel.
 */
import { describe, test, expect, beforeAll } from '@jest/globals';
import { cpus } from 'node:os';
import { assembleProgram, encodeAssembled } from '../../src/ebpf/assemble.js';
import type { ProgramType } from '../../src/ebpf/bpf-object.js';
import { HELPERS, helperAllowed, helperById, type HelperProto } from '../../src/ebpf/helpers.js';
import { PROG_TYPE } from '../../src/ebpf/kernel/kernel-enums.js';
import { kernelOracleOrSkip, runInKernel, type KernelRunResult } from '../../src/ebpf/kernel/kernel-runner.js';

const TYPES: readonly ProgramType[] = ['xdp', 'sched_cls', 'sched_act', 'socket_filter'];
/** Every id the table knows, at least up to 211 (the last helper in 6.x), and one past it. */
const LAST_ID = Math.max(211, ...HELPERS.map((h) => h.id)) + 1;
const NOT_AVAILABLE = /program of this type cannot use helper|unknown func|invalid func/;
const NAMED_REFUSAL = /cannot use helper bpf_(\w+)#(\d+)/;
/** Runner processes at a time: enough to hide process start-up, few enough not to thrash a small machine. */
const PARALLEL = Math.max(4, Math.min(16, cpus().length * 4));

function callProgram(id: number): Uint8Array {
  const text = ['r1 = 0x0', 'r2 = 0x0', 'r3 = 0x0', 'r4 = 0x0', 'r5 = 0x0', `call ${id}`, 'r0 = 0x0', 'exit', ''].join('\n');
  return encodeAssembled(assembleProgram(text, { file: `call-${id}.bpf` }));
}

interface Probe {
  type: ProgramType;
  id: number;
  license: string;
}

async function load(p: Probe): Promise<KernelRunResult> {
  const result = await runInKernel({
    progType: PROG_TYPE[p.type],
    name: `helper_${p.id}`,
    license: p.license,
    insns: callProgram(p.id),
    maps: [],
    logLevel: 1,
    packets: [],
    dumpMapsAtEnd: false,
  });
  // A refusal without a verifier log is not an answer about the helper (EPERM, out of memory, ...).
  if (!result.loaded && result.log.trim() === '') {
    throw new Error(`${p.type} call ${p.id}: load failed with ${result.errnoName ?? 'no errno'} and no log`);
  }
  return result;
}

async function loadAll(probes: Probe[]): Promise<KernelRunResult[]> {
  const out: KernelRunResult[] = new Array(probes.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < probes.length) {
      const i = next++;
      out[i] = await load(probes[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, probes.length) }, worker));
  return out;
}

describe('helper availability against the running kernel', () => {
  const kernel = kernelOracleOrSkip();
  const run = kernel.ok ? test : test.skip;

  const gplProbes: Probe[] = [];
  for (const type of TYPES) for (let id = 1; id <= LAST_ID; id++) gplProbes.push({ type, id, license: 'GPL' });
  /** Each callable row once, in the first type that may call it, under a license the kernel does not count as GPL. */
  const callable = HELPERS.filter((h) => h.programTypes.some((t) => TYPES.includes(t)));
  const nonGplProbes: Probe[] = callable.map((h) => ({ type: TYPES.find((t) => h.programTypes.includes(t))!, id: h.id, license: 'MIT' }));

  let gplResults: KernelRunResult[] = [];
  let nonGplResults: KernelRunResult[] = [];

  beforeAll(async () => {
    if (!kernel.ok) return;
    const all = await loadAll([...gplProbes, ...nonGplProbes]);
    gplResults = all.slice(0, gplProbes.length);
    nonGplResults = all.slice(gplProbes.length);
  }, 300_000);

  run('helperAllowed(id, type) agrees with the kernel for every id and networking type', () => {
    const disagreements: string[] = [];
    gplProbes.forEach((p, i) => {
      const kernelAllows = !NOT_AVAILABLE.test(gplResults[i].log);
      const tableAllows = helperAllowed(p.id, p.type);
      if (kernelAllows !== tableAllows) {
        const name = helperById(p.id)?.name ?? '(no row)';
        disagreements.push(`${p.type} #${p.id} ${name}: kernel ${kernelAllows ? 'allows' : 'refuses'}, table ${tableAllows ? 'allows' : 'refuses'}`);
      }
    });
    expect(disagreements).toEqual([]);
  });

  run('rows carry the names the kernel prints for them', () => {
    const wrong: string[] = [];
    for (const result of gplResults) {
      const m = result.log.match(NAMED_REFUSAL);
      if (!m) continue;
      const row = helperById(Number(m[2]));
      if (row && row.name !== m[1]) wrong.push(`#${m[2]}: kernel says ${m[1]}, table says ${row.name}`);
    }
    expect(wrong).toEqual([]);
  });

  run('mightSleep marks exactly the helpers the kernel refuses as sleeping', () => {
    const wrong = new Set<string>();
    gplProbes.forEach((p, i) => {
      const row = helperById(p.id);
      if (!row || !helperAllowed(p.id, p.type)) return;
      const sleeps = /helper call might sleep/.test(gplResults[i].log);
      if (sleeps !== (row.mightSleep === true)) wrong.add(`#${row.id} ${row.name}: kernel ${sleeps ? 'sleeps' : 'does not sleep'}`);
    });
    expect([...wrong]).toEqual([]);
  });

  run('gplOnly agrees with the kernel for every callable row', () => {
    const wrong: string[] = [];
    callable.forEach((h: HelperProto, i) => {
      const restricted = /cannot call GPL-restricted function/.test(nonGplResults[i].log);
      if (restricted !== h.gplOnly) wrong.push(`#${h.id} ${h.name}: kernel ${restricted ? 'GPL only' : 'any license'}, table gplOnly ${h.gplOnly}`);
    });
    expect(wrong).toEqual([]);
  });
});
