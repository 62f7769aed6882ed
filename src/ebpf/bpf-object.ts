/**
 * The loaded object: what `loadObject` (load-object.ts) returns and every
 * later stage (verifier, interpreter, compiler, kernel oracle) consumes.
 */
import { encodeAssembled } from './assemble.js';
import type { Endian, Insn } from './insn.js';

export type ProgramType =
  | 'xdp'
  | 'sched_cls'
  | 'sched_act'
  | 'socket_filter'
  | 'kprobe'
  | 'tracepoint'
  | 'raw_tracepoint'
  | 'perf_event'
  | 'cgroup_skb'
  | 'cgroup_sock'
  | 'cgroup_sock_addr'
  | 'cgroup_sysctl'
  | 'cgroup_sockopt'
  | 'cgroup_device'
  | 'sock_ops'
  | 'sk_skb'
  | 'sk_msg'
  | 'lwt_in'
  | 'lwt_out'
  | 'lwt_xmit'
  | 'lwt_seg6local'
  | 'flow_dissector'
  | 'sk_reuseport'
  | 'sk_lookup'
  | 'tracing'
  | 'lsm'
  | 'struct_ops'
  | 'syscall'
  | 'netfilter';

/** Kernel `enum bpf_map_type` values for the types nicoff names. */
export const MAP_TYPE = {
  hash: 1,
  array: 2,
  prog_array: 3,
  perf_event_array: 4,
  percpu_hash: 5,
  percpu_array: 6,
  stack_trace: 7,
  cgroup_array: 8,
  lru_hash: 9,
  lru_percpu_hash: 10,
  lpm_trie: 11,
  array_of_maps: 12,
  hash_of_maps: 13,
  devmap: 14,
  sockmap: 15,
  cpumap: 16,
  xskmap: 17,
  sockhash: 18,
  cgroup_storage: 19,
  reuseport_sockarray: 20,
  percpu_cgroup_storage: 21,
  queue: 22,
  stack: 23,
  sk_storage: 24,
  devmap_hash: 25,
  struct_ops: 26,
  ringbuf: 27,
  inode_storage: 28,
  task_storage: 29,
  bloom_filter: 30,
  user_ringbuf: 31,
  cgrp_storage: 32,
  arena: 33,
} as const;

export interface MapDef {
  /** Index in BpfObject.maps; ld_imm64 references use it. */
  index: number;
  name: string;
  /** Kernel enum bpf_map_type value. */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** Where the definition came from. */
  origin: 'btf' | 'legacy' | 'global-data';
  /** LIBBPF_PIN_BY_NAME = 1, iproute2 pinning for legacy bpf_elf_map. */
  pinning?: number;
  /** BTF type ids of key and value, when the map is BTF-defined or global data. */
  keyTypeId?: number;
  valueTypeId?: number;
  /** Inner map template for array_of_maps / hash_of_maps. */
  inner?: MapDef;
  /** For global data: the section (.data, .rodata, .bss, .rodata.str1.1 ...) and its initial bytes (zeros for .bss). */
  section?: string;
  initialValue?: Uint8Array;
  /** .rodata* maps are frozen and read-only for the program (BPF_F_RDONLY_PROG). */
  readOnly?: boolean;
}

/**
 * What an ld_imm64 at a given instruction index refers to, after relocation.
 * The instruction itself keeps src_reg set the way libbpf sets it
 * (1 = BPF_PSEUDO_MAP_FD, 2 = BPF_PSEUDO_MAP_VALUE) and imm = map index;
 * for 'value' refs imm2 = offset into the value.
 */
export interface MapReference {
  insn: number;
  mapIndex: number;
  kind: 'fd' | 'value';
  offset: number;
}

export interface SourceLine {
  file: string;
  line: number;
  column: number;
  text: string;
}

export interface FuncInfo {
  /** Instruction index within the linked program. */
  insn: number;
  name: string;
  typeId: number;
}

export interface CoreRelocation {
  insn: number;
  typeId: number;
  typeName: string;
  accessString: string;
  kind: string;
}

export interface BpfProgram {
  /** Function symbol name. */
  name: string;
  /** ELF section the entry function lives in. */
  section: string;
  type: ProgramType;
  /** Expected attach type when the section name implies one (e.g. 'ingress'). */
  attachType?: string;
  /** Linked instructions: the entry function, then each called .text subprogram appended, calls rebased. */
  /** One entry per slot: an ld_imm64 (slots 2, imm2 set) is followed by a filler entry (code 0, all fields 0, slots 1). */
  insns: Insn[];
  /** Raw little-endian bytes of `insns` as the kernel wants them (relocated: src_reg/imm as libbpf sets them before fds are known). */
  bytes: Uint8Array;
  mapRefs: MapReference[];
  /** Functions in the linked program, in order: [0] is the entry. */
  functions: { name: string; start: number; length: number; section: string }[];
  /** Source line for an instruction index, when BTF.ext line_info covers it. */
  lineInfo: (SourceLine | undefined)[];
  funcInfo: FuncInfo[];
  coreRelocations: CoreRelocation[];
}

export interface BpfObject {
  path?: string;
  endian: Endian;
  programs: BpfProgram[];
  maps: MapDef[];
  license: string;
  kernelVersion?: number;
  hasBtf: boolean;
  hasBtfExt: boolean;
  /** Parsed BTF, when present (btf.ts). */
  btf?: import('./btf.js').Btf;
  /** Non-fatal observations (unknown sections skipped and the like). */
  warnings: string[];
}

/**
 * An object holding one program built from instructions rather than read from
 * an ELF file (an assembled test program, a corpus case, a generated
 * benchmark): little-endian, no BTF, the program's bytes encoded from `insns`.
 */
export function singleProgramObject(name: string, type: ProgramType, insns: Insn[], options: { maps?: MapDef[]; license?: string; bytes?: Uint8Array } = {}): { obj: BpfObject; prog: BpfProgram } {
  const section = type === 'xdp' ? 'xdp' : type === 'sched_cls' ? 'tc' : String(type);
  const prog: BpfProgram = {
    name,
    section,
    type,
    insns,
    bytes: options.bytes ?? encodeAssembled(insns),
    mapRefs: [],
    functions: [{ name, start: 0, length: insns.length, section }],
    lineInfo: [],
    funcInfo: [],
    coreRelocations: [],
  };
  const obj: BpfObject = { endian: 'le', programs: [prog], maps: options.maps ?? [], license: options.license ?? 'GPL', hasBtf: false, hasBtfExt: false, warnings: [] };
  return { obj, prog };
}
