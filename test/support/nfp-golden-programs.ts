/**
 * The six kernel-JIT golden programs of ../shared/nfp-golden (xdp_drop,
 * xdp_pass, tc_shot, xdp_udp53, xdp_alu, xdp_count) as test and bench inputs:
 * the eBPF program (for the reference interpreter and the kernel), the NFP
 * image as the code store holds it (for the software NFP), seeded packet sets
 * that reach every branch of each program, and the two eBPF oracles (reference
 * interpreter, kernel BPF_PROG_TEST_RUN) run over a packet set with maps
 * carried from packet to packet.
 *
 * The golden listings are read in place (never copied) by the image module's
 * listing reader (src/nfp-backend/image/golden-listing.ts), which checks every
 * word row; sim-faithfulness.test.ts holds what it gives to the word table as
 * test/support/golden-word-table.ts reads it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BpfObject, BpfProgram, ProgramType } from '../../src/ebpf/bpf-object.js';
import { MAP_TYPE } from '../../src/ebpf/bpf-object.js';
import { decodeProgram } from '../../src/ebpf/decode.js';
import { loadObject } from '../../src/ebpf/load-object.js';
import { createMapRuntime, runProgram } from '../../src/ebpf/interp/index.js';
import { assertLoaded, programRequestFromObject, runInKernelSync } from '../../src/ebpf/kernel/kernel-runner.js';
import type { KernelRunResult } from '../../src/ebpf/kernel/kernel-runner.js';
import { parseNfpListing } from '../../src/nfp-backend/image/golden-listing.js';
import { toLoadedProgram, type NfpImage } from '../../src/nfp-backend/image/nfp-image.js';
import { NIC_FIRMWARE_ABI, type NfpLoadedProgram, type NfpMapDef, type NfpProgramType } from '../../src/nfp-backend/sim/sim-types.js';
import { GOLDEN_PROGRAM_NAMES, goldenListingText, type GoldenProgramName } from './golden-word-table.js';
import { seeded } from './seeded-random.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EXAMPLES_DIR = join(REPO_ROOT, 'examples');

/** The clang-built ones have an object in examples/ that must load to the golden eBPF. */
const FROM_EXAMPLE: ReadonlySet<GoldenProgramName> = new Set(['xdp_udp53', 'xdp_alu', 'xdp_count']);

// ---------------------------------------------------------------------------
// The programs

export interface GoldenProgram {
  name: GoldenProgramName;
  programType: NfpProgramType;
  /** eBPF program type for the interpreter and the kernel ('tc' -> cls_bpf = sched_cls). */
  ebpfType: ProgramType;
  stackDepth: number;
  /** Object and program for the interpreter and the kernel runner (ld_imm64 map refs as libbpf sets them). */
  obj: BpfObject;
  prog: BpfProgram;
  maps: readonly NfpMapDef[];
  /** The image as the code store holds it: loaded words at startPc. */
  loaded: NfpLoadedProgram;
  /** The listing as the image module reads it (its eBPF bytes are the golden header's). */
  image: NfpImage;
}

function syntheticObject(name: string, type: ProgramType, bytes: Uint8Array): { obj: BpfObject; prog: BpfProgram } {
  const insns = decodeProgram(bytes, 'le');
  const prog: BpfProgram = {
    name,
    section: type === 'xdp' ? 'xdp' : 'tc',
    type,
    insns,
    bytes,
    mapRefs: [],
    functions: [{ name, start: 0, length: insns.length, section: type === 'xdp' ? 'xdp' : 'tc' }],
    lineInfo: [],
    funcInfo: [],
    coreRelocations: [],
  };
  const obj: BpfObject = { endian: 'le', programs: [prog], maps: [], license: 'GPL', hasBtf: false, hasBtfExt: false, warnings: [] };
  return { obj, prog };
}

/**
 * The clang object's program must be the golden eBPF, except that the loader
 * marks map ld_imm64s as libbpf does (src_reg 1, imm = map index 0) where the
 * golden header shows the object's unrelocated form (src_reg 0, imm 0).
 */
