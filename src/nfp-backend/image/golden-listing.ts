/**
 * Golden-style NFP listings (the format of ../shared/nfp-golden/*.txt) ->
 * NfpImage. `nicoff asm LISTING -o prog.nfp` reads them, and until the
 * compiler exists they are how images of real programs are made.
 *
 * The format, as the golden files have it:
 *
 *   # golden vector: NAME                                   (optional)
 *   # program type: xdp|tc; verifier stack depth: N; load slot start_off=S, done target=D
 *   # verifier facts assumed (per eBPF insn index):         then `#   INSN TEXT` lines
 *   # eBPF instructions (8 bytes each, little-endian):      then `#   bpf#N  HEX16  [text]`
 *   # len=WORDS tgt_out=PC tgt_abort=PC                      (tgt_push_regs=, tgt_pop_regs= also read)
 *   # columns: ...
 *   PC  RAW16  LOADED16  DISASSEMBLY  [; bpf#N]
 *
 * plus one nicoff extension, because the golden format does not carry maps:
 *
 *   # map TABLE_ID NAME array|hash key=K value=V entries=E [atomic=W,W...]
 *
 * Other `#` lines before the word rows are comments, except inside the facts
 * and eBPF blocks, where every line must be an entry. Header lines come before
 * the first word row.
 *
 * Every row is checked: pcs count up from 0; the raw word has no ECC and a
 * relocation byte of a doc B.1 type; the loaded word is exactly the raw word
 * relocated for the header's load slot with its ECC (NC6037); the disassembly
 * column is what the loaded word disassembles to (NC6039). Relocations come
 * from the raw words' relocation bytes (doc B.1 and I: type 1 carries the
 * program-relative target, types 2-6 the placeholder 15000, type 7
 * 15000 + helper id, type 8 the program-relative value in the immed; read by
 * isa/raw-relocation.ts), the
 * address map from the `; bpf#N` markers. Errors name the line.
 */
import { fail, NicoffError } from '../../diagnostics/diagnostic.js';
import { decodeProgram } from '../../ebpf/decode.js';
import { decodeInsn } from '../isa/codec.js';
import { disassembleWord } from '../isa/disassembler.js';
import { NFP_BODY_MASK, withEcc } from '../isa/ecc.js';
import { BR_OFF_RELO, readPlaceholder } from '../isa/raw-relocation.js';
import { NIC_FIRMWARE_ABI, type NfpFirmwareAbi, type NfpMapDef, type NfpProgramType } from '../sim/sim-types.js';
import {
  FIRMWARE_HELPERS,
  formatWordHex,
  isRelocatedBranch,
  RELOCATION_KIND_BY_TYPE,
  relocateWord,
  sectionLocator,
  validateMapDefs,
  validateNfpImage,
  type NfpImage,
  type NfpLabels,
  type NfpRelocation,
  type NfpRelocationKind,
  type NfpVerifierFact,
} from './nfp-image.js';


/**
 * Maps of the golden vectors, which their files do not declare. Source:
 * ../shared/nfp-golden/README.md ("xdp_count.c: BPF_MAP_TYPE_ARRAY cnt, 4 x
 * u64"; "Map references resolve to firmware table id 1 (first map)"), key
 * `__u32`, and the 64-bit atomic add at value offset 0 (facts `8 ptr=map
 * xadd16=1`, `lock *(u64 *)(r0 + 0) += r6`), which makes 32-bit value words 0
 * and 1 atomic counters. Used only for a listing named by `# golden vector:`
 * that declares no maps itself.
 */
const GOLDEN_VECTOR_MAPS: Readonly<Record<string, readonly NfpMapDef[]>> = {
  xdp_count: [{ tableId: 1, name: 'cnt', type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, atomicWords: [0, 1] }],
};

export interface NfpListingRow {
  /** 1-based line in the listing. */
  line: number;
  /** Program-relative index; the code-store address is startPc + pc. */
  pc: number;
  /** What `bpftool prog dump jited` shows: relocation byte, placeholders, no ECC. */
  raw: bigint;
  /** Relocated for the load slot, ECC in bits 51:45. */
  loaded: bigint;
  text: string;
  /** eBPF instruction index of a `; bpf#N` marker. */
  origin?: number;
}

