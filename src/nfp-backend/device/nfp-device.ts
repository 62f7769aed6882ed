/**
 * The one interface every device implements, the way netdevsim implements
 * the real nfp driver's offload ops (style.md): the software NFP
 * (software-device.ts) and the Linux driver shim (linux-driver-shim.ts).
 * open-device.ts picks the implementation by name; the CLI talks to this
 * interface only.
 */
import type { ValueLayout } from '../../ebpf/map-value-layout.js';
import type { NfpImage } from '../image/nfp-image.js';
import type { NfpCaptureSummary } from '../sim/run-capture-on-nfp.js';
import type { NfpPacketResult } from '../sim/sim-types.js';

/** Where a program runs on a network device: on the card, in the driver's XDP hook, or in the kernel's generic XDP path. */
export type AttachMode = 'offload' | 'native' | 'generic';

export interface DeviceLoadRequest {
  /** The object as given on the command line, and its bytes. */
  objectPath: string;
  objectBytes: Uint8Array;
  program: string;
  programType: 'xdp' | 'tc';
  /** What nicoff compiled: the image the software NFP runs (optimizing mode; absent for the host XDP path)... */
  image?: NfpImage;
  /** ...and the kernel-compatible image, which the driver shim compares with what the kernel JIT made. */
  kernelCompatImage?: NfpImage;
  /** Key and value layouts by map name, from the object's BTF. */
  layouts: Record<string, { key: ValueLayout; value: ValueLayout }>;
  mode?: AttachMode;
  force: boolean;
}

export interface DeviceMap {
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** Firmware table id (software NFP) or kernel map id (driver shim). */
  id: number;
  key: ValueLayout;
  value: ValueLayout;
}

/**
 * A map as a device reports it, typed by the layouts recorded at load (by
 * the object's map name; the kernel cuts names to 15 characters, so a
 * kernel map name also matches the object name it starts).
 */
export function deviceMapOf(
  m: { name: string; type: string; keySize: number; valueSize: number; maxEntries: number },
  id: number,
  layouts: Readonly<Record<string, { key?: ValueLayout; value?: ValueLayout }>>,
): DeviceMap {
  const layout = layouts[m.name] ?? (m.name.length === 15 ? Object.entries(layouts).find(([k]) => k.startsWith(m.name))?.[1] : undefined);
  return {
    name: m.name,
    type: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    id,
    key: layout?.key ?? { kind: 'bytes', size: m.keySize },
    value: layout?.value ?? { kind: 'bytes', size: m.valueSize },
  };
}

export interface DeviceMapEntry {
  key: Uint8Array;
  value: Uint8Array;
}

export interface LoadedProgramStatus {
  program: string;
  type: 'xdp' | 'tc';
  object: string;
  since: string;
  mode: AttachMode | 'software';
  maps: DeviceMap[];
  /** Software NFP: packets run through it so far, by action. */
  counters?: { runs: number; packets: number; actions: Record<string, number>; faults: number; lastRun?: string };
  /** Driver shim: the kernel's program id and how its JIT's words compare with nicoff's. */
  kernelProgramId?: number;
  comparison?: string;
}

export interface DeviceStatus {
  device: string;
  kind: 'software-nfp' | 'linux';
  driver?: string;
  loaded?: LoadedProgramStatus;
}

export interface DeviceLoadReport {
  status: DeviceStatus;
  /** What was replaced (with --force). */
  replaced?: string;
  notes: string[];
}

/** Map change seen by a run: the entry before (absent: none) and after (absent: deleted). */
export interface DeviceMapChange {
  map: string;
  key: Uint8Array;
  before?: Uint8Array;
  after?: Uint8Array;
}

export interface DeviceRunReport {
  summary: NfpCaptureSummary;
  changes: DeviceMapChange[];
  maps: DeviceMap[];
}

export interface DeviceRunOptions {
  watchdogCycles?: number;
  /** Each packet's result as it completes (outputs, progress); results are not kept otherwise. */
  onResult?: (index: number, result: NfpPacketResult) => void;
}

export type MapUpdateFlag = 'any' | 'noexist' | 'exist';

export interface NfpDevice {
  readonly name: string;
  readonly kind: 'software-nfp' | 'linux';
  load(request: DeviceLoadRequest): DeviceLoadReport;
  /** Returns what was unloaded (undefined: nothing was). */
  unload(options?: { force?: boolean }): string | undefined;
  status(): DeviceStatus;
  maps(): DeviceMap[];
  mapDump(map: string): DeviceMapEntry[];
  mapLookup(map: string, key: Uint8Array): Uint8Array | undefined;
  mapUpdate(map: string, key: Uint8Array, value: Uint8Array, flag: MapUpdateFlag): void;
  mapDelete(map: string, key: Uint8Array): void;
  /** Every frame through the loaded program, maps carried over and kept. */
  run(frames: readonly Uint8Array[], options?: DeviceRunOptions): DeviceRunReport;
}
