import { describe, test, expect } from '@jest/globals';
import { Btf, BTF_KIND } from '../../src/ebpf/btf.js';
import { parseElf } from '../../src/ebpf/elf.js';
import { codeOf, fixtureNames, fixturePath, readFixture, run, toolAvailable } from '../fixtures/objects/oracle.js';

const withBpftool = toolAvailable('bpftool') ? test : test.skip;

function btfOf(name: string): Btf {
  const elf = parseElf(readFixture(name));
  const s = elf.sections.find((x) => x.name === '.BTF');
  if (!s) throw new Error(`${name} has no .BTF`);
  return Btf.parse(s.data, elf.endian);
}

interface DumpedType {
  id: number;
  kind: string;
  name: string;
  fields: Record<string, string>;
  /** Indented lines under the type (members, enum values, DATASEC entries, params). */
  lines: string[];
}

/** Parse `bpftool btf dump file X.o` text output. */
function bpftoolTypes(file: string): DumpedType[] {
  const out: DumpedType[] = [];
  for (const line of run('bpftool', ['btf', 'dump', 'file', file]).split('\n')) {
    const head = /^\[(\d+)\] (\S+) '([^']*)'(.*)$/.exec(line);
    if (head) {
      const fields: Record<string, string> = {};
      for (const m of head[4].matchAll(/(\w+)=([^\s,]+)/g)) fields[m[1]] = m[2];
      out.push({ id: Number(head[1]), kind: head[2], name: head[3] === '(anon)' ? '' : head[3], fields, lines: [] });
    } else if (line.startsWith('\t') && out.length) {
      out[out.length - 1].lines.push(line.trim());
    }
  }
  return out;
}

/** Sizes worked out from bpftool's own dump: sized kinds say size=, others follow type_id. */
function bpftoolSize(types: Map<number, DumpedType>, id: number): number | undefined {
  const t = types.get(id);
  if (!t) return undefined;
  if (t.fields.size !== undefined) return Number(t.fields.size);
  if (t.kind === 'PTR') return 8;
  if (t.kind === 'ARRAY') {
    const elem = bpftoolSize(types, Number(t.fields.type_id));
    return elem === undefined ? undefined : elem * Number(t.fields.nr_elems);
  }
  if (['TYPEDEF', 'CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG', 'VAR'].includes(t.kind)) return bpftoolSize(types, Number(t.fields.type_id));
  return undefined;
}

describe('Btf against bpftool btf dump', () => {
  for (const name of fixtureNames()) {
    withBpftool(`${name}: every type's kind, name, references, members and size`, () => {
      const btf = btfOf(name);
      const dumped = bpftoolTypes(fixturePath(name));
      const byId = new Map(dumped.map((d) => [d.id, d]));
      expect(btf.types.length - 1).toBe(dumped.length);
      for (const d of dumped) {
        const t = btf.type(d.id)!;
        expect(t.kindName).toBe(d.kind);
        expect(t.name).toBe(d.name);
        if (d.fields.size !== undefined) expect(t.size).toBe(Number(d.fields.size));
        if (d.fields.vlen !== undefined) expect(t.vlen).toBe(Number(d.fields.vlen));
        if (d.kind === 'ARRAY') {
          expect(t.array).toEqual({ type: Number(d.fields.type_id), indexType: Number(d.fields.index_type_id), nelems: Number(d.fields.nr_elems) });
        } else if (d.fields.type_id !== undefined) {
          expect(t.type).toBe(Number(d.fields.type_id));
        }
        if (d.fields.ret_type_id !== undefined) expect(t.type).toBe(Number(d.fields.ret_type_id));
        if (d.kind === 'INT') expect(t.int!.bits).toBe(Number(d.fields.nr_bits));
        if (d.kind === 'STRUCT' || d.kind === 'UNION') {
          const members = d.lines.map((l) => /^'([^']*)' type_id=(\d+) bits_offset=(\d+)/.exec(l)!);
          const anon = (n: string): string => (n === '(anon)' ? '' : n);
          expect(t.members!.map((m) => [m.name, m.type, m.bitOffset])).toEqual(members.map((m) => [anon(m[1]), Number(m[2]), Number(m[3])]));
        }
        if (d.kind === 'ENUM') {
          const values = d.lines.map((l) => /^'([^']*)' val=(-?\d+)/.exec(l)!);
          expect(t.enumValues!.map((v) => [v.name, v.value])).toEqual(values.map((m) => [m[1], BigInt(m[2])]));
        }
        if (d.kind === 'DATASEC') {
          const infos = d.lines.map((l) => /^type_id=(\d+) offset=(\d+) size=(\d+)/.exec(l)!);
          expect(t.secinfos).toEqual(infos.map((m) => ({ type: Number(m[1]), offset: Number(m[2]), size: Number(m[3]) })));
        }
        if (d.kind === 'FUNC_PROTO') {
          const params = d.lines.map((l) => /^'([^']*)' type_id=(\d+)/.exec(l)!);
          expect(t.params!.map((p) => [p.name, p.type])).toEqual(params.map((m) => [m[1], Number(m[2])]));
        }
        const expected = bpftoolSize(byId, d.id);
        if (expected !== undefined) expect(btf.sizeOf(d.id)).toBe(expected);
      }
    });
  }

  test('the big-endian object carries the same types', () => {
    const le = btfOf('globals.o');
    const be = btfOf('globals-eb.o');
    expect(be.endian).toBe('be');
    expect(be.types).toEqual(le.types);
  });

  test('describe spells types the way C does', () => {
    const btf = btfOf('globals.o');
    const key = btf.find('flow_key', BTF_KIND.STRUCT)!;
    expect(btf.describe(key.id)).toBe('struct flow_key');
    const u64 = btf.find('__u64', BTF_KIND.TYPEDEF)!;
    expect(btf.describe(u64.id)).toBe('__u64');
    const ptr = btf.types.find((t) => t.kind === BTF_KIND.PTR && t.type === key.id)!;
    expect(btf.describe(ptr.id)).toBe('struct flow_key *');
  });
});

