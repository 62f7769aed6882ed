/**
 * nicoff's NFP firmware image as a value: what the compiler produces, what
 * `prog.nfp` holds (image-format.ts, write-image.ts, read-image.ts) and what
 * the simulator runs (toLoadedProgram).
 *
 * The code is kept in loaded form (relocated for `abi.startPc`, ECC in bits
 * 51:45) together with the relocations that say which words hold absolute
 * code-store addresses, so a loader can move the program to another slot
 * (relocateNfpImage) the way the kernel's nfp_bpf_relo_for_vnic does
 * (nfp-microcode.md B.1).
 *
 * validateNfpImage is the one set of rules an image must satisfy; the reader
 * runs it on every file and the writer on every image it is given, so a file
 * nicoff writes always reads back.
 */
import { fail, NicoffError, type DiagnosticLocation } from '../../diagnostics/diagnostic.js';
import { decodeProgram } from '../../ebpf/decode.js';
import { decodeInsn, encodeInsn } from '../isa/codec.js';
import { computeEcc, NFP_BODY_MASK, storedEcc, withEcc } from '../isa/ecc.js';
import type { NfpInsn } from '../isa/instruction.js';
import { BRANCH_TARGET_LIMIT, isPlainImmed, withRelocatedValue } from '../isa/raw-relocation.js';
import type { NfpFirmwareAbi, NfpLoadedProgram, NfpMapDef, NfpProgramType } from '../sim/sim-types.js';
import { ATOMIC_WORD_LIMIT, BPF_SLOT_BYTES, MAP_NAME_MAX, RELOCATION_KIND_BY_TYPE, RELOCATION_TYPE, SECTION } from './image-format.js';

/** What a relocation patches, by the kernel's relocation type (nfp_asm.h enum nfp_relo_type; doc B.1). */
export type NfpRelocationKind =
  | 'branch' // 1 RELO_BR_REL: branch to a program-relative pc
  | 'exit' // 2 RELO_BR_GO_OUT: branch to the outro's normal exit (labels.exit)
  | 'abort' // 3 RELO_BR_GO_ABORT: branch to the outro's abort block (labels.abort)
  | 'push-regs' // 4 RELO_BR_GO_CALL_PUSH_REGS: branch to the R6-R9 push trampoline (labels.pushRegs)
  | 'pop-regs' // 5 RELO_BR_GO_CALL_POP_REGS: branch to the pop trampoline (labels.popRegs)
  | 'done' // 6 RELO_BR_NEXT_PKT: branch to the firmware's done address (abi.donePc)
  | 'helper' // 7 RELO_BR_HELPER: branch to a firmware helper subroutine (abi.helpers), by eBPF helper id
  | 'immed-address'; // 8 RELO_IMMED_REL: an immed holding a program-relative address (a return address)

export { RELOCATION_KIND_BY_TYPE, RELOCATION_TYPE } from './image-format.js';

/**
 * The eBPF helpers that are firmware subroutines (FUNC capability TLVs, doc
 * D.7), by helper id; the other helpers the NFP supports are inlined.
 */
export const FIRMWARE_HELPERS: ReadonlyMap<number, keyof NfpFirmwareAbi['helpers']> = new Map([
  [1, 'mapLookup'],
  [2, 'mapUpdate'],
  [3, 'mapDelete'],
  [25, 'perfEventOutput'],
] as const);

export interface NfpRelocation {
  /** Program-relative index of the word the relocation patches. */
  pc: number;
  kind: NfpRelocationKind;
  /**
   * branch, exit, abort, push-regs, pop-regs, immed-address: the
   * program-relative target; helper: the eBPF helper id; done: 0.
   */
  value: number;
}

/** Program-relative addresses of the JIT's fixed blocks, where the program has them. */
export interface NfpLabels {
  /** The outro's normal exit (the kernel's tgt_out). */
  exit?: number;
  /** The outro's abort block (tgt_abort). */
  abort?: number;
  /** Register push / pop trampolines (tgt_call_push_regs / tgt_call_pop_regs). */
  pushRegs?: number;
  popRegs?: number;
}

export interface NfpSourceLine {
  /** eBPF instruction index. */
  insn: number;
  file: string;
  line: number;
  column: number;
  /** The source line's text, when known. */
  text?: string;
}

export interface NfpVerifierFact {
  insn: number;
  /** The facts the code generator relied on, as text (`ptr=map xadd16=1`). */
  text: string;
}

