import { describe, test, expect, afterAll } from '@jest/globals';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findProgram, loadObject } from '../../src/ebpf/load-object.js';
import { parseElf } from '../../src/ebpf/elf.js';
import type { BpfObject, BpfProgram } from '../../src/ebpf/bpf-object.js';
import { codeOf, fixturePath, kernelAvailable, readFixture, run, toolAvailable } from '../fixtures/objects/oracle.js';

const OBJDUMP = 'llvm-objdump-19';
const READELF = 'llvm-readelf-19';
const withObjdump = toolAvailable(OBJDUMP) ? test : test.skip;
const withReadelf = toolAvailable(READELF) ? test : test.skip;
const withKernel = kernelAvailable() ? test : test.skip;

function load(name: string): BpfObject {
  return loadObject(readFixture(name), { path: fixturePath(name) });
}

interface DumpedInsn {
  index: number;
  bytes: Uint8Array;
  text: string;
  /** `; file:line` marker printed just before the instruction, with the source text line after it. */
  source?: { file: string; line: number; text: string };
  core?: string;
}

/** `llvm-objdump -d` output per section: instructions by section-relative slot index, and function start slots. */
function objdump(file: string, extra: string[] = []): Map<string, { insns: DumpedInsn[]; functions: Map<string, number> }> {
  const sections = new Map<string, { insns: DumpedInsn[]; functions: Map<string, number> }>();
  let cur: { insns: DumpedInsn[]; functions: Map<string, number> } | undefined;
  let pending: { file: string; line: number; text: string } | undefined;
  let expectText = false;
  for (const line of run(OBJDUMP, ['-d', ...extra, file]).split('\n')) {
    const sec = /^Disassembly of section (.*):$/.exec(line);
    if (sec) {
      cur = { insns: [], functions: new Map() };
      sections.set(sec[1], cur);
      continue;
    }
    if (!cur) continue;
    const fn = /^([0-9a-f]{16}) <(.*)>:$/.exec(line);
    if (fn) {
      if (!fn[2].startsWith('LBB')) cur.functions.set(fn[2], parseInt(fn[1], 16) / 8);
      continue;
    }
    const loc = /^; (\/.*):(\d+)$/.exec(line);
    if (loc) {
      pending = { file: loc[1], line: Number(loc[2]), text: '' };
      expectText = true;
      continue;
    }
    if (expectText && line.startsWith('; ')) {
      pending!.text = line.slice(2);
      expectText = false;
      continue;
    }
    const core = /^\s+[0-9a-f]+:\s+CO-RE <(\w+)> \[(\d+)\] [^(]*(?:\(([\d:]+)\))?/.exec(line);
    if (core && cur.insns.length) {
      cur.insns[cur.insns.length - 1].core = `${core[1]} ${core[2]}`;
      continue;
    }
    const insn = /^\s*(\d+):\t((?:[0-9a-f]{2} ?)+)\t?(.*)$/.exec(line);
    if (insn) {
      const bytes = new Uint8Array(insn[2].trim().split(' ').map((h) => parseInt(h, 16)));
      const d: DumpedInsn = { index: Number(insn[1]), bytes, text: insn[3] };
      if (pending) d.source = pending;
      pending = undefined;
      expectText = false;
      cur.insns.push(d);
    }
  }
  return sections;
}

/** Relocations of one section from llvm-readelf: slot index -> {type, symbol name, symbol value}. */
function readelfRelocs(file: string, section: string): Map<number, { type: string; symbol: string; value: number }> {
  const out = new Map<number, { type: string; symbol: string; value: number }>();
  const text = run(READELF, ['-r', '--wide', file]);
  const block = text.split(/\nRelocation section '/).find((b) => b.startsWith(`.rel${section}'`));
  for (const line of (block ?? '').split('\n')) {
    const m = /^([0-9a-f]{16})\s+[0-9a-f]{16}\s+(\S+)\s+([0-9a-f]{16})\s+(\S+)/.exec(line);
    if (m) out.set(parseInt(m[1], 16) / 8, { type: m[2], symbol: m[4], value: parseInt(m[3], 16) });
  }
  return out;
}

/** Function symbols by (section index, value) from llvm-readelf -s. */
function readelfFunctions(file: string): { name: string; value: number; size: number; bind: string; ndx: number }[] {
  return run(READELF, ['-s', '--wide', file])
    .split('\n')
    .map((l) => /^\s*\d+:\s+([0-9a-f]{16})\s+(\d+)\s+FUNC\s+(\S+)\s+\S+\s+(\d+)\s+(\S+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[5], value: parseInt(m[1], 16), size: Number(m[2]), bind: m[3], ndx: Number(m[4]) }));
}

function sectionIndexOf(file: string, name: string): number {
  return parseElf(readFixture(file.split('/').pop()!)).sections.findIndex((s) => s.name === name);
}

const LE_OBJECTS = ['globals.o', 'multi.o', 'legacy.o', 'mapinmap.o', 'core.o'];

describe('programs: instructions and relocations against llvm-objdump-19 and llvm-readelf-19', () => {
  for (const name of LE_OBJECTS) {
    withObjdump(`${name}: every linked function's instructions are the object's, relocated slots set as libbpf sets them`, () => {
      const file = fixturePath(name);
      const obj = load(name);
      const dump = objdump(file);
      const funcs = readelfFunctions(file);
      for (const prog of obj.programs) {
        for (const piece of prog.functions) {
          const sec = dump.get(piece.section)!;
          const origin = sec.functions.get(piece.name)!;
          expect(origin).toBeDefined();
          const relocs = readelfRelocs(file, piece.section);
          for (const d of sec.insns.filter((x) => x.index >= origin && x.index < origin + piece.length)) {
            const at = piece.start + (d.index - origin);
            const got = prog.bytes.subarray(at * 8, at * 8 + d.bytes.length);
            const rel = relocs.get(d.index);
            const isCall = d.bytes[0] === 0x85 && d.bytes[1] >> 4 === 1;
            if (!rel && !isCall) {
              expect(Array.from(got)).toEqual(Array.from(d.bytes));
              continue;
            }
            // Opcode and destination register survive; the rest is the relocation's.
            expect(got[0]).toBe(d.bytes[0]);
            expect(got[1] & 0x0f).toBe(d.bytes[1] & 0x0f);
            const insn = prog.insns[at];
            if (isCall) {
              // Callee per readelf: symbol value/8 + imm + 1 (or pc-relative inside the section without a relocation).
              const imm = new DataView(d.bytes.buffer).getInt32(4, true);
              const targetSection = rel ? rel.symbol : piece.section;
              const targetSlot = (rel ? rel.value / 8 : d.index) + imm + 1;
              const ndx = sectionIndexOf(file, targetSection);
              const callee = funcs.find((f) => f.ndx === ndx && f.value / 8 === targetSlot)!;
              expect(callee).toBeDefined();
              const placed = prog.functions.find((f) => f.name === callee.name)!;
              expect(at + 1 + insn.imm).toBe(placed.start);
            } else if (obj.maps.some((m) => m.name === rel!.symbol && m.origin !== 'global-data')) {
              expect(insn.src).toBe(1);
              expect(obj.maps[insn.imm].name).toBe(rel!.symbol);
              expect(insn.imm2).toBe(0);
              expect(prog.mapRefs).toContainEqual({ insn: at, mapIndex: insn.imm, kind: 'fd', offset: 0 });
            } else if (funcs.some((f) => f.name === rel!.symbol) || rel!.symbol === '.text') {
              expect(insn.src).toBe(4);
            } else {
              expect(insn.src).toBe(2);
              const map = obj.maps[insn.imm];
              expect(map.origin).toBe('global-data');
              expect(prog.mapRefs).toContainEqual({ insn: at, mapIndex: insn.imm, kind: 'value', offset: insn.imm2 });
            }
          }
        }
      }
    });
  }

  withReadelf('programs are the global functions of non-.text executable sections, with their section types', () => {
    const obj = load('multi.o');
    const funcs = readelfFunctions(fixturePath('multi.o'));
    const elf = parseElf(readFixture('multi.o'));
    const expected = funcs.filter((f) => f.bind === 'GLOBAL' && elf.sections[f.ndx].name !== '.text').map((f) => f.name);
    expect(obj.programs.map((p) => p.name).sort()).toEqual(expected.sort());
    const byName = new Map(obj.programs.map((p) => [p.name, p]));
    expect(byName.get('xdp_first')!.type).toBe('xdp');
    expect(byName.get('xdp_second')!.section).toBe('xdp');
    expect(byName.get('tc_prog')!.type).toBe('sched_cls');
    expect(byName.get('sock_prog')!.type).toBe('socket_filter');
    expect(byName.get('egress_prog')!.type).toBe('cgroup_skb');
    expect(byName.get('egress_prog')!.attachType).toBe('cgroup_inet_egress');
    // The static helper in the xdp section is appended to xdp_first only.
    expect(byName.get('xdp_first')!.functions.map((f) => f.name)).toEqual(['xdp_first', 'same_section_helper']);
    expect(byName.get('xdp_second')!.functions.map((f) => f.name)).toEqual(['xdp_second']);
  });

  withReadelf('license and version sections', () => {
    const obj = load('multi.o');
    const hex = run(READELF, ['-x', 'version', fixturePath('multi.o')]);
    const word = /0x00000000 ([0-9a-f]{8})/.exec(hex)![1];
    expect(obj.kernelVersion).toBe(Buffer.from(word, 'hex').readUInt32LE(0));
    const lic = run(READELF, ['-p', 'license', fixturePath('multi.o')]);
    expect(lic).toContain(obj.license);
    expect(obj.license).toBe('Dual BSD/GPL');
  });

  withReadelf('legacy maps section decodes to the bytes llvm-readelf shows', () => {
    const obj = load('legacy.o');
    const hex = run(READELF, ['-x', 'maps', fixturePath('legacy.o')])
      .split('\n')
      .map((l) => /^\s*0x[0-9a-f]+ ((?:[0-9a-f]{8} ?){1,4})/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => m[1].replace(/ /g, ''))
      .join('');
    const raw = Buffer.from(hex, 'hex');
    const syms = run(READELF, ['-s', '--wide', fixturePath('legacy.o')])
      .split('\n')
      .map((l) => /^\s*\d+:\s+([0-9a-f]{16})\s+(\d+)\s+OBJECT\s+\S+\s+\S+\s+(\d+)\s+(\S+)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null && sectionIndexOf('legacy.o', 'maps') === Number(m[3]))
      .sort((a, b) => parseInt(a[1], 16) - parseInt(b[1], 16));
    expect(obj.maps.map((m) => m.name)).toEqual(syms.map((s) => s[4]));
    for (const s of syms) {
      const at = parseInt(s[1], 16);
      const m = obj.maps.find((x) => x.name === s[4])!;
      expect(m.origin).toBe('legacy');
      expect([m.type, m.keySize, m.valueSize, m.maxEntries, m.flags]).toEqual([0, 1, 2, 3, 4].map((i) => raw.readUInt32LE(at + i * 4)));
    }
  });
});

describe('BTF.ext line info and CO-RE relocations against llvm-objdump-19', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'nicoff-loader-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  for (const name of ['globals.o', 'core.o', 'multi.o']) {
    withObjdump(`${name}: each line_info marker lands on the same instruction and line, and covers the instructions after it`, () => {
      // Without DWARF, llvm-objdump prints source lines from .BTF.ext line_info.
      const stripped = join(tmp, name);
      copyFileSync(fixturePath(name), stripped);
      run('llvm-objcopy-19', ['--strip-debug', stripped]);
      const dump = objdump(stripped, ['-l', '-S']);
      const obj = load(name);
      let markers = 0;
      for (const prog of obj.programs) {
        for (const piece of prog.functions) {
          const sec = dump.get(piece.section)!;
          const origin = sec.functions.get(piece.name)!;
          let last: DumpedInsn['source'];
          for (const d of sec.insns.filter((x) => x.index >= origin && x.index < origin + piece.length)) {
            if (d.source) last = d.source;
            const got = prog.lineInfo[piece.start + (d.index - origin)];
            if (!last) {
              expect(got).toBeUndefined();
              continue;
            }
            if (d.source) markers++;
            expect(got?.line).toBe(last.line);
            expect(got!.file.endsWith(last.file.split('/').pop()!)).toBe(true);
            expect(got!.text.trim()).toBe(last.text.trim());
          }
        }
      }
      expect(markers).toBeGreaterThan(0);
    });
  }

  withObjdump('core.o: CO-RE relocation kinds, type ids and instructions', () => {
    const obj = load('core.o');
    const prog = findProgram(obj, 'core_prog');
    const dump = objdump(fixturePath('core.o'), ['-r']).get(prog.section)!;
    const expected = dump.insns.filter((d) => d.core).map((d) => `${d.index} ${d.core}`);
    expect(prog.coreRelocations.map((c) => `${c.insn} ${c.kind} ${c.typeId}`)).toEqual(expected);
    expect(prog.coreRelocations.find((c) => c.kind === 'byte_off')!.typeName).toBe('struct task_struct');
  });

  test('func_info names each placed function at its start', () => {
    const prog = findProgram(load('globals.o'), 'xdp_globals');
    expect(prog.funcInfo.map((f) => [f.insn, f.name])).toEqual(prog.functions.map((f) => [f.start, f.name]));
  });
});

describe('maps against the kernel (bpftool prog load + map show)', () => {
  for (const name of ['globals.o', 'mapinmap.o']) {
    withKernel(`${name}: names, types, key/value sizes, max_entries and flags`, () => {
      const pin = `/sys/fs/bpf/nicoff_loader_test_${process.pid}_${name.replace('.o', '')}`;
      const obj = load(name);
      try {
        run('bpftool', ['prog', 'load', fixturePath(name), pin]);
        const prog = JSON.parse(run('bpftool', ['-j', 'prog', 'show', 'pinned', pin]));
        expect(prog.gpl_compatible).toBe(obj.license === 'GPL');
        const kernelMaps = (prog.map_ids as number[]).map((id) => JSON.parse(run('bpftool', ['-j', 'map', 'show', 'id', String(id)])));
        // The program uses every map of these objects except the map-in-map inner template instance.
        for (const km of kernelMaps) {
          const m = obj.maps.find((x) => x.name.slice(0, 15) === km.name);
          expect(m).toBeDefined();
          expect([m!.keySize, m!.valueSize, m!.maxEntries, m!.flags]).toEqual([km.bytes_key, km.bytes_value, km.max_entries, km.flags]);
          const typeNames: Record<number, string> = { 1: 'hash', 2: 'array', 12: 'array_of_maps', 13: 'hash_of_maps' };
          expect(typeNames[m!.type]).toBe(km.type);
          if (m!.origin === 'global-data') expect(km.frozen).toBe(m!.readOnly ? 1 : 0);
        }
        expect(kernelMaps.length).toBe(obj.maps.filter((m) => obj.programs.some((p) => p.mapRefs.some((r) => r.mapIndex === m.index))).length);
      } finally {
        rmSync(pin, { force: true });
        rmSync('/sys/fs/bpf/ldr_pinned', { force: true });
      }
    });
  }

  test('map-in-map inner templates come from the values member', () => {
    const obj = load('mapinmap.o');
    const outerArr = obj.maps.find((m) => m.name === 'outer_arr')!;
    const inner1 = obj.maps.find((m) => m.name === 'inner1')!;
    expect(outerArr.inner).toMatchObject({ type: inner1.type, keySize: inner1.keySize, valueSize: inner1.valueSize, maxEntries: inner1.maxEntries });
    expect(obj.maps.find((m) => m.name === 'outer_hash')!.inner).toMatchObject({ type: 2, keySize: 4, valueSize: 8, maxEntries: 4 });
  });
});

describe('big-endian objects', () => {
  test('globals-eb.o loads to the same instructions, bytes and maps as globals.o', () => {
    const le = load('globals.o');
    const be = load('globals-eb.o');
    expect(be.endian).toBe('be');
    const strip = (p: BpfProgram): unknown => ({ ...p, lineInfo: p.lineInfo.map((l) => l?.line) });
    expect(be.programs.map(strip)).toEqual(le.programs.map(strip));
    const mapShape = (o: BpfObject): unknown => o.maps.map(({ name: _n, initialValue, ...rest }) => ({ ...rest, size: initialValue?.length }));
    expect(mapShape(be)).toEqual(mapShape(le));
  });
});

describe('RELA relocations (old objects)', () => {
  test('a .relxdp rewritten as RELA with explicit addends loads to the same program', () => {
    const g = readFixture('globals.o');
    const ge = parseElf(g);
    const rs = ge.relocationSections.find((r) => r.section.name === '.relxdp')!;
    const code = ge.sections[rs.target];
    const rela = new Uint8Array(g.length + rs.relocations.length * 24);
    rela.set(g);
    const dv = new DataView(rela.buffer);
    rs.relocations.forEach((r, i) => {
      const at = g.length + i * 24;
      const immAt = code.offset + r.offset + 4;
      dv.setBigUint64(at, BigInt(r.offset), true);
      dv.setBigUint64(at + 8, (BigInt(r.symbol) << 32n) | BigInt(r.type), true);
      dv.setBigInt64(at + 16, BigInt(dv.getInt32(immAt, true)), true);
      // The addend now lives only in the RELA entry: scribble over the implicit one.
      dv.setInt32(immAt, 0x5a5a5a5a, true);
    });
    const shdr = Number(dv.getBigUint64(40, true)) + rs.section.index * 64;
    dv.setUint32(shdr + 4, 4, true); // SHT_RELA
    dv.setBigUint64(shdr + 24, BigInt(g.length), true);
    dv.setBigUint64(shdr + 32, BigInt(rs.relocations.length * 24), true);
    dv.setBigUint64(shdr + 56, 24n, true);
    const viaRela = loadObject(rela, { path: 'globals.o' });
    const viaRel = loadObject(g, { path: 'globals.o' });
    expect(viaRela.programs.map((p) => p.bytes)).toEqual(viaRel.programs.map((p) => p.bytes));
    expect(viaRela.programs[0].mapRefs).toEqual(viaRel.programs[0].mapRefs);
  });
});

describe('errors', () => {
  const base = readFixture('multi.o');
  const elf = parseElf(base);

  test('an unknown program section name is NC1016', () => {
    const b = new Uint8Array(base);
    // Section names live in .strtab (section 1) in clang output.
    const names = elf.sections[elf.sections[0] ? 1 : 0];
    const at = names.offset + Buffer.from(names.data).toString('latin1').indexOf('\0socket\0') + 1;
    b.set(new TextEncoder().encode('sockex'), at);
    expect(codeOf(() => loadObject(b))).toBe('NC1016');
  });

  test('a relocation against the null symbol is NC1013, an unknown type NC1014', () => {
    const g = readFixture('globals.o');
    const ge = parseElf(g);
    const rs = ge.relocationSections.find((r) => r.section.name === '.relxdp')!;
    const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset);
    const noSym = new Uint8Array(g);
    dv(noSym).setUint32(rs.section.offset + 12, 0, true);
    expect(codeOf(() => loadObject(noSym))).toBe('NC1013');
    const badType = new Uint8Array(g);
    dv(badType).setUint32(rs.section.offset + 8, 7, true);
    expect(codeOf(() => loadObject(badType))).toBe('NC1014');
  });

  test('findProgram: by name, by default, unknown names', () => {
    const obj = load('multi.o');
    expect(findProgram(obj).name).toBe(obj.programs[0].name);
    expect(findProgram(obj, 'tc_prog').section).toBe('tc');
    expect(codeOf(() => findProgram(obj, 'nope'))).toBe('NC1022');
    expect(codeOf(() => findProgram({ ...obj, programs: [] }))).toBe('NC1023');
  });

  test('global data map names follow libbpf (object name prefix, section suffix)', () => {
    expect(load('globals.o').maps.filter((m) => m.origin === 'global-data').map((m) => m.name)).toEqual(['globals.data', 'globals.rodata', 'globals.bss']);
    expect(loadObject(readFixture('globals.o')).maps.filter((m) => m.origin === 'global-data').map((m) => m.name)).toEqual(['obj.data', 'obj.rodata', 'obj.bss']);
  });
});
