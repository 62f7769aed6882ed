/**
 * The reference interpreter: runs one program on one packet with the
 * semantics of the kernel's BPF_PROG_TEST_RUN. It is the oracle the NFP
 * simulator is compared against, so every rule here follows the kernel
 * (kernel/bpf/core.c ___bpf_prog_run and net/core/filter.c helpers).
 *
 * Registers are unsigned 64-bit BigInts; pointers are addresses in the
 * MapRuntime's AddressSpace (see address-space.ts). Instructions are decoded
 * once into typed arrays and run by a switch on the opcode byte.
 */
import type { BpfObject, BpfProgram, MapDef, ProgramType } from '../bpf-object.js';
import { MAP_TYPE } from '../bpf-object.js';
import { fail } from '../../diagnostics/diagnostic.js';
import { helperById } from '../helpers.js';
import { AddressSpace, MemoryFault, type Region } from './address-space.js';
import { bpfPrintf } from './bpf-printf.js';
import { csumFrom32To16, csumPartialWords, csumReplace2, csumReplace4, csumReplaceByDiff } from './checksum.js';
import { E2BIG, EINVAL, ENOENT, type MapRuntime, type PerfRecord } from './map-runtime.js';
import {
  PacketBuffer,
  SkbContext,
  SKB,
  TC_HEADROOM,
  XdpContext,
  XDP_FRAME_STRUCT,
  XDP_HEADROOM,
  XDP_PAGE,
  SKB_SHARED_INFO,
} from './packet-context.js';

export interface RunOptions {
  progType?: ProgramType;
  /** test_run's ctx_in (struct xdp_md or struct __sk_buff bytes). */
  ctxIn?: Uint8Array;
  ktimeNs?: () => bigint;
  prandom?: () => number;
  /** CPU the run pretends to be on (per-CPU maps, smp_processor_id). Default 0. */
  cpu?: number;
  /** Instruction budget for the whole run, tail calls and callbacks included. Default 1,000,000. */
  insnLimit?: number;
  /** Packet number for diagnostics. */
  packetNumber?: number;
}

export interface RedirectInfo {
  ifindex?: number;
  map?: string;
  key?: number;
  flags: bigint;
}

export interface RunResult {
  retval: bigint;
  /** Output frame as test_run's data_out: XDP data_meta..data_end, TC data..data_end. */
  packet: Uint8Array;
  perfEvents: PerfRecord[];
  ringbuf: { map: string; data: Uint8Array }[];
  tracePrintk: string[];
  redirect?: RedirectInfo;
  insnsExecuted: number;
  ctxOut?: Uint8Array;
}

const M64 = 0xffffffffffffffffn;
const EFAULT = 14n;
const MAX_FRAMES = 8;
const MAX_TAIL_CALLS = 33;
const STACK_SIZE = 512;

// Fixed region ids of one run (below RESERVED_REGIONS of the MapRuntime).
const CTX_REGION = 1;
const PACKET_REGION = 2;
const STACK_REGION0 = 3; // 3..10
const SCRATCH_REGION = 11;
const FUNC_REGION = 12;
const FUNC_BASE = AddressSpace.base(FUNC_REGION);

/** One program decoded for execution. */
interface Decoded {
  prog: BpfProgram;
  code: Uint8Array;
  dst: Uint8Array;
  src: Uint8Array;
  off: Int16Array;
  imm: Int32Array;
  /** ALU64/JMP K operand: imm sign-extended to 64 bits, unsigned. */
  immS64: bigint[];
  /** Load/store displacement: off as a BigInt (saves a BigInt allocation per memory access). */
  offB: bigint[];
  /** ld_imm64 value, resolved at run time for map references. */
  imm64: bigint[];
}

const decodedCache = new WeakMap<BpfProgram, Decoded>();

function decode(prog: BpfProgram): Decoded {
  const hit = decodedCache.get(prog);
  if (hit) return hit;
  const n = prog.insns.length;
  const d: Decoded = {
    prog,
    code: new Uint8Array(n),
    dst: new Uint8Array(n),
    src: new Uint8Array(n),
    off: new Int16Array(n),
    imm: new Int32Array(n),
    immS64: new Array(n),
    offB: new Array(n),
    imm64: new Array(n),
  };
  for (let i = 0; i < n; i++) {
    const insn = prog.insns[i];
    d.code[i] = insn.code;
    d.dst[i] = insn.dst;
    d.src[i] = insn.src;
    d.off[i] = insn.off;
    d.imm[i] = insn.imm;
    d.immS64[i] = BigInt.asUintN(64, BigInt(insn.imm));
    d.offB[i] = BigInt(d.off[i]);
    d.imm64[i] = (BigInt((insn.imm2 ?? 0) >>> 0) << 32n) | BigInt(insn.imm >>> 0);
  }
  decodedCache.set(prog, d);
  return d;
}

function bswap(v: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits; i += 8) out = (out << 8n) | ((v >> BigInt(i)) & 0xffn);
  return out;
}

/**
 * The 8 stack frames of a run on `space`. They are allocated once per address
 * space and zeroed at the start of every run (runs on one MapRuntime never
 * overlap and nothing keeps a frame past its run): allocating 8 off-heap
 * 512-byte buffers per run was most of the cost of a short program.
 */
const stackFrameCache = new WeakMap<AddressSpace, Region[]>();

function stackFrames(space: AddressSpace): Region[] {
  let frames = stackFrameCache.get(space);
  if (!frames) {
    frames = [];
    for (let i = 0; i < MAX_FRAMES; i++) frames.push(space.add('stack', `stack frame ${i}`, new Uint8Array(STACK_SIZE), true, STACK_REGION0 + i));
    stackFrameCache.set(space, frames);
    return frames;
  }
  for (const frame of frames) {
    frame.bytes.fill(0);
    frame.lo = 0;
    frame.hi = STACK_SIZE;
    frame.writable = true;
    space.regions[frame.id] = frame;
  }
  return frames;
}

/**
 * The XDP frame's page on `space`, allocated once and zeroed for every run
 * (test_run's page is zeroed too); the run's output is a copy (slice).
 */
const xdpPageCache = new WeakMap<AddressSpace, Uint8Array>();

function xdpPage(space: AddressSpace): Uint8Array {
  let page = xdpPageCache.get(space);
  if (!page) xdpPageCache.set(space, (page = new Uint8Array(XDP_PAGE)));
  else page.fill(0);
  return page;
}

