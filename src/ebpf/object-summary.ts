/**
 * A plain-data description of a loaded object: what `nicoff inspect` prints
 * and what its --json carries. Kept here so library users get the same view.
 */
import { MAP_TYPE, type BpfObject } from './bpf-object.js';

const MAP_TYPE_NAMES = new Map<number, string>(Object.entries(MAP_TYPE).map(([name, id]) => [id, name]));

export function mapTypeName(type: number): string {
  return MAP_TYPE_NAMES.get(type) ?? `type_${type}`;
}

export interface ObjectSummary {
  file?: string;
  endian: 'le' | 'be';
  license: string;
  kernelVersion?: number;
  btf: boolean;
  btfExt: boolean;
  programs: {
    name: string;
    section: string;
    type: string;
    attachType?: string;
    insns: number;
    functions: string[];
    sourceLines: boolean;
    coreRelocations: number;
  }[];
  maps: {
    name: string;
    type: string;
    keySize: number;
    valueSize: number;
    maxEntries: number;
    flags: number;
    definedBy: 'btf' | 'legacy';
    pinning?: number;
    inner?: { type: string; keySize: number; valueSize: number; maxEntries: number };
  }[];
  globalData: { name: string; section: string; size: number; readOnly: boolean }[];
  warnings: string[];
}

export function summarizeObject(obj: BpfObject): ObjectSummary {
  return {
    file: obj.path,
    endian: obj.endian,
    license: obj.license,
    kernelVersion: obj.kernelVersion,
    btf: obj.hasBtf,
    btfExt: obj.hasBtfExt,
    programs: obj.programs.map((p) => ({
      name: p.name,
      section: p.section,
      type: p.type,
      attachType: p.attachType,
      insns: p.insns.length,
      functions: p.functions.map((f) => f.name),
      sourceLines: p.lineInfo.some((l) => l !== undefined),
      coreRelocations: p.coreRelocations.length,
    })),
    maps: obj.maps
      .filter((m) => m.origin !== 'global-data')
      .map((m) => ({
        name: m.name,
        type: mapTypeName(m.type),
        keySize: m.keySize,
        valueSize: m.valueSize,
        maxEntries: m.maxEntries,
        flags: m.flags,
        definedBy: m.origin as 'btf' | 'legacy',
        pinning: m.pinning,
        inner: m.inner
          ? { type: mapTypeName(m.inner.type), keySize: m.inner.keySize, valueSize: m.inner.valueSize, maxEntries: m.inner.maxEntries }
          : undefined,
      })),
    globalData: obj.maps
      .filter((m) => m.origin === 'global-data')
      .map((m) => ({ name: m.name, section: m.section ?? '', size: m.valueSize, readOnly: !!m.readOnly })),
    warnings: obj.warnings,
  };
}
