/**
 * Seeded mutations of verified programs, for differential fuzzing of the
 * verifier against the kernel (differential.ts runMutationCampaign): a
 * mutant that nicoff accepts and the kernel refuses is a soundness bug.
 *
 * Each mutant comes from one parent and one seed, so `mutateProgram(parent,
 * seed)` replays it exactly. Mutations stay close to valid programs, where
 * verifier bugs hide: operands, offsets, immediates, opcodes (within their
 * class and across), jump targets, deleted or duplicated instructions (jump
 * offsets fixed up, or deliberately not), access sizes. ld_imm64 pairs stay
 * well-formed except in a small share of mutants, and map references keep a
 * valid map index (the kernel runner refuses a request naming a missing map).
 */
import type { Insn } from '../ebpf/insn.js';
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_B,
  BPF_DW,
  BPF_H,
  BPF_JMP,
  BPF_JMP32,
  BPF_LDX,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
  BPF_ST,
  BPF_STX,
  BPF_W,
  BPF_X,
  isLdImm64,
  jumpTarget,
  opcodeInfo,
} from '../ebpf/opcodes.js';
import type { VerifyInput } from './verify-types.js';

/** Deterministic PRNG (mulberry32): the same seed gives the same mutant on every machine. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type MutationKind =
  | 'dst-reg'
  | 'src-reg'
  | 'offset'
  | 'imm'
  | 'opcode-in-class'
  | 'opcode-across-class'
  | 'jump-target'
  | 'delete'
  | 'duplicate'
  | 'size'
  | 'ld-imm64-break';

export const MUTATION_KINDS: readonly MutationKind[] = [
  'dst-reg',
  'src-reg',
  'offset',
  'imm',
  'opcode-in-class',
  'opcode-across-class',
  'jump-target',
  'delete',
  'duplicate',
  'size',
  'ld-imm64-break',
];

const PAIR_KEEPING_KINDS = MUTATION_KINDS.filter((k) => k !== 'ld-imm64-break');

export interface Mutation {
  seed: number;
  kind: MutationKind;
  /** The instruction (slot index in the parent) that was changed, deleted or duplicated. */
  insn: number;
  /** What changed, e.g. "insn 5 code 0x0f -> 0x1f" or "deleted insn 3, jumps fixed". */
  description: string;
}

export interface Mutant {
  input: VerifyInput;
  mutation: Mutation;
}

/** Share of mutants allowed to break an ld_imm64 pair (the rest keep pairs intact). */
const LD_IMM64_BREAK_SHARE = 0.03;

type Random = () => number;