/**
 * Backing bytes of regions whose bytes are never read or written: the xdp_md
 * region (its accessor answers every load and refuses every store, and
 * helpers refuse ctx memory) and the empty function-pointer region. Shared so
 * a run does not allocate (and materialise for its DataView) fresh buffers.
 */
const XDP_MD_BYTES = new Uint8Array(24);
const NO_BYTES = new Uint8Array(0);

/** The state of one run. */
class Machine {
  readonly regs: bigint[] = new Array(11).fill(0n);
  readonly space: AddressSpace;
  readonly stacks: Region[];
  depth = 0;
  insns = 0;
  tailCalls = 0;
  mayGotoBudget = 8 * 1024 * 1024;
  readonly perfEvents: PerfRecord[] = [];
  readonly ringbuf: { map: string; data: Uint8Array }[] = [];
  readonly trace: string[] = [];
  redirect?: RedirectInfo;
  cur!: Decoded;
  pc = 0;
  readonly ctxAddr = AddressSpace.base(CTX_REGION);
  /** Scratch allocations for ringbuf_reserve, by address. */
  readonly reservations = new Map<bigint, { map: string; bytes: Uint8Array }>();

  constructor(
    readonly obj: { programs?: BpfProgram[]; maps: MapDef[] },
    readonly maps: MapRuntime,
    readonly type: ProgramType,
    readonly pkt: PacketBuffer,
    readonly xdp: XdpContext | undefined,
    readonly skb: SkbContext | undefined,
    readonly opts: RunOptions,
    readonly limit: number,
    readonly cpu: number,
  ) {
    this.space = maps.space;
    this.stacks = stackFrames(this.space);
    const fn = this.space.add('scratch', 'function pointers', NO_BYTES, false, FUNC_REGION);
    fn.hi = 0;
  }

  faultAt(reason: string): never {
    fail('NC3001', { insn: this.pc, reason }, { insn: this.pc, section: this.cur.prog.section, packet: this.opts.packetNumber });
  }

  stackTop(depth: number): bigint {
    return AddressSpace.base(STACK_REGION0 + depth) + BigInt(STACK_SIZE);
  }

  /** Run `prog` from its entry with R1 = ctx; returns R0. */
  runEntry(prog: BpfProgram): bigint {
    this.regs.fill(0n);
    this.regs[1] = this.ctxAddr;
    this.regs[10] = this.stackTop(0);
    this.cur = decode(prog);
    return this.execute(0);
  }

  /** Call a subprogram (callback) at pc `target` of the current program with args; returns its R0. */
  callFunction(target: number, args: bigint[]): bigint {
    if (this.depth + 1 >= MAX_FRAMES) this.faultAt('callback exceeds 8 call frames');
    const saved = this.regs.slice();
    const savedPc = this.pc;
    this.depth++;
    for (let i = 0; i < 5; i++) this.regs[i + 1] = args[i] ?? 0n;
    this.regs[10] = this.stackTop(this.depth);
    const r0 = this.execute(target);
    this.depth--;
    for (let i = 0; i < 11; i++) this.regs[i] = saved[i];
    this.pc = savedPc;
    return r0;
  }

