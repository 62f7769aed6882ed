/**
 * An NFP image as a listing (`nicoff disasm prog.nfp`): the NFP words grouped
 * by the eBPF instruction they were generated for (the image's address map),
 * each group with the eBPF instruction's llvm-objdump-style text, its source
 * line and verifier facts when the image has them. Words before the first
 * eBPF instruction are the prologue; words from the first outro label on
 * (abort/exit blocks, trampolines, the nop tail) are the outro.
 */
import { decodeProgram } from '../../ebpf/decode.js';
import { disassembleInsn } from '../../ebpf/disasm.js';
import { helperById } from '../../ebpf/helpers.js';
import { NicoffError } from '../../diagnostics/diagnostic.js';
import { disassembleWord } from '../isa/disassembler.js';
import { formatWord } from '../isa/word-list.js';
import { relocationTarget, type NfpImage, type NfpRelocation, type NfpSourceLine } from './nfp-image.js';

export interface ImageListingWord {
  /** Program-relative pc. */
  pc: number;
  /** Code-store address (abi.startPc + pc). */
  address: number;
  /** Loaded word, 16 hex digits. */
  word: string;
  text: string;
  /** What the word's relocation says, when it has one. */
  relocation?: string;
}

export interface ImageListingGroup {
  kind: 'prologue' | 'ebpf' | 'outro' | 'code';
  /** eBPF instruction index (kind 'ebpf'). */
  insn?: number;
  /** The eBPF slot(s), hex, and the instruction's text. */
  ebpf?: { bytes: string; text: string };
  source?: NfpSourceLine;
  facts?: string;
  words: ImageListingWord[];
}

export function describeRelocation(r: NfpRelocation, image: NfpImage): string {
  const at = relocationTarget(r, image.abi);
  switch (r.kind) {
    case 'branch':
      return `branch to pc ${r.value}`;
    case 'immed-address':
      return `address of pc ${r.value}`;
    case 'done':
      return `firmware done address ${at}`;
    case 'helper':
      return `helper ${r.value} (${helperById(r.value)?.name ?? 'unknown'}) at ${at}`;
    default:
      return `${r.kind} (pc ${r.value})`;
  }
}

function hexBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function listNfpImage(image: NfpImage): ImageListingGroup[] {
  const relocs = new Map(image.relocations.map((r) => [r.pc, r]));
  const word = (pc: number): ImageListingWord => {
    const w = image.words[pc];
    let text: string;
    try {
      text = disassembleWord(w);
    } catch (e) {
      if (!(e instanceof NicoffError)) throw e;
      text = `(bad: ${e.diagnostic.message})`;
    }
    const row: ImageListingWord = { pc, address: image.abi.startPc + pc, word: formatWord(w), text };
    const r = relocs.get(pc);
    if (r) row.relocation = describeRelocation(r, image);
    return row;
  };
  const range = (from: number, to: number): ImageListingWord[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => word(from + i));
  const n = image.words.length;

  const present = image.addressMap.flatMap((pc, insn) => (pc === null ? [] : [{ insn, pc }]));
  if (present.length === 0) return [{ kind: 'code', words: range(0, n) }];

  const last = present[present.length - 1].pc;
  const outroStart = Math.min(n, ...Object.values(image.labels).filter((l): l is number => l !== undefined && l > last));
  const insns = decodeProgram(image.ebpf, 'le', { section: '.nicoff.ebpf' });
  const lines = new Map(image.sourceLines.map((l) => [l.insn, l]));
  const facts = new Map(image.verifierFacts.map((f) => [f.insn, f.text]));
  const groups: ImageListingGroup[] = [];
  if (present[0].pc > 0) groups.push({ kind: 'prologue', words: range(0, present[0].pc) });
  let next = 0;
  insns.forEach((insn, i) => {
    const filler = i > 0 && insns[i - 1].slots === 2;
    const bytes = image.ebpf.subarray(i * 8, (i + (filler ? 1 : insn.slots)) * 8);
    const text = filler ? `(second slot of bpf#${i - 1})` : disassembleInsn(insn, i);
    const g: ImageListingGroup = { kind: 'ebpf', insn: i, ebpf: { bytes: hexBytes(bytes), text }, words: [] };
    const start = image.addressMap[i];
    if (start !== null) {
      while (next < present.length && present[next].insn <= i) next++;
      const end = next < present.length ? present[next].pc : outroStart;
      g.words = range(start, end);
    }
    const src = lines.get(i);
    if (src) g.source = src;
    const f = facts.get(i);
    if (f) g.facts = f;
    groups.push(g);
  });
  if (outroStart < n) groups.push({ kind: 'outro', words: range(outroStart, n) });
  return groups;
}