const pick = <T>(rnd: Random, items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
const hex = (v: number): string => `0x${(v & 0xff).toString(16).padStart(2, '0')}`;

/** Values where range reasoning goes wrong: signs, widths, shift amounts, packet and stack sizes. */
const INTERESTING_IMMS = [0, 1, -1, 2, 4, 7, 8, 14, 16, 31, 32, 63, 64, 255, 256, 512, 0x7fff, -0x8000, 0xffff, 0x7fffffff, -0x80000000];
const INTERESTING_OFFS = [0, 1, -1, 2, -2, 4, -4, 8, -8, 16, -16, 64, -512, -513, 512, 0x7fff, -0x8000];

function int32(v: number): number {
  return v | 0;
}

function int16(v: number): number {
  return (v << 16) >> 16;
}

/** Slot indices that start an instruction (not the filler of an ld_imm64). */
function instructionStarts(insns: readonly Insn[]): number[] {
  const starts: number[] = [];
  for (let i = 0; i < insns.length; i++) {
    starts.push(i);
    if (insns[i].slots === 2) i++;
  }
  return starts;
}

function isMapReference(insn: Insn): boolean {
  return isLdImm64(insn) && (insn.src === BPF_PSEUDO_MAP_FD || insn.src === BPF_PSEUDO_MAP_VALUE);
}

/** Opcode bytes of the same kind (ALU op within ALU, jump op within jumps, mode/size within memory). */
function sameClassOpcodes(code: number): number[] {
  const info = opcodeInfo(code);
  if (!info || info.kind === 'ld_imm64') return [];
  const out: number[] = [];
  for (let c = 0; c < 256; c++) {
    const other = opcodeInfo(c);
    if (other && c !== code && other.cls === info.cls && other.kind !== 'ld_imm64') out.push(c);
  }
  return out;
}

/** Opcode bytes of another class with the same low "shape": ALU64 <-> ALU32, JMP <-> JMP32, LDX/ST/STX, K <-> X. */
function crossClassOpcodes(code: number): number[] {
  const info = opcodeInfo(code);
  if (!info || info.kind === 'ld_imm64') return [];
  const rest = code & 0xf8;
  const swaps: Record<number, number[]> = {
    [BPF_ALU64]: [BPF_ALU, BPF_JMP],
    [BPF_ALU]: [BPF_ALU64, BPF_JMP32],
    [BPF_JMP]: [BPF_JMP32, BPF_ALU64],
    [BPF_JMP32]: [BPF_JMP, BPF_ALU],
    [BPF_LDX]: [BPF_ST, BPF_STX],
    [BPF_ST]: [BPF_LDX, BPF_STX],
    [BPF_STX]: [BPF_LDX, BPF_ST],
  };
  const out = (swaps[info.cls] ?? []).map((cls) => rest | cls).filter((c) => opcodeInfo(c) !== undefined);
  // The same operation with the other operand source (K <-> X).
  const flipped = code ^ BPF_X;
  if ((info.kind === 'alu64' || info.kind === 'alu32' || info.kind === 'jmp' || info.kind === 'jmp32') && opcodeInfo(flipped)) out.push(flipped);
  return out;
}

/**
 * Re-aim every jump and bpf-to-bpf call after an edit. `oldPcOf` gives the
 * parent slot an instruction of the edited program came from (its offsets
 * were relative to that slot); `newSlotOf` where a parent slot is now.
 */
function fixJumps(insns: Insn[], oldPcOf: (index: number) => number, newSlotOf: (oldSlot: number) => number): void {
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i];
    const target = jumpTarget(oldPcOf(i), insn);
    if (target === undefined) continue;
    const rel = newSlotOf(target) - i - 1;
    const kind = opcodeInfo(insn.code)!.kind;
    insns[i] = kind === 'gotol' || kind === 'call' ? { ...insn, imm: int32(rel) } : { ...insn, off: int16(rel) };
  }
}

function mutateRegister(rnd: Random, insns: Insn[], at: number, field: 'dst' | 'src'): string {
  const insn = insns[at];
  // Mostly a real register; now and then one the kernel does not have.
  const value = rnd() < 0.05 ? 11 + Math.floor(rnd() * 5) : Math.floor(rnd() * 11);
  insns[at] = { ...insn, [field]: value };
  return `insn ${at} ${field} r${insn[field]} -> r${value}`;
}

function mutateOffset(rnd: Random, insns: Insn[], at: number): string {
  const insn = insns[at];
  const r = rnd();
  const off = r < 0.4 ? int16(insn.off + pick(rnd, [-8, -4, -2, -1, 1, 2, 4, 8])) : r < 0.8 ? pick(rnd, INTERESTING_OFFS) : int16(Math.floor(rnd() * 0x10000));
  insns[at] = { ...insn, off };
  return `insn ${at} off ${insn.off} -> ${off}`;
}