const PROGRAM_TYPE_LINE = /^program type:\s*(\S+)\s*;\s*verifier stack depth:\s*(\d+)\s*;\s*load slot start_off=(\d+),\s*done target=(\d+)\s*$/;
const MAP_LINE = /^map\s+(\d+)\s+(\S+)\s+(\S+)\s+key=(\d+)\s+value=(\d+)\s+entries=(\d+)(?:\s+atomic=(\d+(?:,\d+)*))?\s*$/;
const WORD_ROW = /^\s*(\d+)\s+(\S+)\s+(\S+)\s+([^;]*?)\s*(?:;\s*(.*?)\s*)?$/;
const HEX16 = /^[0-9a-fA-F]{16}$/;
const LEN_KEYS: Readonly<Record<string, keyof NfpLabels | 'len'>> = {
  len: 'len',
  tgt_out: 'exit',
  tgt_abort: 'abort',
  tgt_push_regs: 'pushRegs',
  tgt_pop_regs: 'popRegs',
};

/** A golden-style listing announces itself with its `# program type:` header line. */
export function isNfpListing(text: string): boolean {
  return /^#\s*program type:/m.test(text);
}

type HeaderKind = 'golden vector' | 'program type' | 'facts' | 'ebpf' | 'len' | 'columns' | 'map';

function headerKind(h: string): HeaderKind | undefined {
  if (/^golden vector:/.test(h)) return 'golden vector';
  if (/^program type:/.test(h)) return 'program type';
  if (/^verifier facts assumed\b/.test(h)) return 'facts';
  if (/^eBPF instructions\b/.test(h)) return 'ebpf';
  if (/^len=/.test(h)) return 'len';
  if (/^columns:/.test(h)) return 'columns';
  if (/^map\s/.test(h)) return 'map';
  return undefined;
}

/** The outro and trampoline labels the placeholder kinds go to (done goes to the firmware, value 0). */
const PLACEHOLDER_LABEL = { exit: 'exit', abort: 'abort', 'push-regs': 'pushRegs', 'pop-regs': 'popRegs' } as const satisfies Partial<Record<NfpRelocationKind, keyof NfpLabels>>;

/** Run `f`; a NicoffError it throws is re-pointed at this line of the listing. */
function atLine<T>(file: string | undefined, line: number, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof NicoffError) e.diagnostic.location = { file, line };
    throw e;
  }
}