  /** The fetch-execute loop; returns R0 at the EXIT of the frame it started in. */
  execute(startPc: number): bigint {
    const r = this.regs;
    const space = this.space;
    const baseDepth = this.depth;
    const frames: { ret: number; saved: bigint[] }[] = [];
    let d = this.cur;
    let { code, dst, src, off, imm, immS64, offB } = d;
    let n = code.length;
    let pc = startPc;
    const limit = this.limit;
    try {
      for (;;) {
        if (pc < 0 || pc >= n) {
          this.pc = pc;
          this.faultAt('jump or fall-through out of the program');
        }
        if (++this.insns > limit) fail('NC3002', { limit }, { insn: pc, section: d.prog.section, packet: this.opts.packetNumber });
        const op = code[pc];
        const rd = dst[pc];
        switch (op) {
          // ---------- ALU64 ----------
          case 0x07: r[rd] = (r[rd] + immS64[pc]) & M64; break;
          case 0x0f: r[rd] = (r[rd] + r[src[pc]]) & M64; break;
          case 0x17: r[rd] = (r[rd] - immS64[pc]) & M64; break;
          case 0x1f: r[rd] = (r[rd] - r[src[pc]]) & M64; break;
          case 0x27: r[rd] = (r[rd] * immS64[pc]) & M64; break;
          case 0x2f: r[rd] = (r[rd] * r[src[pc]]) & M64; break;
          case 0x37: r[rd] = div64(r[rd], immS64[pc], off[pc]); break;
          case 0x3f: r[rd] = div64(r[rd], r[src[pc]], off[pc]); break;
          case 0x47: r[rd] = r[rd] | immS64[pc]; break;
          case 0x4f: r[rd] = r[rd] | r[src[pc]]; break;
          case 0x57: r[rd] = r[rd] & immS64[pc]; break;
          case 0x5f: r[rd] = r[rd] & r[src[pc]]; break;
          case 0x67: r[rd] = (r[rd] << (immS64[pc] & 63n)) & M64; break;
          case 0x6f: r[rd] = (r[rd] << (r[src[pc]] & 63n)) & M64; break;
          case 0x77: r[rd] = r[rd] >> (immS64[pc] & 63n); break;
          case 0x7f: r[rd] = r[rd] >> (r[src[pc]] & 63n); break;
          case 0x87: r[rd] = -r[rd] & M64; break;
          case 0x97: r[rd] = mod64(r[rd], immS64[pc], off[pc]); break;
          case 0x9f: r[rd] = mod64(r[rd], r[src[pc]], off[pc]); break;
          case 0xa7: r[rd] = r[rd] ^ immS64[pc]; break;
          case 0xaf: r[rd] = r[rd] ^ r[src[pc]]; break;
          case 0xb7: r[rd] = immS64[pc]; break;
          case 0xbf: {
            const o = off[pc];
            const v = r[src[pc]];
            if (o === 0) r[rd] = v;
            else if (o === 8 || o === 16 || o === 32) r[rd] = BigInt.asUintN(64, BigInt.asIntN(o, v));
            else {
              this.pc = pc;
              this.faultAt(`mov with off ${o} (addr_space_cast) is not supported`);
            }
            break;
          }
          case 0xc7: r[rd] = BigInt.asUintN(64, BigInt.asIntN(64, r[rd]) >> (immS64[pc] & 63n)); break;
          case 0xcf: r[rd] = BigInt.asUintN(64, BigInt.asIntN(64, r[rd]) >> (r[src[pc]] & 63n)); break;
          case 0xd7: r[rd] = bswap(r[rd], imm[pc]); break;

          // ---------- ALU (32-bit, zero-extending) ----------
          case 0x04: case 0x0c: case 0x14: case 0x1c: case 0x24: case 0x2c: case 0x34: case 0x3c:
          case 0x44: case 0x4c: case 0x54: case 0x5c: case 0x64: case 0x6c: case 0x74: case 0x7c:
          case 0x84: case 0x94: case 0x9c: case 0xa4: case 0xac: case 0xb4: case 0xbc: case 0xc4: case 0xcc: {
            const a = Number(r[rd] & 0xffffffffn);
            const b = op & 0x08 ? Number(r[src[pc]] & 0xffffffffn) : imm[pc] >>> 0;
            r[rd] = BigInt(alu32(op & 0xf0, a, b, off[pc]));
            break;
          }
          case 0xd4: {
            // to little-endian: truncate on a little-endian machine
            const w = imm[pc];
            if (w === 16) r[rd] &= 0xffffn;
            else if (w === 32) r[rd] &= 0xffffffffn;
            break;
          }
          case 0xdc: r[rd] = bswap(r[rd], imm[pc]); break;

          // ---------- JMP / JMP32 ----------
          case 0x05: pc += off[pc]; break;
          case 0x06: pc += imm[pc]; break;
          case 0x85: {
            const s = src[pc];
            if (s === 1) {
              if (this.depth + 1 >= MAX_FRAMES) {
                this.pc = pc;
                this.faultAt('call exceeds 8 call frames');
              }
              frames.push({ ret: pc + 1, saved: [r[6], r[7], r[8], r[9], r[10]] });
              this.depth++;
              r[10] = this.stackTop(this.depth);
              pc = pc + imm[pc] + 1;
              continue;
            }
            if (s !== 0) {
              this.pc = pc;
              fail('NC3003', { helper: `kfunc (btf id ${imm[pc]})` }, { insn: pc, section: d.prog.section });
            }
            this.pc = pc;
            const id = imm[pc];
            if (id === 12) {
              const next = this.tailCall();
              if (next) {
                d = this.cur = next;
                ({ code, dst, src, off, imm, immS64, offB } = d);
                n = code.length;
                frames.length = 0;
                pc = 0;
                continue;
              }
              break;
            }
            r[0] = BigInt.asUintN(64, this.helper(id));
            break;
          }
          case 0x95: {
            const f = frames.pop();
            if (!f) return r[0];
            r[6] = f.saved[0];
            r[7] = f.saved[1];
            r[8] = f.saved[2];
            r[9] = f.saved[3];
            r[10] = f.saved[4];
            this.depth--;
            pc = f.ret;
            continue;
          }
          case 0xe5: {
            // may_goto: falls through until the loop budget is used up, then jumps.
            if (this.mayGotoBudget > 0) this.mayGotoBudget--;
            else pc += off[pc];
            break;
          }

          // ---------- LD_IMM64 ----------
          case 0x18: {
            r[rd] = this.ldImm64(d, pc);
            pc += 2;
            continue;
          }

          // ---------- loads ----------
          case 0x61: r[rd] = space.load((r[src[pc]] + offB[pc]) & M64, 4); break;
          case 0x69: r[rd] = space.load((r[src[pc]] + offB[pc]) & M64, 2); break;
          case 0x71: r[rd] = space.load((r[src[pc]] + offB[pc]) & M64, 1); break;
          case 0x79: r[rd] = space.load((r[src[pc]] + offB[pc]) & M64, 8); break;
          case 0x81: r[rd] = BigInt.asUintN(64, BigInt.asIntN(32, space.load((r[src[pc]] + offB[pc]) & M64, 4))); break;
          case 0x89: r[rd] = BigInt.asUintN(64, BigInt.asIntN(16, space.load((r[src[pc]] + offB[pc]) & M64, 2))); break;
          case 0x91: r[rd] = BigInt.asUintN(64, BigInt.asIntN(8, space.load((r[src[pc]] + offB[pc]) & M64, 1))); break;

          // ---------- stores ----------
          case 0x62: space.store((r[rd] + offB[pc]) & M64, 4, immS64[pc]); break;
          case 0x6a: space.store((r[rd] + offB[pc]) & M64, 2, immS64[pc]); break;
          case 0x72: space.store((r[rd] + offB[pc]) & M64, 1, immS64[pc]); break;
          case 0x7a: space.store((r[rd] + offB[pc]) & M64, 8, immS64[pc]); break;
          case 0x63: space.store((r[rd] + offB[pc]) & M64, 4, r[src[pc]]); break;
          case 0x6b: space.store((r[rd] + offB[pc]) & M64, 2, r[src[pc]]); break;
          case 0x73: space.store((r[rd] + offB[pc]) & M64, 1, r[src[pc]]); break;
          case 0x7b: space.store((r[rd] + offB[pc]) & M64, 8, r[src[pc]]); break;

          // ---------- atomics ----------
          case 0xc3: case 0xdb: case 0xd3: case 0xcb: {
            const size = op === 0xdb ? 8 : op === 0xc3 ? 4 : op === 0xcb ? 2 : 1;
            this.pc = pc;
            this.atomic(size, rd, src[pc], off[pc], imm[pc]);
            break;
          }

          // ---------- legacy packet loads (socket filter / TC) ----------
          case 0x20: case 0x28: case 0x30: case 0x40: case 0x48: case 0x50: {
            const size = (op & 0x18) === 0x00 ? 4 : (op & 0x18) === 0x08 ? 2 : 1;
            let at = imm[pc];
            if ((op & 0xe0) === 0x40) at = (Number(r[src[pc]] & 0xffffffffn) + imm[pc]) | 0;
            const p = this.pkt;
            if (at < 0 || at + size > p.len) {
              // Out of range: the kernel exits the program with 0.
              r[0] = 0n;
              if (frames.length) {
                this.pc = pc;
                this.faultAt('LD_ABS/LD_IND out of range inside a subprogram');
              }
              return 0n;
            }
            let v = 0;
            for (let i = 0; i < size; i++) v = v * 256 + p.bytes[p.data + at + i];
            r[0] = BigInt(v);
            break;
          }

          default: {
            if ((op & 0x07) === 0x05 || (op & 0x07) === 0x06) {
              if (this.jump(op, r[rd], op & 0x08 ? r[src[pc]] : immS64[pc])) pc += off[pc];
              break;
            }
            this.pc = pc;
            this.faultAt(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
          }
        }
        pc++;
      }
    } catch (e) {
      if (e instanceof MemoryFault) {
        this.pc = pc;
        this.faultAt(e.message);
      }
      throw e;
    } finally {
      this.depth = baseDepth;
    }
  }

  jump(op: number, a: bigint, b: bigint): boolean {
    if ((op & 0x07) === 0x06) {
      const x = Number(a & 0xffffffffn);
      const y = Number(b & 0xffffffffn);
      switch (op & 0xf0) {
        case 0x10: return x === y;
        case 0x20: return x > y;
        case 0x30: return x >= y;
        case 0x40: return (x & y) !== 0;
        case 0x50: return x !== y;
        case 0x60: return (x | 0) > (y | 0);
        case 0x70: return (x | 0) >= (y | 0);
        case 0xa0: return x < y;
        case 0xb0: return x <= y;
        case 0xc0: return (x | 0) < (y | 0);
        case 0xd0: return (x | 0) <= (y | 0);
      }
    } else {
      switch (op & 0xf0) {
        case 0x10: return a === b;
        case 0x20: return a > b;
        case 0x30: return a >= b;
        case 0x40: return (a & b) !== 0n;
        case 0x50: return a !== b;
        case 0x60: return BigInt.asIntN(64, a) > BigInt.asIntN(64, b);
        case 0x70: return BigInt.asIntN(64, a) >= BigInt.asIntN(64, b);
        case 0xa0: return a < b;
        case 0xb0: return a <= b;
        case 0xc0: return BigInt.asIntN(64, a) < BigInt.asIntN(64, b);
        case 0xd0: return BigInt.asIntN(64, a) <= BigInt.asIntN(64, b);
      }
    }
    this.faultAt(`unknown jump opcode 0x${op.toString(16)}`);
  }

  ldImm64(d: Decoded, pc: number): bigint {
    const s = d.src[pc];
    if (s === 0) return d.imm64[pc];
    const mapIndex = d.imm[pc];
    if (s === 4) return FUNC_BASE + BigInt(pc + d.imm[pc] + 1);
    if (mapIndex < 0 || mapIndex >= this.maps.maps.length) {
      this.pc = pc;
      this.faultAt(`ld_imm64 refers to map index ${mapIndex}, which does not exist`);
    }
    const m = this.maps.maps[mapIndex];
    if (s === 1 || s === 5) return AddressSpace.base(m.handle.id);
    if (s === 2 || s === 6) {
      if (!m.arrayRegions) {
        this.pc = pc;
        this.faultAt(`ld_imm64 map value of non-array map ${m.def.name}`);
      }
      const region = m.arrayRegions[m.percpu ? this.cpu : 0];
      return AddressSpace.base(region.id) + BigInt((d.prog.insns[pc].imm2 ?? 0) >>> 0);
    }
    this.pc = pc;
    this.faultAt(`ld_imm64 with src_reg ${s} is not supported`);
  }

  atomic(size: number, rd: number, rs: number, off: number, op: number): void {
    const r = this.regs;
    const addr = (r[rd] + BigInt(off)) & M64;
    const mask = size === 8 ? M64 : (1n << BigInt(size * 8)) - 1n;
    if (op === 0x100) {
      // load-acquire: dst = *(src + off)
      r[rd] = this.space.load((r[rs] + BigInt(off)) & M64, size);
      return;
    }
    if (op === 0x110) {
      this.space.store(addr, size, r[rs]);
      return;
    }
    if (size < 4) this.faultAt(`atomic op 0x${op.toString(16)} on ${size} bytes`);
    const old = this.space.load(addr, size);
    const v = r[rs] & mask;
    let next: bigint;
    switch (op & ~1) {
      case 0x00: next = (old + v) & mask; break;
      case 0x40: next = old | v; break;
      case 0x50: next = old & v; break;
      case 0xa0: next = old ^ v; break;
      case 0xe0: next = v; break; // xchg (always fetch)
      case 0xf0: {
        // cmpxchg: compare with R0, store src if equal; R0 = old (zero-extended for 32-bit)
        const expected = r[0] & mask;
        if (old === expected) this.space.store(addr, size, v);
        r[0] = old;
        return;
      }
      default:
        this.faultAt(`unknown atomic op 0x${op.toString(16)}`);
    }
    this.space.store(addr, size, next);
    if (op & 1) r[rs] = old;
  }

  tailCall(): Decoded | undefined {
    const r = this.regs;
    const mapIndex = this.mapOf(r[2]);
    const m = this.maps.maps[mapIndex];
    if (m.def.type !== MAP_TYPE.prog_array) this.faultAt(`tail_call on map ${m.def.name}, which is not a prog_array`);
    const idx = Number(r[3] & 0xffffffffn);
    if (idx >= m.def.maxEntries) return undefined;
    if (this.tailCalls >= MAX_TAIL_CALLS) return undefined;
    const progIndex = this.maps.progAt(mapIndex, idx);
    if (progIndex === undefined) return undefined;
    const prog = this.obj.programs?.[progIndex];
    if (!prog) this.faultAt(`prog_array ${m.def.name}[${idx}] names program ${progIndex}, which the object does not have`);
    this.tailCalls++;
    this.depth = 0;
    r[1] = this.ctxAddr;
    r[10] = this.stackTop(0);
    return decode(prog);
  }

  mapOf(addr: bigint): number {
    const region = this.space.regions[Number(addr >> 32n)];
    if (!region || region.kind !== 'map' || region.mapIndex === undefined || (addr & 0xffffffffn) !== 0n)
      this.faultAt(`helper expected a map pointer, got 0x${addr.toString(16)}`);
    return region.mapIndex;
  }

  read(addr: bigint, len: number): Uint8Array {
    return this.space.bytesAt(addr, len);
  }

  /** Helper call: returns R0 (signed values are wrapped by the caller). */
  helper(id: number): bigint {
    const r = this.regs;
    const space = this.space;
    const cpu = this.cpu;
    switch (id) {
      case 1: {
        const mi = this.mapOf(r[1]);
        const m = this.maps.maps[mi];
        const key = this.read(r[2], m.def.keySize);
        if (m.def.type === MAP_TYPE.array_of_maps || m.def.type === MAP_TYPE.hash_of_maps) {
          const inner = this.maps.lookupInner(mi, key);
          return inner === undefined ? 0n : AddressSpace.base(this.maps.maps[inner].handle.id);
        }
        if (m.queue || m.slots) return 0n;
        const hit = this.maps.lookupRegion(mi, key, cpu);
        return hit ? AddressSpace.base(hit.region.id) + BigInt(hit.off) : 0n;
      }
      case 2: {
        const mi = this.mapOf(r[1]);
        const m = this.maps.maps[mi];
        const key = this.read(r[2], m.def.keySize).slice();
        const value = this.read(r[3], m.def.valueSize).slice();
        return BigInt(this.maps.update(mi, key, value, Number(BigInt.asIntN(64, r[4]) > 0xffffffffn ? 0xffffffffn : r[4]), cpu));
      }
      case 3: {
        const mi = this.mapOf(r[1]);
        const key = this.read(r[2], this.maps.maps[mi].def.keySize).slice();
        return BigInt(this.maps.delete(mi, key));
      }
      case 87: {
        const mi = this.mapOf(r[1]);
        const value = this.read(r[2], this.maps.maps[mi].def.valueSize).slice();
        return BigInt(this.maps.push(mi, value, Number(r[3] & 0xffffffffn) | (r[3] > 0xffffffffn ? 8 : 0)));
      }
      case 88:
      case 89: {
        const mi = this.mapOf(r[1]);
        const size = this.maps.maps[mi].def.valueSize;
        const out = space.bytesAt(r[2], size, true);
        const v = this.maps.pop(mi, id === 88);
        if (typeof v === 'number') {
          out.fill(0);
          return BigInt(v);
        }
        out.set(v);
        return 0n;
      }
      case 195: {
        const mi = this.mapOf(r[1]);
        const m = this.maps.maps[mi];
        const c = Number(r[3] & 0xffffffffn);
        if (!m.percpu || c >= this.maps.cpus) return 0n;
        const hit = this.maps.lookupRegion(mi, this.read(r[2], m.def.keySize), c);
        return hit ? AddressSpace.base(hit.region.id) + BigInt(hit.off) : 0n;
      }
      case 5:
      case 125:
      case 160:
      case 208:
        return this.opts.ktimeNs ? this.opts.ktimeNs() : 0n;
      case 7:
        return BigInt((this.opts.prandom ? this.opts.prandom() : 0) >>> 0);
      case 8:
        return BigInt(cpu);
      case 42:
        return 0n;
      case 6: {
        const fmtSize = Number(r[2] & 0xffffffffn);
        const fmt = space.cString(r[1], fmtSize);
        const res = bpfPrintf(fmt, [r[3], r[4], r[5]], (a) => space.cString(a, 1024));
        if (res.error) return BigInt(res.error);
        this.trace.push(res.text);
        return BigInt(Buffer.byteLength(res.text, 'latin1'));
      }
      case 177: {
        const fmt = space.cString(r[1], Number(r[2] & 0xffffffffn));
        const dataLen = Number(r[4] & 0xffffffffn);
        if (dataLen % 8 || dataLen > 8 * 12) return -BigInt(EINVAL);
        const data = this.read(r[3], dataLen);
        const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
        const args: bigint[] = [];
        for (let i = 0; i < dataLen; i += 8) args.push(dv.getBigUint64(i, true));
        const res = bpfPrintf(fmt, args, (a) => space.cString(a, 1024));
        if (res.error) return BigInt(res.error);
        this.trace.push(res.text);
        return BigInt(Buffer.byteLength(res.text, 'latin1'));
      }
      case 165: {
        // snprintf(str, size, fmt, data, data_len): returns the full length + 1
        const size = Number(r[2] & 0xffffffffn);
        const fmt = space.cString(r[3], 1024);
        const dataLen = Number(r[5] & 0xffffffffn);
        if (dataLen % 8 || dataLen > 8 * 12) return -BigInt(EINVAL);
        const data = this.read(r[4], dataLen);
        const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
        const args: bigint[] = [];
        for (let i = 0; i < dataLen; i += 8) args.push(dv.getBigUint64(i, true));
        const res = bpfPrintf(fmt, args, (a) => space.cString(a, 1024));
        if (res.error) return BigInt(res.error);
        const bytes = Buffer.from(res.text, 'latin1');
        if (size > 0) {
          const out = space.bytesAt(r[1], size, true);
          const n = Math.min(bytes.length, size - 1);
          out.set(bytes.subarray(0, n));
          out[n] = 0;
        }
        return BigInt(bytes.length + 1);
      }
      case 25:
      case 121:
        return this.perfEventOutput();
      case 130: {
        const mi = this.mapOf(r[1]);
        const size = Number(r[3]);
        if (r[4] & ~3n) return -BigInt(EINVAL);
        this.ringbuf.push({ map: this.maps.maps[mi].def.name, data: this.read(r[2], size).slice() });
        return 0n;
      }
      case 131: {
        const mi = this.mapOf(r[1]);
        const size = Number(r[2]);
        if (r[3] !== 0n) return 0n;
        if (size > this.maps.maps[mi].def.maxEntries) return 0n;
        const region = this.space.add('scratch', `ringbuf record of ${this.maps.maps[mi].def.name}`, new Uint8Array(size), true);
        const addr = AddressSpace.base(region.id);
        this.reservations.set(addr, { map: this.maps.maps[mi].def.name, bytes: region.bytes });
        return addr;
      }
      case 132:
      case 133: {
        const res = this.reservations.get(r[1]);
        if (!res) this.faultAt('ringbuf_submit/discard of a pointer ringbuf_reserve did not return');
        if (id === 132) this.ringbuf.push({ map: res.map, data: res.bytes.slice() });
        this.reservations.delete(r[1]);
        this.space.remove(Number(r[1] >> 32n));
        return 0n;
      }
      case 134:
        return 0n;
      case 28: {
        const fromSize = Number(r[2] & 0xffffffffn);
        const toSize = Number(r[4] & 0xffffffffn);
        if ((fromSize | toSize) & 3 || fromSize + toSize > 512) return -BigInt(EINVAL);
        // Since 6.12 the result is folded to 16 bits on every architecture (csum_from32to16).
        const diff = new Uint8Array(fromSize + toSize);
        const from = this.read(r[1], fromSize);
        for (let i = 0; i < fromSize; i++) diff[i] = ~from[i] & 0xff;
        diff.set(this.read(r[3], toSize), fromSize);
        return BigInt(csumFrom32To16(csumPartialWords(diff, Number(r[5] & 0xffffffffn))));
      }
      case 23:
        return this.redirectHelper();
      case 51:
        return this.redirectMap();
      case 44:
        return this.xdpAdjustHead(Number(BigInt.asIntN(32, r[2])));
      case 54:
        return this.xdpAdjustMeta(Number(BigInt.asIntN(32, r[2])));
      case 65:
        return this.xdpAdjustTail(Number(BigInt.asIntN(32, r[2])));
      case 188:
        return BigInt(this.pkt.len);
      case 189:
      case 190: {
        const offset = Number(r[2] & 0xffffffffn);
        const len = Number(r[4] & 0xffffffffn);
        if (offset > 0xffff || len > 0xffff) return -EFAULT;
        if (offset + len > this.pkt.len) return -BigInt(EINVAL);
        const at = this.pkt.data + offset;
        if (id === 189) space.bytesAt(r[3], len, true).set(this.pkt.bytes.subarray(at, at + len));
        else this.pkt.bytes.set(this.read(r[3], len), at);
        return 0n;
      }
      case 26:
      case 68: {
        const offset = Number(r[2] & 0xffffffffn);
        const len = Number(r[4] & 0xffffffffn);
        const to = space.bytesAt(r[3], len, true);
        let start = this.pkt.data;
        if (id === 68) {
          const hdr = Number(r[5] & 0xffffffffn);
          // BPF_HDR_START_MAC 0, BPF_HDR_START_NET 1 (after the 14-byte Ethernet header)
          if (hdr === 1) start += 14;
          else if (hdr !== 0) {
            to.fill(0);
            return -BigInt(EINVAL);
          }
        }
        if (offset > 0x7fffffff || start + offset + len > this.pkt.end) {
          to.fill(0);
          return -EFAULT;
        }
        to.set(this.pkt.bytes.subarray(start + offset, start + offset + len));
        return 0n;
      }
      case 9: {
        const offset = Number(r[2] & 0xffffffffn);
        const len = Number(r[4] & 0xffffffffn);
        const flags = r[5];
        if (flags & ~3n) return -BigInt(EINVAL);
        if (offset > 0x7fffffff || offset + len > this.pkt.len) return -EFAULT;
        this.pkt.bytes.set(this.read(r[3], len), this.pkt.data + offset);
        if (flags & 2n) this.skb!.set(SKB.hash, 0);
        return 0n;
      }
      case 10:
      case 11:
        return this.csumReplace(id === 11);
      case 40:
        // csum_update: only meaningful for CHECKSUM_COMPLETE skbs; test_run skbs are CHECKSUM_NONE.
        return -BigInt(EINVAL);
      case 17:
      case 24:
      case 79:
      case 151:
      case 47:
        return 0n;
      case 41:
        this.skb!.set(SKB.hash, 0);
        return 0n;
      case 48:
        this.skb!.set(SKB.hash, Number(r[2] & 0xffffffffn));
        return 0n;
      case 32: {
        const t = Number(r[2] & 0xffffffffn);
        // PACKET_HOST..PACKET_OTHERHOST may be set, and only from those.
        const cur = this.skb!.get(SKB.pkt_type);
        if (cur > 3 || t > 3) return -BigInt(EINVAL);
        this.skb!.set(SKB.pkt_type, t);
        return 0n;
      }
      case 181:
        return this.bpfLoop();
      case 164:
        return this.forEachMapElem();
      case 93:
      case 94:
        return 0n;
      case 182: {
        const s1 = this.read(r[1], Number(r[2] & 0xffffffffn));
        const s2 = space.cString(r[3], 1 << 20);
        for (let i = 0; i < s1.length; i++) {
          const a = s1[i];
          const b = i < s2.length ? s2.charCodeAt(i) : 0;
          if (a !== b) return BigInt(a < b ? -1 : 1);
          if (a === 0) return 0n;
        }
        return 0n;
      }
    }
    const proto = helperById(id);
    fail('NC3003', { helper: proto ? `bpf_${proto.name} (#${id})` : `#${id}` }, { insn: this.pc, section: this.cur.prog.section });
  }

  perfEventOutput(): bigint {
    const r = this.regs;
    const mi = this.mapOf(r[2]);
    const m = this.maps.maps[mi];
    const flags = r[3];
    if (flags & ~0x000fffffffffffffn) return -BigInt(EINVAL);
    const ctxLen = Number((flags >> 32n) & 0xfffffn);
    if (ctxLen > this.pkt.len) return -EFAULT;
    let index = Number(flags & 0xffffffffn);
    if (index === 0xffffffff) index = this.cpu;
    if (index >= m.def.maxEntries) return -BigInt(E2BIG);
    const size = Number(r[5]);
    const sample = this.read(r[4], size);
    const data = new Uint8Array(size + ctxLen);
    data.set(sample);
    data.set(this.pkt.bytes.subarray(this.pkt.data, this.pkt.data + ctxLen), size);
    this.perfEvents.push({ map: m.def.name, index, data });
    // The record is captured, but the return value is the kernel's under
    // BPF_PROG_TEST_RUN: no perf event is open on the slot (nothing put a perf
    // fd in the perf_event_array), so __bpf_perf_event_output finds
    // array->ptrs[index] empty and returns -ENOENT.
    return -BigInt(ENOENT);
  }

  redirectHelper(): bigint {
    const r = this.regs;
    const ifindex = Number(r[1] & 0xffffffffn);
    const flags = r[2];
    if (this.type === 'xdp') {
      if (flags !== 0n) return 0n; // XDP_ABORTED
      this.redirect = { ifindex, flags };
      return 4n; // XDP_REDIRECT
    }
    // TC: only BPF_F_INGRESS (1) is accepted.
    if (flags & ~1n) return 2n; // TC_ACT_SHOT
    this.redirect = { ifindex, flags };
    return 7n; // TC_ACT_REDIRECT
  }

  redirectMap(): bigint {
    const r = this.regs;
    const mi = this.mapOf(r[1]);
    const m = this.maps.maps[mi];
    const key = Number(r[2] & 0xffffffffn);
    const flags = r[3];
    const BROADCAST = 1n << 3n;
    const EXCLUDE_INGRESS = 1n << 4n;
    const flagMask = m.def.type === MAP_TYPE.devmap || m.def.type === MAP_TYPE.devmap_hash ? BROADCAST | EXCLUDE_INGRESS : 0n;
    if (flags & ~(3n | flagMask)) return 0n;
    let present = false;
    if (m.slots) present = r[2] <= 0xffffffffn && key < m.def.maxEntries && m.slots[key] !== undefined;
    else if (m.hash) present = this.maps.lookup(mi, new Uint8Array(new Uint32Array([key]).buffer)) !== undefined;
    if (!present && !(flags & BROADCAST)) {
      this.redirect = undefined;
      return flags & 3n;
    }
    this.redirect = { map: m.def.name, key, flags };
    return 4n;
  }

  xdpAdjustHead(delta: number): bigint {
    const p = this.pkt;
    const data = p.data + delta;
    const metalen = p.data - p.meta;
    if (data < XDP_FRAME_STRUCT + metalen || data > p.end - 14) return -BigInt(EINVAL);
    if (metalen) p.bytes.copyWithin(p.meta + delta, p.meta, p.data);
    p.meta += delta;
    p.data = data;
    p.sync();
    return 0n;
  }

  xdpAdjustMeta(delta: number): bigint {
    const p = this.pkt;
    const meta = p.meta + delta;
    const metalen = p.data - meta;
    if (meta < XDP_FRAME_STRUCT || meta > p.data) return -BigInt(EINVAL);
    if (metalen & 3 || metalen > 255) return -13n; // -EACCES
    p.meta = meta;
    p.sync();
    return 0n;
  }

  xdpAdjustTail(delta: number): bigint {
    const p = this.pkt;
    const end = p.end + delta;
    const hardEnd = XDP_PAGE - SKB_SHARED_INFO;
    if (end > hardEnd || end < p.data + 14) return -BigInt(EINVAL);
    if (delta > 0) p.bytes.fill(0, p.end, end);
    p.end = end;
    p.sync();
    return 0n;
  }

  csumReplace(l4: boolean): bigint {
    const r = this.regs;
    const offset = Number(r[2] & 0xffffffffn);
    const from = r[3];
    const to = r[4];
    const flags = r[5];
    const PSEUDO = 1n << 4n;
    const MANGLED0 = 1n << 5n;
    const ENFORCE = 1n << 6n;
    const IPV6 = 1n << 7n;
    const allowed = l4 ? 0xfn | PSEUDO | MANGLED0 | ENFORCE | IPV6 : 0xfn;
    if (flags & ~allowed) return -BigInt(EINVAL);
    if (offset > 0xffff || offset & 1) return -EFAULT;
    const p = this.pkt;
    if (offset + 2 > p.len) return -EFAULT;
    const at = p.data + offset;
    const dv = new DataView(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength);
    let sum = dv.getUint16(at, true);
    if (l4 && flags & MANGLED0 && !(flags & ENFORCE) && sum === 0) return 0n;
    const size = Number(flags & 0xfn);
    const f = Number(from & 0xffffffffn);
    const t = Number(to & 0xffffffffn);
    switch (size) {
      case 0:
        if (from !== 0n) return -BigInt(EINVAL);
        sum = csumReplaceByDiff(sum, t);
        break;
      case 2:
        sum = l4 ? csumReplace4(sum, f & 0xffff, t & 0xffff) : csumReplace2(sum, f & 0xffff, t & 0xffff);
        break;
      case 4:
        sum = csumReplace4(sum, f, t);
        break;
      default:
        return -BigInt(EINVAL);
    }
    if (l4 && flags & MANGLED0 && sum === 0) sum = 0xffff;
    dv.setUint16(at, sum, true);
    return 0n;
  }

  funcTarget(addr: bigint): number {
    if (addr >> 32n !== BigInt(FUNC_REGION)) this.faultAt(`callback argument 0x${addr.toString(16)} is not a function pointer`);
    return Number(addr & 0xffffffffn);
  }

  bpfLoop(): bigint {
    const r = this.regs;
    const nr = Number(r[1] & 0xffffffffn);
    const target = this.funcTarget(r[2]);
    const ctx = r[3];
    if (r[4] !== 0n) return -BigInt(EINVAL);
    if (nr > 1 << 23) return -BigInt(E2BIG);
    for (let i = 0; i < nr; i++) {
      const ret = this.callFunction(target, [BigInt(i), ctx]);
      if (ret !== 0n) return BigInt(i + 1);
    }
    return BigInt(nr);
  }

  forEachMapElem(): bigint {
    const r = this.regs;
    const mi = this.mapOf(r[1]);
    const map = r[1];
    const target = this.funcTarget(r[2]);
    const ctx = r[3];
    if (r[4] !== 0n) return -BigInt(EINVAL);
    const m = this.maps.maps[mi];
    let count = 0;
    const keyRegion = this.space.add('scratch', 'for_each_map_elem key', new Uint8Array(Math.max(8, m.def.keySize)), false);
    try {
      for (const e of this.maps.dump(mi)) {
        keyRegion.bytes.set(e.key);
        const hit = this.maps.lookupRegion(mi, e.key, this.cpu);
        if (!hit) continue;
        count++;
        const ret = this.callFunction(target, [map, AddressSpace.base(keyRegion.id), AddressSpace.base(hit.region.id) + BigInt(hit.off), ctx]);
        if (ret !== 0n) break;
      }
    } finally {
      this.space.remove(keyRegion.id);
    }
    return BigInt(count);
  }
}

function div64(a: bigint, b: bigint, signed: number): bigint {
  if (b === 0n) return 0n;
  if (!signed) return a / b;
  return BigInt.asUintN(64, BigInt.asIntN(64, a) / BigInt.asIntN(64, b));
}

function mod64(a: bigint, b: bigint, signed: number): bigint {
  if (b === 0n) return a;
  if (!signed) return a % b;
  return BigInt.asUintN(64, BigInt.asIntN(64, a) % BigInt.asIntN(64, b));
}

/** One 32-bit ALU op on unsigned operands; result unsigned 32-bit. */
export function alu32(op: number, a: number, b: number, off: number): number {
  switch (op) {
    case 0x00: return (a + b) >>> 0;
    case 0x10: return (a - b) >>> 0;
    case 0x20: return Math.imul(a, b) >>> 0;
    case 0x30:
      if (b === 0) return 0;
      if (off) return Math.trunc((a | 0) / (b | 0)) >>> 0;
      return Math.floor(a / b) >>> 0;
    case 0x40: return (a | b) >>> 0;
    case 0x50: return (a & b) >>> 0;
    case 0x60: return (a << (b & 31)) >>> 0;
    case 0x70: return a >>> (b & 31);
    case 0x80: return -a >>> 0;
    case 0x90:
      if (b === 0) return a;
      if (off) return (a | 0) % (b | 0) >>> 0;
      return a % b;
    case 0xa0: return (a ^ b) >>> 0;
    case 0xb0:
      if (off === 8) return ((b << 24) >> 24) >>> 0;
      if (off === 16) return ((b << 16) >> 16) >>> 0;
      return b;
    case 0xc0: return ((a | 0) >> (b & 31)) >>> 0;
  }
  throw new Error(`alu32: bad op ${op}`);
}

/** The 64-bit ALU ops, exported for unit tests and the NFP simulator's cross-checks. */
export function alu64(op: number, a: bigint, b: bigint, off = 0): bigint {
  switch (op) {
    case 0x00: return (a + b) & M64;
    case 0x10: return (a - b) & M64;
    case 0x20: return (a * b) & M64;
    case 0x30: return div64(a, b, off);
    case 0x40: return a | b;
    case 0x50: return a & b;
    case 0x60: return (a << (b & 63n)) & M64;
    case 0x70: return a >> (b & 63n);
    case 0x80: return -a & M64;
    case 0x90: return mod64(a, b, off);
    case 0xa0: return a ^ b;
    case 0xb0: return off ? BigInt.asUintN(64, BigInt.asIntN(off, b)) : b;
    case 0xc0: return BigInt.asUintN(64, BigInt.asIntN(64, a) >> (b & 63n));
  }
  throw new Error(`alu64: bad op ${op}`);
}

function packetTypeOf(prog: BpfProgram, opts: RunOptions): ProgramType {
  return opts.progType ?? prog.type;
}

/**
 * Run `prog` on one packet. `obj` supplies the other programs (for tail calls)
 * and map definitions; `maps` holds map state and is mutated.
 */
export function runProgram(
  prog: BpfProgram,
  obj: BpfObject | { programs?: BpfProgram[]; maps: MapDef[] },
  maps: MapRuntime,
  packet: Uint8Array,
  opts: RunOptions = {},
): RunResult {
  const type = packetTypeOf(prog, opts);
  const cpu = opts.cpu ?? 0;
  const limit = opts.insnLimit ?? 1_000_000;
  const space = maps.space;
  let pkt: PacketBuffer;
  let xdp: XdpContext | undefined;
  let skb: SkbContext | undefined;
  if (packet.length < 14) fail('NC3004', { packet: opts.packetNumber ?? 1, len: packet.length, what: 'BPF_PROG_TEST_RUN', min: 14 });
  if (type === 'xdp') {
    let metaLen = 0;
    let ingress = 1;
    let rxq = 0;
    if (opts.ctxIn && opts.ctxIn.length >= 24) {
      const dv = new DataView(opts.ctxIn.buffer, opts.ctxIn.byteOffset, opts.ctxIn.byteLength);
      metaLen = dv.getUint32(0, true);
      ingress = dv.getUint32(12, true) || 1;
      rxq = dv.getUint32(16, true);
    }
    const maxLen = XDP_PAGE - XDP_HEADROOM - SKB_SHARED_INFO;
    if (packet.length > maxLen) fail('NC3004', { packet: opts.packetNumber ?? 1, len: packet.length, what: `XDP test_run (at most ${maxLen})`, min: 14 });
    const region = space.add('packet', 'packet', xdpPage(space), true, PACKET_REGION);
    region.bytes.set(packet, XDP_HEADROOM - metaLen);
    pkt = new PacketBuffer(region, XDP_HEADROOM, packet.length - metaLen);
    pkt.meta = XDP_HEADROOM - metaLen;
    pkt.sync();
    xdp = new XdpContext(pkt);
    xdp.ingressIfindex = ingress;
    xdp.rxQueueIndex = rxq;
    space.add('ctx', 'xdp_md', XDP_MD_BYTES, false, CTX_REGION).ctx = xdp;
  } else if (type === 'sched_cls' || type === 'sched_act' || type === 'socket_filter') {
    // The kernel's skb test_run (bpf_prog_test_run_skb, checked on 6.18) refuses
    // with EINVAL a frame whose EtherType promises an IPv4 or IPv6 header the
    // frame does not hold in full: IPv4 below 14 + 20 bytes (IHL is not looked
    // at), IPv6 below 14 + 40. Other EtherTypes (ARP, VLAN, 802.3) run from 14.
    const etherType = (packet[12] << 8) | packet[13];
    const l3 = etherType === 0x0800 ? 20 : etherType === 0x86dd ? 40 : 0;
    if (packet.length < 14 + l3) {
      fail('NC3004', {
        packet: opts.packetNumber ?? 1,
        len: packet.length,
        what: `skb test_run with EtherType 0x${etherType.toString(16).padStart(4, '0')} (the ${etherType === 0x0800 ? 'IPv4' : 'IPv6'} header)`,
        min: 14 + l3,
      });
    }
    const region = space.add('packet', 'packet', new Uint8Array(TC_HEADROOM + packet.length + SKB_SHARED_INFO), true, PACKET_REGION);
    region.bytes.set(packet, TC_HEADROOM);
    pkt = new PacketBuffer(region, TC_HEADROOM, packet.length);
    skb = SkbContext.init(pkt, opts.ctxIn);
    space.add('ctx', '__sk_buff', skb.fields, false, CTX_REGION).ctx = skb;
  } else {
    fail('NC3005', { type });
  }
  const m = new Machine(obj, maps, type, pkt, xdp, skb, opts, limit, cpu);
  const retval = m.runEntry(prog);
  const out =
    type === 'xdp' ? pkt.bytes.slice(pkt.meta, pkt.end) : pkt.bytes.slice(pkt.data, pkt.end);
  const result: RunResult = {
    retval,
    packet: out,
    perfEvents: m.perfEvents,
    ringbuf: m.ringbuf,
    tracePrintk: m.trace,
    insnsExecuted: m.insns,
    ctxOut: xdp ? xdp.ctxOut() : skb!.ctxOut(),
  };
  if (m.redirect) result.redirect = m.redirect;
  return result;
}