/** A little-endian .BTF with the given raw type records and string table. */
function synthBtf(typeWords: number[], strings: string): Uint8Array {
  const strBytes = new TextEncoder().encode(strings);
  const typeLen = typeWords.length * 4;
  const out = new Uint8Array(24 + typeLen + strBytes.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, 0xeb9f, true);
  dv.setUint8(2, 1);
  dv.setUint32(4, 24, true);
  dv.setUint32(8, 0, true);
  dv.setUint32(12, typeLen, true);
  dv.setUint32(16, typeLen, true);
  dv.setUint32(20, strBytes.length, true);
  typeWords.forEach((w, i) => dv.setUint32(24 + i * 4, w >>> 0, true));
  out.set(strBytes, 24 + typeLen);
  return out;
}

describe('Btf on hostile input', () => {
  const info = (kind: number, vlen = 0): number => ((kind << 24) | vlen) >>> 0;

  test('a typedef cycle does not hang sizeOf or resolve', () => {
    // [1] typedef a -> 2, [2] typedef b -> 1
    const btf = Btf.parse(synthBtf([1, info(BTF_KIND.TYPEDEF), 2, 3, info(BTF_KIND.TYPEDEF), 1], '\0a\0b\0'), 'le');
    expect(codeOf(() => btf.sizeOf(1))).toBe('NC1018');
    expect(codeOf(() => btf.resolve(2))).toBe('NC1018');
    expect(typeof btf.describe(1)).toBe('string');
  });

  test('an array cycle does not hang sizeOf', () => {
    // [1] ARRAY of 1
    const btf = Btf.parse(synthBtf([0, info(BTF_KIND.ARRAY), 0, 1, 1, 4], '\0'), 'le');
    expect(codeOf(() => btf.sizeOf(1))).toBe('NC1018');
  });

  test('a struct claiming 65535 members in a tiny section is refused', () => {
    expect(codeOf(() => Btf.parse(synthBtf([0, info(BTF_KIND.STRUCT, 0xffff), 8], '\0'), 'le'))).toBe('NC1018');
  });

  test('bad magic, wrong byte order, bad string offsets and unknown kinds', () => {
    const ok = synthBtf([1, info(BTF_KIND.INT), 4, 32], '\0int\0');
    expect(Btf.parse(ok, 'le').sizeOf(1)).toBe(4);
    expect(codeOf(() => Btf.parse(ok, 'be'))).toBe('NC1018');
    expect(codeOf(() => Btf.parse(synthBtf([99, info(BTF_KIND.INT), 4, 32], '\0int\0'), 'le'))).toBe('NC1018');
    expect(codeOf(() => Btf.parse(synthBtf([0, info(25), 4], '\0'), 'le'))).toBe('NC1018');
    expect(codeOf(() => Btf.parse(ok.subarray(0, 10), 'le'))).toBe('NC1018');
  });
});