function mutateImm(rnd: Random, insns: Insn[], at: number, maps: number): string {
  const insn = insns[at];
  if (isMapReference(insn)) {
    // Another valid map, or a plain 64-bit constant in place of the map pointer.
    if (maps > 1 && rnd() < 0.5) {
      const imm = Math.floor(rnd() * maps);
      insns[at] = { ...insn, imm };
      return `insn ${at} map index ${insn.imm} -> ${imm}`;
    }
    insns[at] = { ...insn, src: 0 };
    return `insn ${at} ld_imm64 map reference -> constant ${insn.imm}`;
  }
  const r = rnd();
  const imm = r < 0.4 ? int32(insn.imm + pick(rnd, [-8, -4, -2, -1, 1, 2, 4, 8])) : r < 0.8 ? pick(rnd, INTERESTING_IMMS) : int32(Math.floor(rnd() * 0x100000000));
  if (insn.slots === 2 && rnd() < 0.5) {
    const imm2 = pick(rnd, [0, -1, 1, 0x7fffffff, -0x80000000]);
    insns[at] = { ...insn, imm2 };
    return `insn ${at} ld_imm64 high half ${insn.imm2 ?? 0} -> ${imm2}`;
  }
  insns[at] = { ...insn, imm };
  return `insn ${at} imm ${insn.imm} -> ${imm}`;
}