function checkAgainstGolden(name: string, prog: BpfProgram, golden: Uint8Array): void {
  if (prog.bytes.length !== golden.length) {
    throw new Error(`${name}: examples/${name}.o has ${prog.bytes.length / 8} eBPF instructions, the golden listing ${golden.length / 8}`);
  }
  const mapSlots = new Set(prog.mapRefs.map((r) => r.insn));
  for (let i = 0; i < golden.length / 8; i++) {
    const ours = Buffer.from(prog.bytes.subarray(i * 8, i * 8 + 8));
    const word = Buffer.from(golden.subarray(i * 8, i * 8 + 8)).toString('hex');
    if (mapSlots.has(i) && ours[1]! >> 4 === 1) ours[1]! &= 0x0f;
    if (ours.toString('hex') !== word) throw new Error(`${name}: eBPF instruction ${i} is ${ours.toString('hex')} in examples/${name}.o, ${word} in the golden listing`);
  }
}

/** The image's maps (the listing reader knows xdp_count's cnt) must be the object's, field for field. */
function checkMapsAgainstObject(name: string, obj: BpfObject, maps: readonly NfpMapDef[]): void {
  const same =
    obj.maps.length === maps.length &&
    obj.maps.every((m, i) => {
      const want = maps[i]!;
      return (
        m.name === want.name &&
        m.type === (want.type === 'array' ? MAP_TYPE.array : MAP_TYPE.hash) &&
        m.keySize === want.keySize &&
        m.valueSize === want.valueSize &&
        m.maxEntries === want.maxEntries
      );
    });
  if (!same) throw new Error(`${name}: examples/${name}.o maps are ${JSON.stringify(obj.maps)}, the image's ${JSON.stringify(maps)}`);
}

const cache = new Map<GoldenProgramName, GoldenProgram>();

export function loadGoldenProgram(name: GoldenProgramName): GoldenProgram {
  const hit = cache.get(name);
  if (hit) return hit;
  const { image } = parseNfpListing(goldenListingText(name), `${name}.txt`);
  if (image.name !== name) throw new Error(`${name}.txt names itself ${image.name}`);
  const ebpfType: ProgramType = image.programType === 'tc' ? 'sched_cls' : 'xdp';
  let obj: BpfObject;
  let prog: BpfProgram;
  if (FROM_EXAMPLE.has(name)) {
    const path = join(EXAMPLES_DIR, `${name}.o`);
    obj = loadObject(new Uint8Array(readFileSync(path)), { path });
    prog = obj.programs[0]!;
    checkAgainstGolden(name, prog, image.ebpf);
  } else {
    ({ obj, prog } = syntheticObject(name, ebpfType, image.ebpf));
  }
  checkMapsAgainstObject(name, obj, image.maps);
  if (image.abi.startPc !== NIC_FIRMWARE_ABI.startPc || image.abi.donePc !== NIC_FIRMWARE_ABI.donePc) {
    throw new Error(`${name}: listing built for start ${image.abi.startPc} done ${image.abi.donePc}, not the NIC_FIRMWARE_ABI slot`);
  }
  const loaded = toLoadedProgram(image);
  const gp: GoldenProgram = { name, programType: image.programType, ebpfType, stackDepth: image.stackDepth, obj, prog, maps: loaded.maps, loaded, image };
  cache.set(name, gp);
  return gp;
}

// ---------------------------------------------------------------------------
// Packet sets

/** What each packet is for (kept beside the bytes so a failure can say which branch it aimed at). */
export interface LabelledPacket {
  bytes: Uint8Array;
  note: string;
}

type Rand = () => number;

/** Sizes every set covers: the BPF_PROG_TEST_RUN minimum, odd sizes, header boundaries, up to 1514. */
const FIXED_SIZES = [14, 15, 16, 17, 19, 21, 33, 34, 41, 42, 43, 47, 59, 60, 61, 63, 64, 65, 99, 127, 128, 129, 255, 256, 257, 511, 512, 513, 777, 1023, 1024, 1025, 1499, 1500, 1501, 1513, 1514];

