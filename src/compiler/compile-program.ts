/**
 * `nicoff compile` as a library call: verify one program of an object for the
 * NFP, lower it with the verifier's facts, and wrap the words in a firmware
 * image (src/nfp-backend/image) with its relocations, maps and address map.
 * Refusals are coded diagnostics: the verifier's own, or NC5100 for an
 * instruction the compiler does not lower yet.
 */
import { fail, makeDiagnostic, NicoffError } from '../diagnostics/diagnostic.js';
import { MAP_TYPE, type BpfObject, type BpfProgram } from '../ebpf/bpf-object.js';
import { FIRMWARE_HELPERS, type NfpImage, type NfpRelocation } from '../nfp-backend/image/nfp-image.js';
import { decodeRawWord } from '../nfp-backend/isa/raw-relocation.js';
import { SOFTWARE_NFP_ARRAY_VALUES } from '../nfp-backend/sim/memory-map.js';
import { NIC_FIRMWARE_ABI, type ArrayValueLayout, type NfpFirmwareAbi, type NfpMapDef, type NfpProgramType } from '../nfp-backend/sim/sim-types.js';
import { NIC_FIRMWARE_CAPS, type NfpFirmwareCaps } from '../verifier/nfp-target.js';
import { verifyInputFromObject } from '../verifier/program-input.js';
import { verifyProgram } from '../verifier/verify-program.js';
import type { ProgramFacts, VerifyStats } from '../verifier/verify-types.js';
import { LoweringGap, type ArrayMapPlacement } from './lowering-context.js';
import { factsFromVerifier } from './lowering-facts.js';
import { lowerProgram, type LoweredProgram } from './lower-program.js';
import { enabledPasses, type PassName } from './optimize/passes.js';
import { estimateStaticCycles, type StaticCycleEstimate } from './static-cycles.js';

/** optimize (the default): every pass in optimize/passes.ts not switched off; kernel-compat: the Linux nfp JIT's words. */
export type CompileMode = 'optimize' | 'kernel-compat';

export interface CompileOptions {
  mode?: CompileMode;
  /** Optimizing mode: passes switched off (`--no-pass`). */
  disabledPasses?: readonly PassName[];
  /** Object file name, for diagnostics and the image. */
  file?: string;
  /** NFP_NET_CFG_BPF_START / _DONE (default: nic-firmware's 3072 and 1). */
  startPc?: number;
  donePc?: number;
  /** NFP_NET_CFG_BPF_MAX_LEN: words the firmware slot takes (default nic-firmware's 2,560). */
  maxProgramLength?: number;
  /** Firmware helper addresses by helper id (default: 0x200 lookup, 0x300 update, 0x400 delete, 0x500 perf output). */
  helperAddresses?: Readonly<Record<number, number>>;
  /**
   * The firmware the image is for (default 'software-nfp'). Both share the
   * nic-firmware ABI; the software NFP also keeps array values flat, which
   * lets the optimizing mode compute array value addresses (pass
   * array-addresses). 'nic-firmware' is the public firmware as published.
   */
  firmware?: CompileFirmware;
}

export type CompileFirmware = 'software-nfp' | 'nic-firmware';
export const COMPILE_FIRMWARES: readonly CompileFirmware[] = ['software-nfp', 'nic-firmware'];

const ARRAY_VALUE_LAYOUT: Record<CompileFirmware, ArrayValueLayout | undefined> = {
  'software-nfp': SOFTWARE_NFP_ARRAY_VALUES,
  'nic-firmware': undefined,
};

/** Where each array map's values sit under `layout` (by map index); hash maps and oversized arrays have no placement. */
function arrayPlacements(maps: readonly NfpMapDef[], layout: ArrayValueLayout | undefined): (ArrayMapPlacement | undefined)[] {
  return maps.map((m) => {
    if (!layout || m.type !== 'array') return undefined;
    const slotBytes = Math.ceil(m.valueSize / 8) * 8;
    if (m.maxEntries * slotBytes > layout.tableStride) return undefined;
    return { slot0: layout.base + m.tableId * layout.tableStride, slotBytes, maxEntries: m.maxEntries };
  });
}