export interface NfpImage {
  /** Program name, when known. */
  name?: string;
  programType: NfpProgramType;
  /** Load slot (startPc, donePc) and every firmware capability the code assumes. */
  abi: NfpFirmwareAbi;
  /** Verifier stack depth in bytes. */
  stackDepth: number;
  /** Loaded-form words for code-store addresses abi.startPc.. (ECC present, bits 63:52 zero). */
  words: bigint[];
  /** One per word that holds an absolute address, in increasing pc order. */
  relocations: NfpRelocation[];
  labels: NfpLabels;
  maps: NfpMapDef[];
  /** The eBPF program the code came from: raw little-endian 8-byte slots (empty when unknown). */
  ebpf: Uint8Array;
  /** For each eBPF slot, the program-relative pc of its first NFP word, or null when it has none of its own. */
  addressMap: (number | null)[];
  /** Source positions of eBPF instructions, in increasing instruction order. */
  sourceLines: NfpSourceLine[];
  verifierFacts: NfpVerifierFact[];
}

export function toLoadedProgram(image: NfpImage): NfpLoadedProgram {
  return { words: [...image.words], programType: image.programType, maps: image.maps.map((m) => ({ ...m })), abi: image.abi };
}

export function formatWordHex(word: bigint): string {
  return `0x${word.toString(16).padStart(16, '0')}`;
}

/** Where each kind of problem is reported; the reader maps entries to file offsets, the writer names the section. */
export interface ImageLocator {
  code(pc: number): DiagnosticLocation;
  relocation(index: number): DiagnosticLocation;
  map(index: number): DiagnosticLocation;
  meta(): DiagnosticLocation;
  ebpf(): DiagnosticLocation & { fileOffset?: number };
  addressMap(insn: number): DiagnosticLocation;
  lines(): DiagnosticLocation;
}

/** Problems named by section only (images that are values, not files). */
export function sectionLocator(file?: string): ImageLocator {
  const at = (section: string): DiagnosticLocation => ({ file, section });
  return {
    code: () => at(SECTION.code),
    relocation: () => at(SECTION.relocs),
    map: () => at(SECTION.maps),
    meta: () => at(SECTION.meta),
    ebpf: () => at(SECTION.ebpf),
    addressMap: () => at(SECTION.addressMap),
    lines: () => at(SECTION.lines),
  };
}

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

const U32_MAX = 0xffffffff;

/** The absolute code-store address a relocation resolves to for this ABI and labels. */
export function relocationTarget(r: NfpRelocation, abi: NfpFirmwareAbi): number {
  switch (r.kind) {
    case 'done':
      return abi.donePc;
    case 'helper': {
      const which = FIRMWARE_HELPERS.get(r.value);
      if (which === undefined) throw new RangeError(`helper ${r.value} has no firmware address`);
      return abi.helpers[which];
    }
    default:
      return abi.startPc + r.value;
  }
}

function isBranchKind(kind: NfpRelocationKind): boolean {
  return kind !== 'immed-address';
}

/**
 * The branches an image's relocations patch: br and br_bit. A br_byte has the
 * same target field but is never relocated here (a relocation on one is
 * refused, and assembly-image.ts leaves its target absolute).
 */
export function isRelocatedBranch(insn: NfpInsn): insn is Extract<NfpInsn, { format: 'br' | 'br_bit' }> {
  return insn.format === 'br' || insn.format === 'br_bit';
}

/**
 * The 45-bit instruction body of `word` with the address field the relocation
 * patches set for `abi` (the field itself: isa/raw-relocation.ts). `word` may
 * be loaded (ECC present) or raw (the JIT's placeholder targets, relocation
 * byte cleared); bits above 44 are ignored. Throws NC6028 when the word cannot
 * carry this relocation.
 */
export function relocateWord(word: bigint, r: NfpRelocation, abi: NfpFirmwareAbi, index = 0, where: DiagnosticLocation = {}): bigint {
  const bad = (reason: string): never => fail('NC6028', { index, pc: r.pc, kind: r.kind, reason }, where);
  let insn: NfpInsn;
  try {
    insn = decodeInsn(word & NFP_BODY_MASK);
  } catch (e) {
    if (e instanceof NicoffError) bad(`the word ${formatWordHex(word)} does not decode: ${e.diagnostic.message}`);
    throw e;
  }
  let target: number;
  try {
    target = relocationTarget(r, abi);
  } catch {
    return bad(`helper ${r.value} is not a firmware subroutine (firmware helpers: ${[...FIRMWARE_HELPERS.keys()].join(', ')})`);
  }
  if (isBranchKind(r.kind)) {
    if (!isRelocatedBranch(insn)) return bad(`a ${r.kind} relocation needs a branch, but the word is ${insn.format}`);
    if (!isInt(target, 0, BRANCH_TARGET_LIMIT - 1)) return bad(`target ${target} does not fit a 14-bit branch address`);
    return encodeInsn(withRelocatedValue(insn, target));
  }
  if (insn.format !== 'immed') return bad(`an immed-address relocation needs an immed, but the word is ${insn.format}`);
  if (!isPlainImmed(insn)) return bad('the immed is not a plain 16-bit value (width word, no shift, no invert)');
  if (!isInt(target, 0, 0xffff)) return bad(`address ${target} does not fit the immed's 16 bits`);
  return encodeInsn(withRelocatedValue(insn, target));
}

