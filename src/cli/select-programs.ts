import type { BpfObject, BpfProgram } from '../ebpf/bpf-object.js';
import { findProgram } from '../ebpf/load-object.js';
import { fail } from '../diagnostics/diagnostic.js';

/** `--prog NAME` picks one program; without it every program of the object. */
export function selectPrograms(obj: BpfObject, name?: string): BpfProgram[] {
  if (name !== undefined) return [findProgram(obj, name)];
  if (obj.programs.length === 0) fail('NC1023', {}, { file: obj.path });
  return obj.programs;
}