export interface CompiledProgram {
  name: string;
  programType: NfpProgramType;
  ebpfSlots: number;
  image: NfpImage;
  lowered: LoweredProgram;
  verifierStats: VerifyStats;
  mode: CompileMode;
  firmware: CompileFirmware;
  passes: PassName[];
  /** Worst and typical path per packet under the reference latency model, and the modelled card throughput. */
  cycles: StaticCycleEstimate;
}

function nfpProgramType(prog: BpfProgram): NfpProgramType {
  if (prog.type === 'xdp') return 'xdp';
  if (prog.type === 'sched_cls') return 'tc';
  return fail('NC5002', { type: prog.type });
}

/**
 * 32-bit value words the program adds to atomically, per map index: the card
 * keeps those big-endian and the driver swaps them on host access
 * (nfp-microcode.md D.5), so the image must say which they are.
 */
function atomicWordsByMap(facts: ProgramFacts): Map<number, Set<number>> {
  const out = new Map<number, Set<number>>();
  for (const f of facts.insns) {
    const m = f?.mem;
    if (m?.access !== 'atomic' || m.mapIndex === undefined || m.accessOffset === undefined) continue;
    const words = out.get(m.mapIndex) ?? new Set<number>();
    for (let w = 0; w < m.size / 4; w++) words.add(Math.floor(m.accessOffset / 4) + w);
    out.set(m.mapIndex, words);
  }
  return out;
}

function nfpMaps(obj: BpfObject, facts: ProgramFacts): NfpMapDef[] {
  const atomic = atomicWordsByMap(facts);
  return obj.maps.map((m) => {
    const words = atomic.get(m.index);
    return {
      // The firmware numbers tables from 1 in object order (golden README: first map = table 1).
      tableId: m.index + 1,
      name: m.name,
      type: m.type === MAP_TYPE.array ? 'array' : 'hash',
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: m.maxEntries,
      ...(words ? { atomicWords: [...words].sort((a, b) => a - b) } : {}),
    };
  });
}

/** The image's relocation records, read back from the raw words' relocation bytes and placeholders. */
function relocationsOf(lowered: LoweredProgram): NfpRelocation[] {
  const out: NfpRelocation[] = [];
  lowered.raw.forEach((raw, pc) => {
    const word = decodeRawWord(raw);
    const p = word.placeholder;
    switch (word.relocation.name) {
      case 'none':
        return;
      case 'program-relative':
        out.push({ pc, kind: 'branch', value: p.kind === 'program-relative' ? p.value : 0 });
        return;
      case 'immed-relative':
        out.push({ pc, kind: 'immed-address', value: p.kind === 'program-relative' ? p.value : 0 });
        return;
      case 'exit':
        out.push({ pc, kind: 'exit', value: lowered.exit ?? 0 });
        return;
      case 'abort':
        out.push({ pc, kind: 'abort', value: lowered.abort ?? 0 });
        return;
      case 'next-packet':
        out.push({ pc, kind: 'done', value: 0 });
        return;
      case 'helper':
        out.push({ pc, kind: 'helper', value: p.kind === 'helper' ? p.helperId : 0 });
        return;
      case 'push-trampoline':
      case 'pop-trampoline':
        return fail('NC9001', { reason: 'trampoline relocations are not written to images yet' });
    }
  });
  return out;
}

