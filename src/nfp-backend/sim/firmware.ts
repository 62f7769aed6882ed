/**
 * The firmware around the program (nfp-microcode.md A.5, A.6, D.4): it builds
 * the packet vector and enters the program, answers the helper subroutine
 * addresses, and reads the verdict at the done address.
 *
 * Helper ABI (nic-firmware's lookup routine; update/delete/perf by analogy):
 * A0 = table id, B0 = return address, key at *l$index0 (the LM bytes of the
 * words, little-endian within a word), update's value at *l$index2, update's
 * flags in R4 (GPR 8), perf_event_output: A1 = pointer type (1 scalar/NULL,
 * 4 map value, 6 stack, 8 packet), data pointer R4 (GPR 8/9), size R5 (GPR 10).
 * Results in GPR 0 and 1, both banks: lookup -> 40-bit value address or 0;
 * update/delete -> 0 or a negative errno as bpf_map_*_elem gives (array delete
 * -EINVAL, hash full -E2BIG, NOEXIST on an existing key -EEXIST, EXIST on a
 * missing one -ENOENT, bad flags -EINVAL); perf_event_output -> 0. The helper
 * reads its LM pointers (which must be past their write delay), touches no
 * other register (so GPRs 12-22 are preserved), leaves LM0 as it found it
 * ("restores LM0"), costs the latency model's helper figure as a sleep on the
 * 'map-helper' class, and returns to B0. Its instructions are not counted.
 */
import { fault, lmEarlyFault, lmReadBytes, MEM_CLASS, chargeSleep, type MeContext, PREV } from './machine-state.js';
import {
  CTM_BUFFER_BYTES,
  CTM_DATA_OFFSET,
  CTM_RESIDENT_BYTES,
  ctmAddress,
  hex,
  joinAddress40,
  PACKET_LENGTH_MASK,
  stackBase,
  vectorBase,
  vectorLengthWord,
  VECTOR_WORD,
} from './memory-map.js';
import type { NfpAction, NfpFirmwareAbi, NfpPacketResult, NfpPacketStats } from './sim-types.js';
import { helperCycles } from './latency-model.js';

export type HelperKind = keyof NfpFirmwareAbi['helpers'];

/** Action bytes the outro leaves in A0[23:16] (A.6) and what the firmware does. */
export const ACTION_BYTES: ReadonlyMap<number, NfpAction> = new Map([
  [0x11, 'pass'],
  [0x22, 'drop'],
  [0x44, 'tx'],
  [0x82, 'abort'],
  [0x02, 'drop-silent'],
]);

/** The per-context stack the firmware zeroes on entry (bytes). */
const STACK_BYTES = 512;

/** Firmware entry: packet into CTM, vector into LM, A22 and LM pointers, pc = start. */
export function startPacket(s: MeContext, bytes: Uint8Array): void {
  const abi = s.me.abi;
  const length = bytes.length;
  if (length > PACKET_LENGTH_MASK) {
    fault('NC6057', abi.startPc, { reason: `${length} bytes do not fit the packet vector's 14-bit length (at most ${PACKET_LENGTH_MASK})` });
  }
  s.resetRegisters();
  s.packetIn = bytes;
  s.ctmLoaded = false;
  s.perfEvents = NO_EVENTS;
  const lm = s.lm;
  const stack = stackBase(s.index);
  lm.fill(0, stack >>> 2, (stack + STACK_BYTES) >>> 2);
  const v = vectorBase(s.index) >>> 2;
  for (let i = 0; i < 16; i++) lm[v + i] = 0;
  lm[v + VECTOR_WORD.length] = vectorLengthWord(length, s.packetNumber);
  lm[v + VECTOR_WORD.ctmAddress] = ctmAddress(s.packetNumber, CTM_DATA_OFFSET);
  s.a[22] = stack;
  const ptr = s.lmAddr;
  ptr[0] = stack;
  ptr[1] = v << 2;
  ptr[2] = 0;
  ptr[3] = 0;
  s.pc = abi.startPc;
  s.fromPc = abi.startPc;
}

/** Shared until the first perf_event_output of a packet (frozen: results may hold it). */
export const NO_EVENTS: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];

/**
 * Output packets are views into 64 KiB chunks: one small typed-array object per
 * packet instead of a separately allocated backing store (which costs about a
 * microsecond in V8, more than running a short program).
 */
const CHUNK_BYTES = 1 << 16;
let chunk = new ArrayBuffer(CHUNK_BYTES);
let chunkUsed = 0;

function packetBytes(n: number): Uint8Array {
  if (n > CHUNK_BYTES >>> 4) return new Uint8Array(n);
  if (chunkUsed + n > CHUNK_BYTES) {
    chunk = new ArrayBuffer(CHUNK_BYTES);
    chunkUsed = 0;
  }
  const view = new Uint8Array(chunk, chunkUsed, n);
  chunkUsed += (n + 7) & ~7;
  return view;
}

/** Packet-vector flags word: the program selected a receive queue. */
const QUEUE_SELECTED = 1 << 4;

