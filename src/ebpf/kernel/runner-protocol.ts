/**
 * The request and answer text that native/kernel-runner.c reads and writes
 * (the protocol is described at the top of that file). Kept apart from the
 * process handling so it can be tested without a kernel.
 */
import { constants as osConstants } from 'node:os';
import { fail } from '../../diagnostics/diagnostic.js';

/** One map the runner creates; its position in `KernelRunRequest.maps` is the index ld_imm64 references use. */
export interface KernelMapSpec {
  name: string;
  /** Kernel enum bpf_map_type. */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** Global data: written at key 0 after creation and after every reset. */
  initialValue?: Uint8Array;
  /** .rodata: created with BPF_F_RDONLY_PROG and frozen after the initial value is written. */
  readOnly?: boolean;
  /** Inner map template for array_of_maps / hash_of_maps. */
  inner?: { type: number; keySize: number; valueSize: number; maxEntries: number; flags: number };
}

export interface KernelMapUpdate {
  /** Map index, or its name. */
  map: number | string;
  key: Uint8Array;
  /** For per-CPU maps either one value (copied to every CPU) or all CPUs' values, each padded to 8 bytes. */
  value: Uint8Array;
}

export interface KernelPacket {
  data: Uint8Array;
  /**
   * BPF_PROG_TEST_RUN repeat count; the reported duration is the mean per run. Default 1.
   * The kernel does not restore an XDP packet between repetitions (writes and
   * adjust_head pile up: 60 bytes grown by 2 per run come back as 60 + 2N), so
   * compare dataOut only from runs with repeat 1. Maps see every repetition.
   */
  repeat?: number;
  /** BPF_PROG_TEST_RUN flags (BPF_F_TEST_RUN_ON_CPU = 1, BPF_F_TEST_XDP_LIVE_FRAMES = 2). */
  flags?: number;
  /** struct __sk_buff (skb programs) or struct xdp_md (XDP) to run with. */
  ctxIn?: Uint8Array;
  /**
   * Room for the context read back. Default: none without ctxIn, else 1 KiB; the
   * kernel fills in the real size (a buffer smaller than the context makes the run fail with ENOSPC).
   */
  ctxOutSize?: number;
  /** Size of the output buffer; default: the packet plus 64 KiB, room for any growth. */
  dataOutSize?: number;
  /** Empty hash-like maps, zero arrays and rewrite global data before this packet. */
  resetMapsBefore?: boolean;
  /** Applied (after the reset) before this packet. */
  mapUpdatesBefore?: KernelMapUpdate[];
}

export interface KernelRunRequest {
  /** Kernel enum bpf_prog_type (PROG_TYPE in kernel-enums.ts). */
  progType: number;
  expectedAttachType?: number;
  /** BPF_F_* load flags (BPF_F_STRICT_ALIGNMENT = 1 ...). */
  progFlags?: number;
  /** Program name (the kernel keeps 15 characters of [A-Za-z0-9_.]). */
  name?: string;
  license: string;
  kernVersion?: number;
  /** Linked little-endian instructions; ld_imm64 src 1/2 carry map indices. */
  insns: Uint8Array;
  maps: KernelMapSpec[];
  /** Verifier log level: 0, 1 (default; on success only the 'processed N insns' line), 2, or with 4 (stats). */
  logLevel?: number;
  packets: KernelPacket[];
  dumpMapsAfterEach?: boolean;
  /** Default true. */
  dumpMapsAtEnd?: boolean;
}

export interface KernelMapEntry {
  key: Uint8Array;
  /** One value; per-CPU maps: one per possible CPU, each valueSize bytes. */
  values: Uint8Array[];
}

export interface KernelMapDump {
  index: number;
  name: string;
  /** Sorted by key bytes, so dumps of hash maps compare equal regardless of kernel order. */
  entries: KernelMapEntry[];
  /** Set when the kernel cannot iterate this map (ring buffers, for example). */
  errno?: number;
}

export type KernelPacketRun =
  | {
      ok: true;
      retval: number;
      dataOut: Uint8Array;
      /** Mean nanoseconds per repetition, as the kernel measures it. */
      durationNs: number;
      ctxOut?: Uint8Array;
      maps?: KernelMapDump[];
    }
  | { ok: false; errno: number; errnoName: string; maps?: KernelMapDump[] };