/** Verify `prog` for the NFP and lower it; throws NicoffError with the refusal. */
export function compileProgram(obj: BpfObject, prog: BpfProgram, options: CompileOptions = {}): CompiledProgram {
  const programType = nfpProgramType(prog);
  const input = verifyInputFromObject(obj, prog);
  if (options.file !== undefined) input.file = options.file;
  const caps: NfpFirmwareCaps = {
    ...NIC_FIRMWARE_CAPS,
    helperAddresses: { ...NIC_FIRMWARE_CAPS.helperAddresses, ...options.helperAddresses },
    maxProgramLength: options.maxProgramLength ?? NIC_FIRMWARE_CAPS.maxProgramLength,
  };
  const verified = verifyProgram(input, { target: 'nfp', nfpCaps: caps });
  if (!verified.ok) throw new NicoffError(verified.error);
  const facts = factsFromVerifier(verified.facts);
  const mode = options.mode ?? 'optimize';
  const passes = mode === 'optimize' ? enabledPasses(options.disabledPasses) : new Set<PassName>();
  const maps = nfpMaps(obj, verified.facts);
  const firmware = options.firmware ?? 'software-nfp';
  const arrayLayout = ARRAY_VALUE_LAYOUT[firmware];
  let lowered: LoweredProgram;
  try {
    lowered = lowerProgram({
      insns: prog.insns,
      programType,
      facts,
      subprogStarts: verified.facts.subprogStarts,
      caps,
      startPc: options.startPc ?? NIC_FIRMWARE_ABI.startPc,
      donePc: options.donePc ?? NIC_FIRMWARE_ABI.donePc,
      passes,
      arrayMaps: arrayPlacements(maps, arrayLayout),
    });
  } catch (e) {
    if (!(e instanceof LoweringGap)) throw e;
    const source = input.lineInfo[e.insnIndex];
    throw new NicoffError(
      makeDiagnostic(
        'NC5100',
        { insn: e.insnIndex, reason: e.reason },
        {
          ...(options.file !== undefined ? { file: options.file } : {}),
          insn: e.insnIndex,
          ...(source ? { source: { file: source.file, line: source.line, column: source.column, text: source.text } } : {}),
        },
      ),
    );
  }
  if (lowered.loaded.length > caps.maxProgramLength) {
    fail('NC5101', { count: lowered.loaded.length, mode, max: caps.maxProgramLength }, options.file !== undefined ? { file: options.file } : {});
  }
  const helpers = { ...NIC_FIRMWARE_ABI.helpers };
  for (const [id, field] of FIRMWARE_HELPERS) {
    const at = caps.helperAddresses[id];
    if (at !== undefined) helpers[field] = at;
  }
  const abi: NfpFirmwareAbi = {
    ...NIC_FIRMWARE_ABI,
    helpers,
    startPc: options.startPc ?? NIC_FIRMWARE_ABI.startPc,
    donePc: options.donePc ?? NIC_FIRMWARE_ABI.donePc,
    // Only an image that relies on the layout says so; any other runs on either firmware.
    ...(lowered.arrayAddressLookups > 0 && arrayLayout ? { arrayValues: { ...arrayLayout } } : {}),
  };
  const addressMap = prog.insns.map((_, i) => {
    const start = lowered.ebpfStart[i]!;
    return start < lowered.ebpfStart[i + 1]! ? start : null;
  });
  const image: NfpImage = {
    name: prog.name,
    programType,
    abi,
    stackDepth: verified.facts.stackDepth,
    words: lowered.loaded,
    relocations: relocationsOf(lowered),
    labels: { ...(lowered.exit !== undefined ? { exit: lowered.exit } : {}), ...(lowered.abort !== undefined ? { abort: lowered.abort } : {}) },
    maps,
    ebpf: prog.bytes,
    addressMap,
    sourceLines: prog.insns.flatMap((_, i) => {
      const s = input.lineInfo[i];
      return s ? [{ insn: i, file: s.file, line: s.line, column: s.column, ...(s.text !== undefined ? { text: s.text } : {}) }] : [];
    }),
    verifierFacts: [],
  };
  const cycles = estimateStaticCycles({ words: lowered.words, layout: lowered, facts, mapKinds: maps.map((m) => m.type) });
  return { name: prog.name, programType, ebpfSlots: prog.insns.length, image, lowered, verifierStats: verified.stats, mode, firmware, passes: [...passes], cycles };
}
