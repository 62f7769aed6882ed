/**
 * Build the verifier's input from what the loader or the corpus reader made.
 */
import type { BpfObject, BpfProgram, ProgramType } from '../ebpf/bpf-object.js';
import { MAP_TYPE } from '../ebpf/bpf-object.js';
import type { CorpusCase } from './corpus-file.js';
import type { VerifyInput } from './verify-types.js';

/** `typeOverride` is `nicoff verify --type`: objects from other loaders name their sections their own way. */
export function verifyInputFromObject(obj: BpfObject, prog: BpfProgram, typeOverride?: ProgramType): VerifyInput {
  return {
    name: prog.name,
    type: typeOverride ?? prog.type,
    insns: prog.insns,
    maps: obj.maps,
    license: obj.license,
    lineInfo: prog.lineInfo,
    ...(obj.path !== undefined ? { file: obj.path } : {}),
  };
}

export function verifyInputFromCorpus(c: CorpusCase): VerifyInput {
  return {
    name: c.file.replace(/\.bpf$/, ''),
    type: c.type,
    insns: c.insns,
    maps: c.maps.map((m) => ({
      name: m.name,
      type: MAP_TYPE[m.type],
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: m.maxEntries,
      flags: 0,
    })),
    license: c.license,
    lineInfo: [],
    file: c.file,
  };
}