function validateAbi(abi: NfpFirmwareAbi, where: DiagnosticLocation): void {
  const bad = (reason: string): never => fail('NC6030', { reason }, where);
  if (!isInt(abi.codeStoreWords, 1, BRANCH_TARGET_LIMIT)) bad(`abi.codeStoreWords ${abi.codeStoreWords} is not 1..${BRANCH_TARGET_LIMIT}`);
  const addr = (name: string, v: number): void => {
    if (!isInt(v, 0, abi.codeStoreWords - 1)) bad(`abi.${name} ${v} is not a code-store address (0..${abi.codeStoreWords - 1})`);
  };
  addr('startPc', abi.startPc);
  addr('donePc', abi.donePc);
  for (const [k, v] of Object.entries(abi.helpers)) addr(`helpers.${k}`, v);
  const ah = abi.adjustHead;
  for (const [k, v] of Object.entries(ah)) if (!isInt(v, 0, 0xffff)) bad(`abi.adjustHead.${k} ${v} is not an integer 0..65535`);
  if (ah.offMin > ah.offMax) bad(`abi.adjustHead.offMin ${ah.offMin} is above offMax ${ah.offMax}`);
  if (!isInt(abi.stackBytes, 0, 0xffff)) bad(`abi.stackBytes ${abi.stackBytes} is not an integer 0..65535`);
  const av = abi.arrayValues;
  if (av) {
    // 40-bit EMEM addresses; a stride that divides 2^32 keeps every table inside one 4 GiB block (no carry into bits 39:32).
    if (!isInt(av.base, 0, 2 ** 40 - 1) || av.base % 2 ** 32 !== 0) bad(`abi.arrayValues.base ${av.base} is not a 40-bit address on a 4 GiB boundary`);
    if (!isInt(av.tableStride, 8, 2 ** 32) || 2 ** 32 % av.tableStride !== 0) bad(`abi.arrayValues.tableStride ${av.tableStride} does not divide 2^32`);
  }
}

function validateCode(image: NfpImage, loc: ImageLocator): void {
  const { words, abi } = image;
  if (words.length === 0) fail('NC6027', { reason: 'the code section is empty' }, loc.code(0));
  if (abi.startPc + words.length > abi.codeStoreWords) {
    fail('NC6027', { reason: `${words.length} words at ${abi.startPc} end past the ${abi.codeStoreWords}-word code store` }, loc.code(0));
  }
  words.forEach((w, pc) => {
    const word = formatWordHex(w);
    if (w < 0n || w >> 64n !== 0n) fail('NC6025', { pc, word, bits: 'not a 64-bit value' }, loc.code(pc));
    const high = w >> 52n;
    if (high !== 0n) fail('NC6025', { pc, word, bits: `0x${(high << 52n).toString(16)}` }, loc.code(pc));
    const expected = computeEcc(w & NFP_BODY_MASK);
    const ecc = storedEcc(w);
    if (ecc !== expected) fail('NC6026', { pc, word, ecc: ecc.toString(16), expected: expected.toString(16) }, loc.code(pc));
  });
}

function validateLabels(image: NfpImage, loc: ImageLocator): void {
  for (const [name, pc] of Object.entries(image.labels)) {
    if (pc === undefined) continue;
    if (!isInt(pc, 0, image.words.length - 1)) {
      fail('NC6030', { reason: `label ${name} = ${pc} is outside the code (${image.words.length} words)` }, loc.meta());
    }
  }
}