export interface KernelRunResult {
  loaded: boolean;
  /** Why the load failed (or why a map could not be created). */
  errno?: number;
  errnoName?: string;
  /** The verifier log, as the kernel wrote it. */
  log: string;
  /** The log level the log was produced at (a failed load at level 0 is retried at 1 for its log). */
  logLevel: number;
  /** From the log's `processed N insns` line. */
  processedInsns?: number;
  /** A map the kernel refused to create; nothing was loaded then. */
  mapFailure?: { index: number; name: string; errno: number; errnoName: string };
  runs: KernelPacketRun[];
  finalMaps: KernelMapDump[];
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, value]) => [value, name]),
);
// Kernel-internal codes that leak out of bpf(2) and that libc does not name.
ERRNO_NAMES.set(524, 'ENOTSUPP');

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

function hex(bytes: Uint8Array | undefined): string {
  return bytes && bytes.length ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') : '-';
}

function unhex(text: string): Uint8Array {
  return text === '-' ? new Uint8Array(0) : new Uint8Array(Buffer.from(text, 'hex'));
}

function textHex(text: string): string {
  return hex(new TextEncoder().encode(text));
}

function u32(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) fail('NC3012', { reason: `${what} must be a u32, got ${n}` });
  return n;
}

function resolveMapIndex(maps: KernelMapSpec[], map: number | string): number {
  const index = typeof map === 'number' ? map : maps.findIndex((m) => m.name === map);
  if (index < 0 || index >= maps.length || !Number.isInteger(index)) {
    fail('NC3012', { reason: `map update names map ${map}, which is not in the request (${maps.map((m) => m.name).join(', ')})` });
  }
  return index;
}

/** Larger than any program type's context (struct __sk_buff is under 200 bytes). */
const CTX_OUT_ROOM = 1024;

export function encodeKernelRequest(req: KernelRunRequest): string {
  if (req.insns.length === 0 || req.insns.length % 8 !== 0) {
    fail('NC3012', { reason: `instructions are ${req.insns.length} bytes, not a non-zero multiple of 8` });
  }
  const lines = ['nicoff-kernel-runner 1'];
  for (const m of req.maps) {
    const inner = m.inner ?? { type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0 };
    lines.push(
      [
        'map',
        u32(m.type, 'map type'),
        u32(m.keySize, 'key size'),
        u32(m.valueSize, 'value size'),
        u32(m.maxEntries, 'max entries'),
        u32(m.flags, 'map flags'),
        m.readOnly ? 1 : 0,
        textHex(m.name),
        hex(m.initialValue),
        u32(inner.type, 'inner map type'),
        u32(inner.keySize, 'inner key size'),
        u32(inner.valueSize, 'inner value size'),
        u32(inner.maxEntries, 'inner max entries'),
        u32(inner.flags, 'inner map flags'),
      ].join(' '),
    );
  }
  lines.push(
    [
      'prog',
      u32(req.progType, 'program type'),
      u32(req.expectedAttachType ?? 0, 'expected attach type'),
      u32(req.progFlags ?? 0, 'program flags'),
      u32(req.logLevel ?? 1, 'log level'),
      u32(req.kernVersion ?? 0, 'kernel version'),
      textHex(req.name ?? ''),
      textHex(req.license),
      hex(req.insns),
    ].join(' '),
  );
  for (const p of req.packets) {
    if (p.resetMapsBefore) req.maps.forEach((_, i) => lines.push(`reset ${i}`));
    for (const u of p.mapUpdatesBefore ?? []) {
      lines.push(`update ${resolveMapIndex(req.maps, u.map)} ${hex(u.key)} ${hex(u.value)}`);
    }
    lines.push(
      [
        'run',
        u32(p.repeat ?? 1, 'repeat'),
        u32(p.flags ?? 0, 'run flags'),
        hex(p.data),
        hex(p.ctxIn),
        u32(p.ctxOutSize ?? (p.ctxIn ? CTX_OUT_ROOM : 0), 'ctx out size'),
        u32(p.dataOutSize ?? 0, 'data out size'),
      ].join(' '),
    );
    if (req.dumpMapsAfterEach) lines.push('dump');
  }
  if (req.dumpMapsAtEnd ?? true) lines.push('dump');
  lines.push('end', '');
  return lines.join('\n');
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function int(text: string | undefined, line: string): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n)) fail('NC3012', { reason: `unexpected answer line '${line.slice(0, 120)}'` });
  return n;
}