function randomBytes(rand: Rand, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

const int = (rand: Rand, n: number): number => Math.floor(rand() * n);
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[int(rand, xs.length)]!;

/** A random length in [lo, hi], biased to small frames with a tail up to 1514. */
function randomLength(rand: Rand, lo = 14, hi = 1514): number {
  const r = rand();
  if (r < 0.5) return lo + int(rand, Math.min(hi, 128) - lo + 1);
  if (r < 0.8) return lo + int(rand, Math.min(hi, 600) - lo + 1);
  return lo + int(rand, hi - lo + 1);
}

interface FrameSpec {
  len: number;
  etherType?: number;
  /** IPv4 header fields (written only when the frame is long enough). */
  versionIhl?: number;
  protocol?: number;
  dport?: number;
  sport?: number;
}

/** Ethernet + IPv4 + UDP-shaped bytes over random filler; fields cut off by `len` are simply absent. */
function frame(rand: Rand, spec: FrameSpec): Uint8Array {
  const full = Math.max(spec.len, 64);
  const p = randomBytes(rand, full);
  // Unicast destination MAC, so nothing about the frame depends on the multicast bit.
  p[0] = p[0]! & 0xfe;
  const et = spec.etherType ?? 0x0800;
  p[12] = et >> 8;
  p[13] = et & 0xff;
  if (spec.versionIhl !== undefined) p[14] = spec.versionIhl;
  const totalLen = Math.max(20, spec.len - 14);
  p[16] = (totalLen >> 8) & 0xff;
  p[17] = totalLen & 0xff;
  p[22] = 64;
  if (spec.protocol !== undefined) p[23] = spec.protocol;
  if (spec.sport !== undefined) {
    p[34] = spec.sport >> 8;
    p[35] = spec.sport & 0xff;
  }
  if (spec.dport !== undefined) {
    p[36] = spec.dport >> 8;
    p[37] = spec.dport & 0xff;
  }
  return p.slice(0, spec.len);
}

/**
 * cls_bpf test_run refuses (EINVAL) frames whose EtherType promises an IPv4
 * (IPv6) header they do not hold: under 34 (54) bytes. TC sets avoid them so
 * every packet runs in all engines; the interpreter's own tests cover the refusal.
 */
function tcAcceptable(p: Uint8Array): boolean {
  const et = (p[12]! << 8) | p[13]!;
  if (et === 0x0800) return p.length >= 34;
  if (et === 0x86dd) return p.length >= 54;
  return true;
}

/** Sizes, random contents and common frame shapes: the part of every set that is not program-specific. */
function genericPackets(rand: Rand, count: number): LabelledPacket[] {
  const out: LabelledPacket[] = [];
  for (const len of FIXED_SIZES) out.push({ bytes: randomBytes(rand, len), note: `random ${len} bytes` });
  const ets = [0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x0008, 0x1234];
  while (out.length < count) {
    const len = randomLength(rand);
    const kind = out.length % 3;
    if (kind === 0) out.push({ bytes: randomBytes(rand, len), note: `random ${len} bytes` });
    else {
      const et = pick(rand, ets);
      out.push({
        bytes: frame(rand, { len, etherType: et, versionIhl: 0x45, protocol: pick(rand, [1, 6, 17, 47, 132]), dport: int(rand, 65536) }),
        note: `ethertype 0x${et.toString(16).padStart(4, '0')} ${len} bytes`,
      });
    }
  }
  return out;
}

function udp53Packets(rand: Rand): LabelledPacket[] {
  const out: LabelledPacket[] = [];
  const add = (note: string, spec: FrameSpec) => out.push({ bytes: frame(rand, spec), note });
  const dnsLens = [42, 43, 44, 59, 60, 61, 64, 73, 128, 511, 512, 1000, 1499, 1514];
  // Drop: IPv4, UDP, IHL 5, destination port 53 (the version nibble is not checked).
  for (const len of dnsLens) add(`drop: IPv4 UDP ihl 5 dport 53, ${len} bytes`, { len, versionIhl: 0x45, protocol: 17, dport: 53 });
  for (let i = 0; i < 16; i++) add('drop: IPv4 UDP ihl 5 dport 53, random length', { len: randomLength(rand, 42), versionIhl: 0x45, protocol: 17, dport: 53, sport: int(rand, 65536) });
  for (const v of [0x05, 0x65, 0xf5]) add(`drop: version nibble ${v >> 4}, ihl 5, dport 53`, { len: 60, versionIhl: v, protocol: 17, dport: 53 });
  // Pass: IHL other than 5 (the program reads the UDP header at a fixed offset anyway).
  for (const ihl of [0, 1, 4, 6, 7, 15]) {
    add(`pass: ihl ${ihl}, UDP dport 53`, { len: 60, versionIhl: 0x40 | ihl, protocol: 17, dport: 53 });
    add(`pass: ihl ${ihl}, UDP dport 53, random length`, { len: randomLength(rand, 42), versionIhl: 0x40 | ihl, protocol: 17, dport: 53 });
  }
  // Pass: other protocols with port 53 in the UDP position.
  for (const proto of [0, 1, 6, 16, 18, 47, 50, 132, 145, 255]) add(`pass: protocol ${proto}, dport 53`, { len: 60 + int(rand, 100), versionIhl: 0x45, protocol: proto, dport: 53 });
  // Pass: UDP to other ports, including byte-swapped 53 and neighbours.
  for (const dport of [0, 52, 54, 0x3500, 0x3535, 0x0135, 0x3501, 5353, 853, 65535]) add(`pass: UDP dport ${dport}`, { len: 60, versionIhl: 0x45, protocol: 17, dport });
  for (let i = 0; i < 8; i++) {
    let dport = int(rand, 65536);
    if (dport === 53) dport = 54;
    add('pass: UDP random dport', { len: randomLength(rand, 42), versionIhl: 0x45, protocol: 17, dport });
  }
  // Pass: not IPv4 (byte-swapped 0x0800, neighbours, IPv6, ARP, VLAN).
  for (const et of [0x86dd, 0x0806, 0x8100, 0x88a8, 0x0008, 0x0801, 0x0900, 0x0000, 0xffff, 0x0808]) add(`pass: ethertype 0x${et.toString(16).padStart(4, '0')} with UDP/53 bytes`, { len: 60, etherType: et, versionIhl: 0x45, protocol: 17, dport: 53 });
  // Pass: 14..41 bytes fail the bounds check, even when every field that is present says DNS.
  for (let len = 14; len <= 41; len++) add(`pass: ${len} bytes < 42 (bounds check), IPv4 UDP ihl 5`, { len, versionIhl: 0x45, protocol: 17, dport: 53 });
  return out;
}

function aluPackets(rand: Rand): LabelledPacket[] {
  const out: LabelledPacket[] = [];
  // Abort: fewer than 16 bytes.
  for (const len of [14, 15, 14, 15, 14, 15]) out.push({ bytes: randomBytes(rand, len), note: `abort: ${len} bytes < 16` });
  out.push({ bytes: new Uint8Array(14), note: 'abort: 14 zero bytes' });
  out.push({ bytes: new Uint8Array(15).fill(0xff), note: 'abort: 15 bytes of 0xff' });
  // Both verdicts: the low bit of the mix of the first 16 bytes.
  out.push({ bytes: new Uint8Array(16), note: 'pass: 16 zero bytes' });
  out.push({ bytes: new Uint8Array(16).fill(0xff), note: '16 bytes of 0xff' });
  out.push({ bytes: new Uint8Array(17).fill(0x80), note: '17 bytes of 0x80' });
  const edge = [0n, 1n, 2n, 3n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0xffffffff00000000n, 0x8000000000000000n, 0xffffffffffffffffn, 0x0123456789abcdefn];
  for (const a of edge) {
    for (const b of [0n, 3n, 0xfffffffen, 0xffffffffffffffffn]) {
      const p = randomBytes(rand, 16 + int(rand, 50));
      const dv = new DataView(p.buffer);
      dv.setBigUint64(0, a, true);
      dv.setBigUint64(8, b, true);
      out.push({ bytes: p, note: `a=0x${a.toString(16)} b=0x${b.toString(16)}` });
    }
  }
  for (let i = 0; i < 40; i++) out.push({ bytes: randomBytes(rand, randomLength(rand, 16)), note: 'random >= 16 bytes' });
  return out;
}

/**
 * At least 200 seeded packets for `name`: the generic sizes and shapes plus
 * packets aimed at each branch of the program. Deterministic in (name, seed).
 */
export function labelledPacketSet(name: GoldenProgramName, seed: number): LabelledPacket[] {
  const rand = seeded(seed ^ (GOLDEN_PROGRAM_NAMES.indexOf(name) * 0x9e3779b1));
  let specific: LabelledPacket[] = [];
  if (name === 'xdp_udp53') specific = udp53Packets(rand);
  else if (name === 'xdp_alu') specific = aluPackets(rand);
  const generic = genericPackets(rand, Math.max(120, 220 - specific.length));
  // Interleave so the branches are spread over the run (maps, caches and counters see a mix).
  const all: LabelledPacket[] = [];
  const n = Math.max(specific.length, generic.length);
  for (let i = 0; i < n; i++) {
    if (i < specific.length) all.push(specific[i]!);
    if (i < generic.length) all.push(generic[i]!);
  }
  if (name === 'tc_shot') {
    return all.map((p) => {
      if (tcAcceptable(p.bytes)) return p;
      const q = p.bytes.slice();
      q[12] = 0x08;
      q[13] = 0x06; // ARP: runs from 14 bytes
      return { bytes: q, note: `${p.note} (ethertype made ARP: cls_bpf test_run needs the full IP header)` };
    });
  }
  return all;
}

export function packetSet(name: GoldenProgramName, seed: number): Uint8Array[] {
  return labelledPacketSet(name, seed).map((p) => p.bytes);
}

// ---------------------------------------------------------------------------
// The two eBPF oracles

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** One map after a packet: sorted `key=value` hex strings (host byte order, as bpf(2) shows it). */
export interface MapSnapshot {
  name: string;
  entries: string[];
}

export type OracleOutcome =
  | {
      ok: true;
      /** R0's low 32 bits: all the NFP outro looks at. */
      retval: number;
      packet: Uint8Array;
      maps: MapSnapshot[];
    }
  | { ok: false; why: string; maps: MapSnapshot[] };

export interface OracleRun {
  engine: 'interpreter' | 'kernel';
  outcomes: OracleOutcome[];
  /** Kernel only: the whole run's result, for durations and the verifier log. */
  kernel?: KernelRunResult;
}

/** The reference interpreter over `packets`, maps carried from packet to packet. */
export function runInterpreterOracle(gp: Pick<GoldenProgram, 'obj' | 'prog'>, packets: readonly Uint8Array[]): OracleRun {
  const maps = createMapRuntime(gp.obj.maps);
  const snapshot = (): MapSnapshot[] =>
    gp.obj.maps.map((m, index) => ({
      name: m.name,
      entries: maps
        .dump(index)
        .map((e) => `${hex(e.key)}=${hex(e.values[0]!)}`)
        .sort(),
    }));
  const outcomes = packets.map((data, i): OracleOutcome => {
    try {
      const r = runProgram(gp.prog, gp.obj, maps, data, { packetNumber: i + 1 });
      return { ok: true, retval: Number(BigInt.asUintN(32, r.retval)), packet: r.packet, maps: snapshot() };
    } catch (e) {
      const code = (e as { diagnostic?: { code?: string } }).diagnostic?.code;
      if (!code) throw e;
      return { ok: false, why: code, maps: snapshot() };
    }
  });
  return { engine: 'interpreter', outcomes };
}

/** BPF_PROG_TEST_RUN over `packets` in one runner process, map dumps after every packet. Needs a usable kernel. */
export function runKernelOracle(gp: Pick<GoldenProgram, 'obj' | 'prog'>, packets: readonly Uint8Array[]): OracleRun {
  const req = programRequestFromObject(
    gp.obj,
    gp.prog,
    packets.map((data) => ({ data })),
  );
  req.dumpMapsAfterEach = true;
  req.dumpMapsAtEnd = false;
  const kernel = runInKernelSync(req);
  assertLoaded(kernel);
  const outcomes = packets.map((_, i): OracleOutcome => {
    const k = kernel.runs[i];
    if (!k) return { ok: false, why: 'no kernel run', maps: [] };
    const maps: MapSnapshot[] = (k.maps ?? []).map((d) => ({
      name: d.name,
      entries: d.errno !== undefined ? [`errno ${d.errno}`] : d.entries.map((e) => `${hex(e.key)}=${hex(e.values[0]!)}`).sort(),
    }));
    if (!k.ok) return { ok: false, why: k.errnoName, maps };
    return { ok: true, retval: k.retval >>> 0, packet: k.dataOut, maps };
  });
  return { engine: 'kernel', outcomes, kernel };
}