function mutateOpcode(rnd: Random, insns: Insn[], at: number, candidates: number[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const insn = insns[at];
  const code = pick(rnd, candidates);
  insns[at] = { ...insn, code };
  return `insn ${at} code ${hex(insn.code)} (${opcodeInfo(insn.code)?.name}) -> ${hex(code)} (${opcodeInfo(code)?.name})`;
}

function mutateJumpTarget(rnd: Random, insns: Insn[], at: number): string | undefined {
  const insn = insns[at];
  const info = opcodeInfo(insn.code);
  if (!info || jumpTarget(at, insn) === undefined) return undefined;
  // Anywhere in the program, with a slight bias to near neighbours; occasionally just outside it.
  const r = rnd();
  const target = r < 0.5 ? at + 1 + insn.off + pick(rnd, [-3, -2, -1, 1, 2, 3]) : r < 0.95 ? Math.floor(rnd() * insns.length) : pick(rnd, [-1, insns.length]);
  const rel = target - at - 1;
  if (info.kind === 'gotol' || info.kind === 'call') insns[at] = { ...insn, imm: int32(rel) };
  else insns[at] = { ...insn, off: int16(rel) };
  return `insn ${at} jump target ${jumpTarget(at, insn)} -> ${target}`;
}

function mutateSize(rnd: Random, insns: Insn[], at: number): string | undefined {
  const insn = insns[at];
  const info = opcodeInfo(insn.code);
  if (!info || info.size === undefined || info.kind === 'ld_imm64') return undefined;
  const sizes = [BPF_B, BPF_H, BPF_W, BPF_DW].filter((s) => s !== (insn.code & 0x18));
  const code = (insn.code & ~0x18) | pick(rnd, sizes);
  insns[at] = { ...insn, code };
  return `insn ${at} size ${hex(insn.code)} -> ${hex(code)} (${opcodeInfo(code)?.name ?? 'not an instruction'})`;
}

function deleteInsn(rnd: Random, insns: Insn[], at: number): string {
  const width = insns[at].slots;
  const fix = rnd() < 0.7;
  insns.splice(at, width);
  // Jumps to the deleted instruction now go to the one after it.
  if (fix) fixJumps(insns, (i) => (i < at ? i : i + width), (t) => (t < at ? t : t >= at + width ? t - width : at));
  return `deleted insn ${at}${width === 2 ? ' (ld_imm64, both slots)' : ''}, jumps ${fix ? 'fixed' : 'left as they were'}`;
}

function duplicateInsn(rnd: Random, insns: Insn[], at: number): string {
  const width = insns[at].slots;
  const fix = rnd() < 0.7;
  insns.splice(at, 0, ...insns.slice(at, at + width).map((i) => ({ ...i })));
  // The copy sits first, so jumps to the instruction reach the copy; everything after it moved by its width.
  if (fix) fixJumps(insns, (i) => (i < at + width ? i : i - width), (t) => (t <= at ? t : t + width));
  return `duplicated insn ${at}, jumps ${fix ? 'fixed' : 'left as they were'}`;
}

/** Split an ld_imm64 into raw slots: an opcode change on its first slot, or its second slot given a non-zero field. */
function breakLdImm64(rnd: Random, insns: Insn[], at: number): string | undefined {
  const insn = insns[at];
  if (!isLdImm64(insn)) return undefined;
  if (rnd() < 0.5) {
    // First slot becomes another instruction; the second slot is left as a raw slot (code 0) holding imm2.
    const code = pick(rnd, [0x07, 0xb7, 0x18 | BPF_X, 0x10, 0x00]);
    insns[at] = { code, dst: insn.dst, src: 0, off: insn.off, imm: insn.imm, slots: 1 };
    insns[at + 1] = { code: 0, dst: 0, src: 0, off: 0, imm: insn.imm2 ?? 0, slots: 1 };
    return `insn ${at} ld_imm64 first slot -> code ${hex(code)}, second slot left as a raw slot`;
  }
  insns[at + 1] = { ...insns[at + 1], dst: 1 + Math.floor(rnd() * 9) };
  return `insn ${at} ld_imm64 second slot given dst r${insns[at + 1].dst}`;
}

/**
 * One mutant of `parent`, fully determined by `seed`. Never returns the parent
 * unchanged (a kind that does not apply to the chosen instruction is retried).
 */
export function mutateProgram(parent: VerifyInput, seed: number): Mutant {
  const rnd = seededRandom(seed);
  for (let attempt = 0; attempt < 64; attempt++) {
    const insns = parent.insns.map((i) => ({ ...i }));
    // Breaking an ld_imm64 pair is its own, rare kind; the others pick among all instructions.
    const kind = rnd() < LD_IMM64_BREAK_SHARE ? 'ld-imm64-break' : pick(rnd, PAIR_KEEPING_KINDS);
    const starts = instructionStarts(insns).filter((i) => kind !== 'ld-imm64-break' || isLdImm64(insns[i]));
    if (starts.length === 0) continue;
    const at = pick(rnd, starts);
    const insn = insns[at];
    let description: string | undefined;
    switch (kind) {
      case 'dst-reg':
        description = mutateRegister(rnd, insns, at, 'dst');
        break;
      case 'src-reg':
        // A map reference's src is its pseudo kind, not a register: mutating it is an imm mutation.
        description = isLdImm64(insn) ? undefined : mutateRegister(rnd, insns, at, 'src');
        break;
      case 'offset':
        description = mutateOffset(rnd, insns, at);
        break;
      case 'imm':
        description = mutateImm(rnd, insns, at, parent.maps.length);
        break;
      case 'opcode-in-class':
        description = mutateOpcode(rnd, insns, at, sameClassOpcodes(insn.code));
        break;
      case 'opcode-across-class':
        description = mutateOpcode(rnd, insns, at, crossClassOpcodes(insn.code));
        break;
      case 'jump-target':
        description = mutateJumpTarget(rnd, insns, at);
        break;
      case 'delete':
        description = insns.length > insn.slots ? deleteInsn(rnd, insns, at) : undefined;
        break;
      case 'duplicate':
        description = duplicateInsn(rnd, insns, at);
        break;
      case 'size':
        description = mutateSize(rnd, insns, at);
        break;
      case 'ld-imm64-break':
        description = breakLdImm64(rnd, insns, at);
        break;
    }
    if (description === undefined || sameProgram(parent.insns, insns)) continue;
    return {
      // Line info belongs to the parent's instruction positions; a mutant has none.
      input: { ...parent, name: `${parent.name}~${seed}`, insns, lineInfo: [] },
      mutation: { seed, kind, insn: at, description },
    };
  }
  throw new Error(`mutateProgram: no mutation applies to ${parent.name} (seed ${seed})`);
}

function sameProgram(a: readonly Insn[], b: readonly Insn[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i];
    return x.code === y.code && x.dst === y.dst && x.src === y.src && x.off === y.off && x.imm === y.imm && (x.imm2 ?? 0) === (y.imm2 ?? 0);
  });
}