export function parseNfpListing(text: string, file?: string): { image: NfpImage; rows: NfpListingRow[] } {
  const where = (line?: number) => ({ file, line });
  const header = (line: number, reason: string): never => fail('NC6035', { reason }, where(line));
  const rowError = (line: number | undefined, reason: string): never => fail('NC6036', { reason }, where(line));
  const ebpfError = (line: number | undefined, reason: string): never => fail('NC6038', { reason }, where(line));

  let name: string | undefined;
  let typeLine: { line: number; programType: NfpProgramType; stackDepth: number; startPc: number; donePc: number } | undefined;
  let lenLine: { line: number; len?: number } | undefined;
  const labels: NfpLabels = {};
  const facts: (NfpVerifierFact & { line: number })[] = [];
  const ebpfSlots: { line: number; bytes: Uint8Array }[] = [];
  const declaredMaps: (NfpMapDef & { line: number })[] = [];
  const rows: NfpListingRow[] = [];
  let block: 'free' | 'facts' | 'ebpf' = 'free';

  text.split('\n').forEach((rawLine, i) => {
    const line = i + 1;
    const s = rawLine.replace(/\r$/, '');
    if (s.trimStart().startsWith('#')) {
      const h = s.trimStart().replace(/^#\s*/, '').trimEnd();
      const kind = headerKind(h);
      if (rows.length > 0) {
        if (kind) header(line, 'header lines come before the word rows');
        return;
      }
      if (h === '') return;
      switch (kind) {
        case 'golden vector':
          if (name !== undefined) header(line, 'a second `golden vector:` line');
          name = h.replace(/^golden vector:\s*/, '');
          if (name === '' || /[\u0000-\u001f]/.test(name)) header(line, 'the golden vector name is empty');
          break;
        case 'program type': {
          if (typeLine) header(line, `a second \`program type:\` line (the first is line ${typeLine.line})`);
          const m = PROGRAM_TYPE_LINE.exec(h) ?? header(line, 'expected `program type: xdp|tc; verifier stack depth: N; load slot start_off=S, done target=D`');
          const programType = m[1] === 'xdp' || m[1] === 'tc' ? m[1] : header(line, `program type ${m[1]} is neither xdp nor tc`);
          typeLine = { line, programType, stackDepth: Number(m[2]), startPc: Number(m[3]), donePc: Number(m[4]) };
          break;
        }
        case 'len': {
          if (lenLine) header(line, `a second \`len=\` line (the first is line ${lenLine.line})`);
          lenLine = { line };
          for (const part of h.split(/\s+/)) {
            const m = /^(\w+)=(\d+)$/.exec(part) ?? header(line, `expected KEY=NUMBER, found ${JSON.stringify(part)}`);
            const key = LEN_KEYS[m[1]] ?? header(line, `unknown key ${m[1]} (known: ${Object.keys(LEN_KEYS).join(', ')})`);
            if (key === 'len' ? lenLine.len !== undefined : labels[key] !== undefined) header(line, `${m[1]} is given twice`);
            if (key === 'len') lenLine.len = Number(m[2]);
            else labels[key] = Number(m[2]);
          }
          break;
        }
        case 'map': {
          const m = MAP_LINE.exec(h) ?? header(line, 'expected `map TABLE_ID NAME array|hash key=K value=V entries=E [atomic=W,...]`');
          if (m[3] !== 'array' && m[3] !== 'hash') header(line, `map type ${m[3]} is neither array nor hash`);
          const map: NfpMapDef & { line: number } = {
            line,
            tableId: Number(m[1]),
            name: m[2],
            type: m[3] as 'array' | 'hash',
            keySize: Number(m[4]),
            valueSize: Number(m[5]),
            maxEntries: Number(m[6]),
          };
          if (m[7]) map.atomicWords = m[7].split(',').map(Number);
          declaredMaps.push(map);
          break;
        }
        case 'facts':
          block = 'facts';
          return;
        case 'ebpf':
          block = 'ebpf';
          return;
        case 'columns':
          break;
        case undefined:
          if (block === 'facts') {
            const m = /^(\d+)\s+(\S.*)$/.exec(h) ?? header(line, 'expected a verifier fact `INSN key=value ...`');
            facts.push({ line, insn: Number(m[1]), text: m[2] });
          } else if (block === 'ebpf') {
            const m = /^bpf#(\d+)\s+(\S+)(?:\s+.*)?$/.exec(h) ?? ebpfError(line, 'expected `bpf#N  HEX16  [text]`');
            if (Number(m[1]) !== ebpfSlots.length) ebpfError(line, `bpf#${m[1]} is out of sequence: expected bpf#${ebpfSlots.length}`);
            if (!HEX16.test(m[2])) ebpfError(line, `${JSON.stringify(m[2])} is not 16 hexadecimal digits (one 8-byte slot)`);
            ebpfSlots.push({ line, bytes: Uint8Array.from(m[2].match(/../g)!, (b) => parseInt(b, 16)) });
          }
          return;
      }
      block = 'free';
      return;
    }
    if (s.trim() === '') return;
    const m = WORD_ROW.exec(s) ?? rowError(line, 'expected `PC  RAW_WORD  LOADED_WORD  DISASSEMBLY  [; bpf#N]`');
    const pc = Number(m[1]);
    if (pc !== rows.length) rowError(line, `pc ${m[1]} is out of sequence: expected ${rows.length}`);
    if (!HEX16.test(m[2])) rowError(line, `raw word ${JSON.stringify(m[2])} is not 16 hexadecimal digits`);
    if (!HEX16.test(m[3])) rowError(line, `loaded word ${JSON.stringify(m[3])} is not 16 hexadecimal digits`);
    if (m[4] === '') rowError(line, 'the disassembly column is empty');
    const row: NfpListingRow = { line, pc, raw: BigInt(`0x${m[2]}`), loaded: BigInt(`0x${m[3]}`), text: m[4] };
    if (m[5] !== undefined) {
      const o = /^bpf#(\d+)$/.exec(m[5]) ?? rowError(line, `the comment after the disassembly must be \`; bpf#N\`, not ${JSON.stringify(m[5])}`);
      row.origin = Number(o[1]);
    }
    rows.push(row);
  });

  if (!typeLine) return header(1, 'no `# program type: ...` line');
  if (rows.length === 0) return rowError(undefined, 'the listing has no word rows');
  const n = rows.length;
  if (lenLine) {
    if (lenLine.len !== undefined && lenLine.len !== n) header(lenLine.line, `len=${lenLine.len}, but the listing has ${n} word rows`);
    for (const [k, v] of Object.entries(labels)) if (v !== undefined && v >= n) header(lenLine.line, `${k} label ${v} is outside the ${n} words`);
  }
  const abi: NfpFirmwareAbi = { ...NIC_FIRMWARE_ABI, startPc: typeLine.startPc, donePc: typeLine.donePc };
  if (abi.startPc + n > abi.codeStoreWords) header(typeLine.line, `start_off=${abi.startPc} with ${n} words ends past the ${abi.codeStoreWords}-word code store`);
  if (abi.donePc >= abi.codeStoreWords) header(typeLine.line, `done target=${abi.donePc} is outside the ${abi.codeStoreWords}-word code store`);
  if (typeLine.stackDepth > abi.stackBytes) header(typeLine.line, `stack depth ${typeLine.stackDepth} exceeds the firmware's ${abi.stackBytes} bytes`);

  // eBPF instructions: validated as a program, errors pointed at their line.
  const ebpf = new Uint8Array(ebpfSlots.length * 8);
  ebpfSlots.forEach((slot, i) => ebpf.set(slot.bytes, i * 8));
  try {
    decodeProgram(ebpf, 'le', { section: 'listing eBPF instructions' });
  } catch (e) {
    if (!(e instanceof NicoffError)) throw e;
    const insn = e.diagnostic.location.insn ?? 0;
    ebpfError(ebpfSlots[Math.min(insn, ebpfSlots.length - 1)]?.line, `bpf#${insn}: ${e.diagnostic.message}`);
  }
  const slots = ebpfSlots.length;

  let previousFact = -1;
  for (const f of facts) {
    if (f.insn >= slots) header(f.line, `facts for eBPF instruction ${f.insn}, but the listing has ${slots}`);
    if (f.insn <= previousFact) header(f.line, `facts for instruction ${f.insn} do not follow those for ${previousFact}`);
    previousFact = f.insn;
  }

  validateMapDefs(declaredMaps, (i) => where(declaredMaps[i].line));
  const maps: NfpMapDef[] = declaredMaps.length
    ? declaredMaps.map(({ line: _line, ...m }) => m)
    : (GOLDEN_VECTOR_MAPS[name ?? ''] ?? []).map((m) => ({ ...m, ...(m.atomicWords ? { atomicWords: [...m.atomicWords] } : {}) }));
  for (const f of facts) {
    const ref = /\bmapidx=(\d+)\b/.exec(f.text);
    if (ref && Number(ref[1]) >= maps.length) {
      header(f.line, `eBPF instruction ${f.insn} references map index ${ref[1]}, but the listing declares ${maps.length} maps (add \`# map TABLE_ID NAME array|hash key=K value=V entries=E\`)`);
    }
  }

  // Address map from the markers.
  const addressMap: (number | null)[] = new Array<number | null>(slots).fill(null);
  let previousOrigin: NfpListingRow | undefined;
  for (const r of rows) {
    if (r.origin === undefined) continue;
    if (r.origin >= slots) ebpfError(r.line, `marker bpf#${r.origin}, but the listing lists ${slots} eBPF instructions`);
    if (previousOrigin && r.origin <= previousOrigin.origin!) {
      rowError(r.line, `marker bpf#${r.origin} follows bpf#${previousOrigin.origin} (line ${previousOrigin.line}); markers must follow eBPF order, one per instruction`);
    }
    addressMap[r.origin] = r.pc;
    previousOrigin = r;
  }

  // Relocations from the raw words; the loaded words must be their relocation.
  const relocations: NfpRelocation[] = [];
  for (const r of rows) {
    const bad = (reason: string): never => rowError(r.line, `pc ${r.pc}: ${reason}`);
    const type = Number(r.raw >> 56n);
    if ((r.raw >> 45n) & 0x7ffn) bad(`raw word ${formatWordHex(r.raw)} has bits 55:45 set; a raw JIT word has no ECC`);
    const kind = type === 0 ? undefined : (RELOCATION_KIND_BY_TYPE.get(type) ?? bad(`relocation byte ${type} is not a doc B.1 type (0..8)`));
    const body = r.raw & NFP_BODY_MASK;
    let reloc: NfpRelocation | undefined;
    if (kind) {
      const insn = atLine(file, r.line, () => decodeInsn(body));
      if (kind !== 'immed-address' && !isRelocatedBranch(insn)) bad(`relocation type ${type} (${kind}) needs a branch, but the word is ${insn.format}`);
      const notHelper = (target: number): never =>
        bad(`helper branch target ${target} is not ${BR_OFF_RELO} + a firmware helper id (${[...FIRMWARE_HELPERS.keys()].join(', ')})`);
      const label = (name: keyof NfpLabels): number =>
        labels[name] ?? bad(`a ${kind} branch needs the listing's ${name} label (the \`# len=\` line's ${Object.keys(LEN_KEYS).find((k) => LEN_KEYS[k] === name)})`);
      const placeholder = readPlaceholder(type, insn);
      let value: number;
      switch (placeholder.kind) {
        case 'program-relative': // types 1 and 8
          value = placeholder.value;
          if (value >= n) bad(`${kind === 'branch' ? 'branch target' : 'immed address'} ${value} is outside the ${n} words`);
          break;
        case 'special': // types 2-6
          value = kind === 'done' ? 0 : label(PLACEHOLDER_LABEL[kind as keyof typeof PLACEHOLDER_LABEL]);
          break;
        case 'helper':
          value = placeholder.helperId;
          if (!FIRMWARE_HELPERS.has(value)) notHelper(placeholder.value);
          break;
        case 'not-the-placeholder':
          return bad(`a ${kind} branch carries the placeholder target ${BR_OFF_RELO}, not ${placeholder.target}`);
        case 'no-helper-id':
          return notHelper(placeholder.target);
        case 'not-a-plain-immed':
          return bad(`relocation type 8 needs a plain 16-bit immed, but the word is ${insn.format}`);
        case 'not-a-branch': // refused above, with br_byte
        case 'none': // type 0 has no kind
          throw new Error(`relocation type ${type}: ${placeholder.kind}`);
      }
      reloc = { pc: r.pc, kind, value };
      relocations.push(reloc);
    }
    const expected = withEcc(reloc ? atLine(file, r.line, () => relocateWord(body, reloc!, abi, relocations.length - 1)) : body);
    if (r.loaded !== expected) {
      const reason =
        r.loaded >> 52n !== 0n
          ? 'the loaded word has bits 63:52 set'
          : (r.loaded & NFP_BODY_MASK) === (expected & NFP_BODY_MASK)
            ? 'its ECC bits 51:45 are wrong'
            : reloc
              ? `the ${reloc.kind} relocation gives a different word`
              : 'the instruction bits differ (the raw word has no relocation)';
      fail('NC6037', { pc: r.pc, loaded: formatWordHex(r.loaded), raw: formatWordHex(r.raw), expected: formatWordHex(expected), reason }, where(r.line));
    }
    let actual: string;
    try {
      actual = disassembleWord(r.loaded);
    } catch (e) {
      if (e instanceof NicoffError) return bad(`the loaded word does not decode: ${e.diagnostic.message}`);
      throw e;
    }
    if (actual !== r.text) fail('NC6039', { pc: r.pc, text: r.text, actual }, where(r.line));
  }

  const image: NfpImage = {
    programType: typeLine.programType,
    abi,
    stackDepth: typeLine.stackDepth,
    words: rows.map((r) => r.loaded),
    relocations,
    labels,
    maps,
    ebpf,
    addressMap,
    sourceLines: [],
    verifierFacts: facts.map(({ insn, text: t }) => ({ insn, text: t })),
  };
  if (name !== undefined) image.name = name;
  validateNfpImage(image, sectionLocator(file));
  return { image, rows };
}

export function imageFromListing(text: string, file?: string): NfpImage {
  return parseNfpListing(text, file).image;
}