function validateRelocations(image: NfpImage, loc: ImageLocator): void {
  const n = image.words.length;
  let previous = -1;
  image.relocations.forEach((r, index) => {
    const where = loc.relocation(index);
    const bad = (reason: string): never => fail('NC6028', { index, pc: r.pc, kind: r.kind, reason }, where);
    if (!RELOCATION_KIND_BY_TYPE.has(RELOCATION_TYPE[r.kind])) bad(`unknown relocation kind ${String(r.kind)}`);
    if (!isInt(r.pc, 0, U32_MAX) || r.pc >= n) bad(`pc is outside the code (${n} words)`);
    if (r.pc <= previous) bad(`relocations must be in increasing pc order, one per word (previous pc ${previous})`);
    previous = r.pc;
    if (!isInt(r.value, 0, U32_MAX)) bad(`value ${r.value} is not an unsigned 32-bit integer`);
    const label = (name: keyof NfpLabels): void => {
      const at = image.labels[name];
      if (at === undefined) bad(`the image has no ${name} label`);
      if (r.value !== at) bad(`target ${r.value} is not the ${name} label ${at}`);
    };
    switch (r.kind) {
      case 'branch':
      case 'immed-address':
        if (r.value >= n) bad(`target ${r.value} is outside the code (${n} words)`);
        break;
      case 'exit':
        label('exit');
        break;
      case 'abort':
        label('abort');
        break;
      case 'push-regs':
        label('pushRegs');
        break;
      case 'pop-regs':
        label('popRegs');
        break;
      case 'done':
        if (r.value !== 0) bad(`a done relocation carries value 0, not ${r.value}`);
        break;
      case 'helper':
        if (!FIRMWARE_HELPERS.has(r.value)) bad(`helper ${r.value} is not a firmware subroutine (firmware helpers: ${[...FIRMWARE_HELPERS.keys()].join(', ')})`);
        break;
    }
    const word = image.words[r.pc];
    const body = relocateWord(word, r, image.abi, index, where);
    if (body !== (word & NFP_BODY_MASK)) {
      bad(`the word ${formatWordHex(word)} does not hold the address the relocation gives (${relocationTarget(r, image.abi)})`);
    }
  });
}

const MAP_NAME = /^[A-Za-z0-9_.]+$/;

/** The map table's rules (NC6029), each map's problems reported at `at(index)`. */
export function validateMapDefs(maps: readonly NfpMapDef[], at: (index: number) => DiagnosticLocation): void {
  const ids = new Set<number>();
  maps.forEach((m, index) => {
    const bad = (reason: string): never => fail('NC6029', { index, reason }, at(index));
    if (!isInt(m.tableId, 1, U32_MAX)) bad(`table id ${m.tableId} is not 1..${U32_MAX}`);
    if (ids.has(m.tableId)) bad(`table id ${m.tableId} is used twice`);
    ids.add(m.tableId);
    if (typeof m.name !== 'string' || m.name.length === 0 || m.name.length > MAP_NAME_MAX || !MAP_NAME.test(m.name)) {
      bad(`name ${JSON.stringify(m.name)} is not 1..${MAP_NAME_MAX} characters of [A-Za-z0-9_.]`);
    }
    if (m.type !== 'array' && m.type !== 'hash') bad(`type ${String(m.type)} is neither array nor hash`);
    if (!isInt(m.keySize, 1, U32_MAX)) bad(`key size ${m.keySize} is not 1..${U32_MAX}`);
    if (!isInt(m.valueSize, 1, U32_MAX)) bad(`value size ${m.valueSize} is not 1..${U32_MAX}`);
    if (!isInt(m.maxEntries, 1, U32_MAX)) bad(`max entries ${m.maxEntries} is not 1..${U32_MAX}`);
    let last = -1;
    for (const w of m.atomicWords ?? []) {
      if (!isInt(w, 0, ATOMIC_WORD_LIMIT - 1)) bad(`atomic word ${w} is not 0..${ATOMIC_WORD_LIMIT - 1}`);
      if (w <= last) bad('atomic words must be increasing');
      if ((w + 1) * 4 > m.valueSize) bad(`atomic word ${w} (bytes ${w * 4}..${w * 4 + 3}) is outside the ${m.valueSize}-byte value`);
      last = w;
    }
  });
}

function validateEbpf(image: NfpImage, loc: ImageLocator): number {
  const { fileOffset, ...where } = loc.ebpf();
  if (image.ebpf.length % BPF_SLOT_BYTES !== 0) {
    fail('NC6033', { reason: `${image.ebpf.length} bytes is not a whole number of 8-byte slots` }, where);
  }
  try {
    decodeProgram(image.ebpf, 'le', { section: SECTION.ebpf, file: where.file, fileOffset });
  } catch (e) {
    if (e instanceof NicoffError) fail('NC6033', { reason: e.diagnostic.message }, e.diagnostic.location);
    throw e;
  }
  return image.ebpf.length / BPF_SLOT_BYTES;
}

