/**
 * The optimizing passes one by one (src/compiler/optimize/passes.ts): each
 * must have an effect on some NFP-accepted example (switching it off with
 * `disabledPasses` gives more words or more worst-path cycles), and an image
 * built with any single pass off must still behave exactly as the
 * kernel-compatible image on the example's packets (the full 1,000-packet
 * check against the kernel is equivalence.test.ts). The word passes' safety
 * rules are checked on hand-built words.
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileProgram, type CompiledProgram } from '../../src/compiler/compile-program.js';
import { NfpCode } from '../../src/compiler/nfp-code.js';
import { both, imm, NO_OPERAND, onlyA, onlyB, regA, regB } from '../../src/compiler/nfp-registers.js';
import { removeDeadWords } from '../../src/compiler/optimize/dead-words.js';
import { PASSES } from '../../src/compiler/optimize/passes.js';
import { threadJumps } from '../../src/compiler/optimize/thread-jumps.js';
import { fillDeferSlots } from '../../src/compiler/optimize/fill-defer.js';
import { NicoffError } from '../../src/diagnostics/diagnostic.js';
import { decodeProgram } from '../../src/ebpf/decode.js';
import { lowerProgram } from '../../src/compiler/lower-program.js';
import { loadObject } from '../../src/ebpf/load-object.js';
import { singleProgramObject } from '../../src/ebpf/bpf-object.js';
import { toLoadedProgram } from '../../src/nfp-backend/image/nfp-image.js';
import { NfpSimulator } from '../../src/nfp-backend/sim/nfp-simulator.js';
import { readCapture } from '../../src/pcap/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXAMPLES = join(root, 'examples');

interface Accepted {
  name: string;
  compile: (disabled: readonly string[]) => CompiledProgram;
  kernel: CompiledProgram;
  packets: Uint8Array[];
}

const accepted: Accepted[] = [];
for (const file of readdirSync(EXAMPLES).filter((f) => f.endsWith('.o')).sort()) {
  const obj = loadObject(readFileSync(join(EXAMPLES, file)), { path: file });
  const prog = obj.programs[0]!;
  try {
    const kernel = compileProgram(obj, prog, { mode: 'kernel-compat' });
    const name = file.replace(/\.o$/, '');
    const capture = readCapture(readFileSync(join(EXAMPLES, `${name}.pcap`)), { file: `${name}.pcap` });
    accepted.push({
      name,
      kernel,
      compile: (disabled) => compileProgram(obj, prog, { disabledPasses: disabled as never }),
      packets: capture.packets.filter((p) => p.data.length >= 14).map((p) => Uint8Array.from(p.data)),
    });
  } catch (e) {
    if (!(e instanceof NicoffError)) throw e;
  }
}

function behaviour(c: CompiledProgram, packets: readonly Uint8Array[]): string[] {
  const sim = new NfpSimulator(toLoadedProgram(c.image));
  return packets.map((bytes) => {
    const r = sim.runPacket({ bytes: bytes.slice() });
    const maps = c.image.maps.map((m) => sim.maps.entries(m.tableId).map((x) => `${Buffer.from(x.key).toString('hex')}=${Buffer.from(x.value).toString('hex')}`).sort().join(','));
    return r.status === 'ok' ? `${r.action} ${Buffer.from(r.packet).toString('hex')} ${maps.join('|')}` : `fault ${r.code}`;
  });
}

describe('each optimizing pass', () => {
  test('at least six NFP-accepted examples with captures', () => {
    expect(accepted.length).toBeGreaterThanOrEqual(6);
  });

  test('the targets: over the NFP-accepted examples and tc_shot (the golden program that is not one), every image word counted, at least 25% fewer words and 20% fewer worst-path cycles (reference latency model v1) than kernel-compatible mode', () => {
    // tc_shot: r0 = 2 (TC_ACT_SHOT); exit, as its golden listing shows it.
    const { obj, prog } = singleProgramObject('tc_shot', 'sched_cls', decodeProgram(Buffer.from('b700000002000000' + '9500000000000000', 'hex'), 'le'));
    const set = [...accepted.map((a) => ({ optimized: a.compile([]), kernel: a.kernel })), { optimized: compileProgram(obj, prog), kernel: compileProgram(obj, prog, { mode: 'kernel-compat' }) }];
    const total = (f: (c: CompiledProgram) => number, which: 'optimized' | 'kernel'): number => set.reduce((n, p) => n + f(p[which]), 0);
    const words = (c: CompiledProgram): number => c.image.words.length;
    const cycles = (c: CompiledProgram): number => c.cycles.worst!.cycles;
    expect(1 - total(words, 'optimized') / total(words, 'kernel')).toBeGreaterThanOrEqual(0.25);
    expect(1 - total(cycles, 'optimized') / total(cycles, 'kernel')).toBeGreaterThanOrEqual(0.2);
  });

  // known-branches has nothing to do on the accepted examples (clang leaves no decided branch in them): its effect is checked below.
  test.each(PASSES.filter((p) => p.name !== 'known-branches').map((p) => [p.name] as const))('%s: switching it off costs words or cycles on some example, and changes no behaviour', (name) => {
    let effect = 0;
    for (const a of accepted) {
      const all = a.compile([]);
      const without = a.compile([name]);
      expect(without.passes).not.toContain(name);
      effect += without.image.words.length - all.image.words.length + (without.cycles.worst!.cycles - all.cycles.worst!.cycles);
      expect(behaviour(without, a.packets)).toEqual(behaviour(a.kernel, a.packets));
    }
    expect(effect).toBeGreaterThan(0);
  });
});

test('known-branches: a jump the verifier saw always taken becomes a br, and the code it skips is not lowered', () => {
  // r0 = 2; if r0 == 2 goto +1; r0 = 1; exit
  const insns = decodeProgram(Buffer.from('b700000002000000' + '1500010002000000' + 'b700000001000000' + '9500000000000000', 'hex'), 'le');
  const facts = { insns: [{}, { branch: 'taken' as const }, undefined, { exitR0: { umin: 2n, umax: 2n } }], stackDepth: [0], reached: [true, true, false, true] };
  const on = lowerProgram({ insns, programType: 'xdp', facts, passes: new Set(['known-branches']) });
  const off = lowerProgram({ insns, programType: 'xdp', facts, passes: new Set(['dead-words']) });
  expect(on.ebpfStart[2]).toBe(on.ebpfStart[3]);
  expect(on.words.length).toBeLessThan(off.words.length);
  const jump = on.words.find((w) => w.ebpfInsn === 1)!;
  expect(jump.insn).toMatchObject({ format: 'br', condition: 'br' });
});

function program(code: NfpCode) {
  return { words: code.words, layout: { ebpfStart: [0] } };
}

describe('word pass safety rules (hand-built words)', () => {
  test('dead-words removes a GPR write nobody reads, keeps the one the done address reads (A0)', () => {
    const code = new NfpCode();
    code.current = 0;
    code.immed(both(5), 7); // dead
    code.immed(onlyA(0), 0x22, { byteShift: 2 }); // read at done
    code.br('br', { kind: 'next-packet' });
    const p = program(code);
    expect(removeDeadWords(p)).toBe(1);
    expect(p.words.map((w) => w.insn.format)).toEqual(['immed', 'br']);
  });

  test('dead-words keeps a dead word whose A operand feeds the next indirect shift, and a word whose carry is read', () => {
    const code = new NfpCode();
    code.current = 0;
    code.alu(onlyA(3), regA(3), 'OR', imm(0)); // dead result, but the next shift takes its amount from it
    code.shf(onlyB(2), imm(0xff), 'AND', regB(2), { kind: 'right', amount: 'indirect' });
    code.alu(both(6), regA(6), '+', imm(1)); // dead low word, but the carry feeds the next word
    code.alu(both(7), regA(7), '+carry', imm(0));
    code.alu(onlyA(0), NO_OPERAND, 'B', regB(2));
    code.alu(onlyA(0), regA(0), 'OR', regB(7));
    code.br('br', { kind: 'next-packet' });
    const p = program(code);
    removeDeadWords(p);
    expect(p.words).toHaveLength(7);
  });

  test('thread-jumps sends a branch that lands on a plain br straight to its destination, and drops a br to the next word', () => {
    const code = new NfpCode();
    const hop = code.label('hop');
    const next = code.label('next');
    code.br('bne', { kind: 'label', label: hop });
    code.br('br', { kind: 'label', label: next });
    code.place(next);
    code.immed(onlyA(0), 1);
    code.place(hop);
    code.br('br', { kind: 'next-packet' });
    const p = program(code);
    threadJumps(p);
    expect(p.words[0]!.target).toEqual({ kind: 'next-packet' });
    expect(p.words.map((w) => w.insn.format)).toEqual(['br', 'immed', 'br']);
  });

  test('fill-defer moves an independent word into a conditional branch defer slot, but not one the compare reads', () => {
    const moved = new NfpCode();
    const t = moved.label('t');
    moved.immed(both(4), 9);
    moved.aluCc(regA(6), '-', regB(8));
    moved.br('bcc', { kind: 'label', label: t });
    moved.place(t);
    moved.br('br', { kind: 'next-packet' });
    const a = program(moved);
    expect(fillDeferSlots(a)).toBe(1);
    expect(a.words.map((w) => w.insn.format)).toEqual(['alu', 'br', 'immed', 'br']);
    expect((a.words[1]!.insn as { defer: number }).defer).toBe(1);

    const kept = new NfpCode();
    const u = kept.label('u');
    kept.immed(both(6), 9); // the compare reads A6
    kept.aluCc(regA(6), '-', regB(8));
    kept.br('bcc', { kind: 'label', label: u });
    kept.place(u);
    kept.br('br', { kind: 'next-packet' });
    expect(fillDeferSlots(program(kept))).toBe(0);
  });
});

describe('array-addresses needs firmware that keeps array values flat', () => {
  const obj = loadObject(readFileSync(join(EXAMPLES, 'xdp_ttl_histogram.o')), { path: 'xdp_ttl_histogram.o' });
  const prog = obj.programs[0]!;
  const helperCalls = (c: CompiledProgram): number => c.image.relocations.filter((r) => r.kind === 'helper').length;

  test('for the software NFP the lookup is computed and the image names the layout; for nic-firmware it calls the firmware and names none', () => {
    const flat = compileProgram(obj, prog);
    expect(flat.lowered.arrayAddressLookups).toBe(1);
    expect(helperCalls(flat)).toBe(0);
    expect(flat.image.abi.arrayValues).toEqual({ base: 0x80_0000_0000, tableStride: 0x1000_0000 });
    const published = compileProgram(obj, prog, { firmware: 'nic-firmware' });
    expect(published.lowered.arrayAddressLookups).toBe(0);
    expect(helperCalls(published)).toBe(1);
    expect(published.image.abi.arrayValues).toBeUndefined();
    // Images that do not compute array addresses name no layout, whatever the firmware.
    expect(compileProgram(obj, prog, { mode: 'kernel-compat' }).image.abi.arrayValues).toBeUndefined();
  });

  test('a software NFP refuses an image built for another array layout (NC6060)', () => {
    const image = compileProgram(obj, prog).image;
    const other = { ...image, abi: { ...image.abi, arrayValues: { base: 0x40_0000_0000, tableStride: 0x1000_0000 } } };
    expect(() => new NfpSimulator(toLoadedProgram(other))).toThrow(/^NC6060: .*base 0x4000000000/);
  });
});