/** At the done address: A0[23:16] and the packet as the vector now describes it. */
export function finishPacket(s: MeContext, stats: NfpPacketStats): NfpPacketResult {
  const donePc = s.me.abi.donePc;
  const actionByte = (s.a[0]! >>> 16) & 0xff;
  const action = ACTION_BYTES.get(actionByte);
  if (action === undefined) fault('NC6047', donePc, { byte: hex(actionByte, 2) });
  const v = vectorBase(s.index) >>> 2;
  const length = s.lm[v + VECTOR_WORD.length]! & PACKET_LENGTH_MASK;
  const offset = s.lm[v + VECTOR_WORD.ctmAddress]! & 0x1fff;
  // XDP queue select (nfp-microcode.md A.5): flags bit 4 says word 6 bits 7:0 hold the queue.
  const queue = s.lm[v + VECTOR_WORD.flags]! & QUEUE_SELECTED ? { rxQueue: s.lm[v + VECTOR_WORD.queue]! & 0xff } : undefined;
  const input = s.packetIn;
  if (!s.ctmLoaded && offset === CTM_DATA_OFFSET && length === input.length) {
    // Packet memory never touched: the packet leaves as it came (the caller's own bytes, not a copy).
    return { status: 'ok', actionByte, action: action!, packet: input, perfEvents: s.perfEvents, stats, ...queue };
  }
  const packet = packetBytes(length);
  s.loadCtm();
  const inCtm = CTM_BUFFER_BYTES - offset;
  const tail = Math.max(0, input.length - CTM_RESIDENT_BYTES);
  if (offset > CTM_BUFFER_BYTES || length > inCtm + tail) {
    fault('NC6057', donePc, { reason: `the packet vector describes ${length} bytes at CTM offset ${offset}, beyond the packet buffer` });
  }
  if (length <= 32) {
    const ctm = s.ctm;
    for (let i = 0; i < length; i++) packet[i] = ctm[offset + i]!;
  } else if (length <= inCtm) {
    packet.set(s.ctm.subarray(offset, offset + length));
  } else {
    packet.set(s.ctm.subarray(offset, CTM_BUFFER_BYTES));
    packet.set(input.subarray(CTM_RESIDENT_BYTES, CTM_RESIDENT_BYTES + length - inCtm), inCtm);
  }
  return { status: 'ok', actionByte, action: action!, packet, perfEvents: s.perfEvents, stats, ...queue };
}

function setReturn(s: MeContext, value: number): void {
  s.a[0] = s.b[0] = value;
  s.a[1] = s.b[1] = value < 0 ? -1 : 0;
}

function readKeyish(s: MeContext, pc: number, pointer: number, out: Uint8Array): Uint8Array {
  if (s.lmReady[pointer]! > s.cycles) lmEarlyFault(s, pc, pointer);
  return lmReadBytes(s.lm, s.lmAddr[pointer]!, out.length, out);
}

/** Run a firmware helper at `pc`; the context then sleeps for the helper's cost and resumes at B0. */
export function runHelper(s: MeContext, pc: number, kind: HelperKind): void {
  const me = s.me;
  const returnPc = s.b[0]! >>> 0;
  let cost: number;
  if (kind === 'perfEventOutput') {
    if (s.perfEvents === NO_EVENTS) s.perfEvents = [];
    s.perfEvents.push(perfRecord(s, pc));
    setReturn(s, 0);
    cost = helperCycles(me.latency, kind, false);
  } else {
    const tableId = s.a[0]! >>> 0;
    const table = me.maps.table(tableId);
    if (!table) fault('NC6055', pc, { helper: kind, reason: `A0 = ${tableId} is no map table id (tables: ${me.maps.tableIds.join(', ') || 'none'})` });
    const key = readKeyish(s, pc, 0, table.keyScratch);
    const isArray = table.isArray;
    if (kind === 'mapLookup') {
      const slot = table.slotOf(key);
      // The value address: low 32 bits in GPR0, bits 39:32 in GPR1 (0 when not found).
      const address = slot < 0 ? 0 : table.base + slot * table.stride;
      s.a[0] = s.b[0] = address % 0x1_0000_0000;
      s.a[1] = s.b[1] = Math.floor(address / 0x1_0000_0000);
    } else if (kind === 'mapUpdate') {
      const value = readKeyish(s, pc, 2, table.valueScratch);
      setReturn(s, table.update(key, value, s.a[8]! >>> 0));
    } else {
      setReturn(s, table.delete(key));
    }
    cost = helperCycles(me.latency, kind, isArray);
  }
  s.pk = PREV.none;
  s.pc = returnPc;
  s.fromPc = pc;
  chargeSleep(s, MEM_CLASS.helper, cost);
}

function perfRecord(s: MeContext, pc: number): Uint8Array {
  const type = s.a[1]! >>> 0;
  const low = s.a[8]! >>> 0;
  const size = s.a[10]! >>> 0;
  const bad: (reason: string) => never = (reason) => fault('NC6055', pc, { helper: 'perfEventOutput', reason });
  if (size > 0xffff) bad(`size ${size} in R5`);
  switch (type) {
    case 1:
      return new Uint8Array(0);
    case 6:
      if (low + size > 4096) bad(`stack data at LM ${hex(low)} + ${size} is past local memory`);
      return lmReadBytes(s.lm, low, size);
    case 8: {
      const offset = low & 0xffff;
      if (low >>> 16 !== (0x8000 | s.packetNumber)) {
        bad(`packet data pointer ${hex(low, 8)} is not this context's packet`);
      }
      if (offset + size > CTM_BUFFER_BYTES) bad(`packet data at offset ${offset} + ${size} is past the CTM buffer`);
      s.loadCtm();
      return s.ctm.slice(offset, offset + size);
    }
    case 4: {
      const address = joinAddress40(low, s.a[9]! >>> 0);
      const table = s.me.maps.tableAt(address);
      if (!table || address - table.base + size > table.values.length) bad(`map value pointer ${hex(address)} + ${size} is outside the map tables`);
      return table.values.slice(address - table.base, address - table.base + size);
    }
    default:
      return bad(`pointer type ${type} in A1 is not 1, 4, 6 or 8`);
  }
}