/**
 * Turn the runner's stdout into a result. `exitStatus` is the runner's; an
 * `error` line (a malformed request) or a missing `done` throws NC3012.
 */
export function parseKernelResponse(
  req: KernelRunRequest,
  stdout: string,
  exitStatus: number | null,
  stderr = '',
): KernelRunResult {
  const result: KernelRunResult = { loaded: false, log: '', logLevel: req.logLevel ?? 1, runs: [], finalMaps: [] };
  // Every `dump` request answers with one block per map; a group is one such request.
  const groups: KernelMapDump[][] = [];
  let group: KernelMapDump[] = [];
  let current: (KernelMapDump & { stride: number; copies: number }) | undefined;
  let done = false;
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    switch (f[0]) {
      case 'map':
        if (f[2] === 'fail') {
          const index = int(f[1], line);
          const errno = int(f[3], line);
          result.errno = errno;
          result.errnoName = errnoName(errno);
          result.mapFailure = { index, name: req.maps[index]?.name ?? `#${index}`, errno, errnoName: errnoName(errno) };
          result.log = `map ${result.mapFailure.name}: BPF_MAP_CREATE failed with ${errnoName(errno)}`;
        }
        break;
      case 'load': {
        const ok = f[1] === 'ok';
        result.loaded = ok;
        if (!ok) {
          result.errno = int(f[2], line);
          result.errnoName = errnoName(result.errno);
        }
        result.logLevel = int(ok ? f[2] : f[3], line);
        result.log = Buffer.from(unhex(ok ? f[3] : f[4])).toString('utf8');
        const processed = /processed (\d+) insns/.exec(result.log);
        if (processed) result.processedInsns = Number(processed[1]);
        break;
      }
      case 'run':
        if (f[1] === 'ok') {
          const ctxOut = unhex(f[5]);
          result.runs.push({
            ok: true,
            retval: int(f[2], line),
            durationNs: int(f[3], line),
            dataOut: unhex(f[4]),
            ...(ctxOut.length ? { ctxOut } : {}),
          });
        } else {
          const errno = int(f[2], line);
          result.runs.push({ ok: false, errno, errnoName: errnoName(errno) });
        }
        break;
      case 'dump': {
        const index = int(f[1], line);
        const name = req.maps[index]?.name ?? `#${index}`;
        if (f[2] === 'begin') {
          current = { index, name, entries: [], stride: int(f[3], line), copies: int(f[4], line) };
        } else if (current && current.index === index) {
          const { stride, copies, ...dump } = current;
          if (f[2] === 'fail') dump.errno = int(f[3], line);
          dump.entries.sort((a, b) => compareBytes(a.key, b.key));
          group.push(dump);
          if (group.length === req.maps.length) {
            groups.push(group);
            group = [];
          }
          current = undefined;
        } else {
          fail('NC3012', { reason: `unexpected answer line '${line.slice(0, 120)}'` });
        }
        break;
      }
      case 'entry': {
        if (!current) fail('NC3012', { reason: 'map entry outside a dump' });
        const value = unhex(f[2]);
        const valueSize = req.maps[current.index].valueSize;
        const values: Uint8Array[] = [];
        for (let c = 0; c < current.copies; c++) values.push(value.slice(c * current.stride, c * current.stride + valueSize));
        current.entries.push({ key: unhex(f[1]), values });
        break;
      }
      case 'done':
        done = true;
        break;
      case 'error':
        fail('NC3012', { reason: `request refused at line ${f[1]}: ${f.slice(2).join(' ')}` });
      // fail() never returns
      default:
        fail('NC3012', { reason: `unexpected answer line '${line.slice(0, 120)}'` });
    }
  }
  if (!done || exitStatus !== 0) {
    const detail = stderr.trim() || `exit status ${exitStatus}`;
    fail('NC3012', { reason: `the runner stopped before finishing the batch (${detail})` });
  }
  if (result.loaded) {
    if (req.dumpMapsAfterEach) result.runs.forEach((run, i) => (run.maps = groups[i] ?? []));
    if (req.dumpMapsAtEnd ?? true) result.finalMaps = groups[groups.length - 1] ?? [];
  }
  return result;
}