function validateAddressMap(image: NfpImage, slots: number, loc: ImageLocator): void {
  const map = image.addressMap;
  if (map.length !== slots) {
    fail('NC6032', { insn: Math.min(map.length, slots), reason: `the map has ${map.length} entries for ${slots} eBPF instructions` }, loc.addressMap(0));
  }
  let previous: { insn: number; pc: number } | undefined;
  map.forEach((pc, insn) => {
    if (pc === null) return;
    const bad = (reason: string): never => fail('NC6032', { insn, reason }, loc.addressMap(insn));
    if (!isInt(pc, 0, U32_MAX) || pc >= image.words.length) bad(`pc ${pc} is outside the code (${image.words.length} words)`);
    if (previous && pc <= previous.pc) bad(`pc ${pc} is not after pc ${previous.pc} of eBPF instruction ${previous.insn}: the map must increase`);
    previous = { insn, pc };
  });
}

function validateLines(image: NfpImage, slots: number, loc: ImageLocator): void {
  let previous = -1;
  image.sourceLines.forEach((l, index) => {
    const bad = (reason: string): never => fail('NC6034', { index, reason }, loc.lines());
    if (!isInt(l.insn, 0, U32_MAX) || l.insn >= slots) bad(`eBPF instruction ${l.insn} is not one of the image's ${slots}`);
    if (l.insn <= previous) bad(`instruction ${l.insn} does not follow ${previous}: entries must increase`);
    previous = l.insn;
    if (typeof l.file !== 'string' || l.file.length === 0) bad('the file name is empty');
    if (!isInt(l.line, 1, U32_MAX)) bad(`line ${l.line} is not a positive integer`);
    if (!isInt(l.column, 0, U32_MAX)) bad(`column ${l.column} is not a non-negative integer`);
    if (l.text !== undefined && typeof l.text !== 'string') bad('the source text is not a string');
  });
}

function validateMeta(image: NfpImage, slots: number, loc: ImageLocator): void {
  const bad = (reason: string): never => fail('NC6030', { reason }, loc.meta());
  if (image.programType !== 'xdp' && image.programType !== 'tc') bad(`program type ${String(image.programType)} is neither xdp nor tc`);
  if (image.name !== undefined && (typeof image.name !== 'string' || image.name.length === 0 || /[\u0000-\u001f]/.test(image.name))) {
    bad('the program name is empty or holds control characters');
  }
  if (!isInt(image.stackDepth, 0, image.abi.stackBytes)) bad(`stack depth ${image.stackDepth} is not 0..${image.abi.stackBytes} (abi.stackBytes)`);
  let previous = -1;
  for (const f of image.verifierFacts) {
    if (!isInt(f.insn, 0, U32_MAX) || f.insn >= slots) bad(`verifier facts name eBPF instruction ${f.insn}, not one of the image's ${slots}`);
    if (f.insn <= previous) bad(`verifier facts for instruction ${f.insn} do not follow ${previous}: entries must increase`);
    previous = f.insn;
    if (typeof f.text !== 'string' || f.text.length === 0 || /[\n\r]/.test(f.text)) bad(`verifier facts for instruction ${f.insn} are empty or span lines`);
  }
}

/** Every rule an image satisfies; throws the first problem as an NC6020-NC6039 NicoffError. */
export function validateNfpImage(image: NfpImage, loc: ImageLocator = sectionLocator()): void {
  validateAbi(image.abi, loc.meta());
  validateCode(image, loc);
  const slots = validateEbpf(image, loc);
  validateMeta(image, slots, loc);
  validateLabels(image, loc);
  validateMapDefs(image.maps, loc.map);
  validateRelocations(image, loc);
  validateAddressMap(image, slots, loc);
  validateLines(image, slots, loc);
}

/**
 * The same program for another load slot: every relocated word re-targeted
 * for `abi` (start, done and helper addresses), ECC recomputed. What a loader
 * does when it puts the program at another vNIC's slot.
 */
export function relocateNfpImage(image: NfpImage, abi: NfpFirmwareAbi): NfpImage {
  const words = [...image.words];
  image.relocations.forEach((r, i) => {
    words[r.pc] = withEcc(relocateWord(words[r.pc], r, abi, i));
  });
  const moved: NfpImage = { ...image, abi, words };
  validateNfpImage(moved);
  return moved;
}