/** Everything but the words: what `disasm` prints above the listing and `--json` gives as `image`. */
export function imageSummary(image: NfpImage) {
  return {
    ...(image.name !== undefined ? { name: image.name } : {}),
    programType: image.programType,
    words: image.words.length,
    loadSlot: { startPc: image.abi.startPc, endPc: image.abi.startPc + image.words.length - 1, donePc: image.abi.donePc },
    abi: image.abi,
    stackDepth: image.stackDepth,
    labels: image.labels,
    maps: image.maps,
    relocations: image.relocations,
    ebpfInstructions: image.addressMap.length,
  };
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/** The text `nicoff disasm prog.nfp` prints (no colour). */
export function formatImageListing(image: NfpImage, groups: readonly ImageListingGroup[], file?: string): string[] {
  const a = image.abi;
  const out: string[] = [];
  out.push(`NFP image${file ? ` ${file}` : ''}: ${image.name ? `${image.name}, ` : ''}program type ${image.programType}, ${image.words.length} words`);
  out.push(`  load slot: pc ${a.startPc}..${a.startPc + image.words.length - 1}, done ${a.donePc} (code store ${a.codeStoreWords} words)`);
  out.push(
    `  firmware: map_lookup ${hex(a.helpers.mapLookup)}, map_update ${hex(a.helpers.mapUpdate)}, map_delete ${hex(a.helpers.mapDelete)}, ` +
      `perf_event_output ${hex(a.helpers.perfEventOutput)}; adjust_head ${a.adjustHead.offMin}..${a.adjustHead.offMax} ` +
      `(guaranteed sub ${a.adjustHead.guaranteedSub}, add ${a.adjustHead.guaranteedAdd}); stack ${a.stackBytes} bytes`,
  );
  if (a.arrayValues) out.push(`  array values computed in place: table t at ${hex(a.arrayValues.base)} + t * ${hex(a.arrayValues.tableStride)}`);
  out.push(`  verifier stack depth: ${image.stackDepth} bytes`);
  const labels = Object.entries(image.labels).filter(([, v]) => v !== undefined);
  if (labels.length) out.push(`  labels: ${labels.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  out.push(`  maps: ${image.maps.length === 0 ? 'none' : image.maps.length}`);
  for (const m of image.maps) {
    const atomic = m.atomicWords?.length ? `  atomic words ${m.atomicWords.join(',')}` : '';
    out.push(`    table ${m.tableId}  ${m.name}  ${m.type}  key ${m.keySize}  value ${m.valueSize}  entries ${m.maxEntries}${atomic}`);
  }
  const kinds = new Map<string, number>();
  for (const r of image.relocations) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
  out.push(`  relocations: ${image.relocations.length}${kinds.size ? ` (${[...kinds].map(([k, c]) => `${k} ${c}`).join(', ')})` : ''}`);
  let lastSource = '';
  for (const g of groups) {
    if (g.kind === 'ebpf') {
      if (g.source) {
        const key = `${g.source.file}:${g.source.line}:${g.source.column}`;
        if (key !== lastSource) out.push(`; ${key}${g.source.text !== undefined ? `  ${g.source.text.trim()}` : ''}`);
        lastSource = key;
      }
      out.push(`bpf#${g.insn}  ${g.ebpf!.bytes}  ${g.ebpf!.text}${g.facts ? `  ; facts: ${g.facts}` : ''}`);
    } else {
      out.push(`${g.kind}:`);
    }
    for (const w of g.words) {
      const row = `${String(w.pc).padStart(6)}  ${w.word}  ${w.text}`;
      out.push(w.relocation ? `${row.padEnd(72)}  ; ${w.relocation}` : row);
    }
  }
  return out;
}
