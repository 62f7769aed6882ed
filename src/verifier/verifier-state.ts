/**
 * The verifier state of one path: the call frames (registers and a 512-byte
 * stack each) and the references the program holds (ring buffer records,
 * sockets) that must be released before exit.
 *
 * The stack is kept like the kernel keeps it: 8-byte slots, one kind per
 * byte (invalid, misc, zero, spill), and for a slot whose lowest bytes hold
 * a spilled register, that register's state exactly.
 */
import { NOT_INIT, pointerReg, type RegState } from './register-state.js';

export const MAX_BPF_STACK = 512;
export const MAX_CALL_FRAMES = 8;
export const SLOT_SIZE = 8;

/** Per-byte stack contents. */
export const enum ByteKind {
  /** Never written (reading it is fine for privileged programs; it is then an unknown value). */
  Invalid = 0,
  /** Some data the verifier does not track. */
  Misc = 1,
  /** Known to be zero. */
  Zero = 2,
  /** Part of a spilled register (kept in StackSlot.spilled). */
  Spill = 3,
}

export interface StackSlot {
  /** Byte b describes address slotBase + b, slotBase = -8 * (spi + 1). Never mutated. */
  readonly kinds: readonly ByteKind[];
  /** The spilled register when kinds[0] is Spill (a spill starts at the slot's lowest address). */
  readonly spilled: RegState | null;
}

export const EMPTY_SLOT: StackSlot = Object.freeze({ kinds: Object.freeze([0, 0, 0, 0, 0, 0, 0, 0]) as readonly ByteKind[], spilled: null });

export interface FuncFrame {
  regs: RegState[];
  /** Indexed by spi: slot spi covers [-8(spi+1), -8spi). Missing entries are EMPTY_SLOT. */
  slots: (StackSlot | undefined)[];
  /** Bytes of stack this frame has touched (a multiple of 8): the kernel's allocated_stack. */
  allocated: number;
  /** The call instruction that created the frame; -1 for the main program. */
  callsite: number;
  subprog: number;
  frameNo: number;
  /** Identifies this frame instance across copies of the state (stack read marks are kept per frame instance). */
  uid: number;
}

export interface AcquiredRef {
  id: number;
  /** The instruction that acquired it (for "Unreleased reference id=N alloc_insn=M"). */
  insn: number;
}

export interface VerifierState {
  frames: FuncFrame[];
  refs: AcquiredRef[];
}

export function newFrame(frameNo: number, callsite: number, subprog: number, uid: number): FuncFrame {
  const regs: RegState[] = new Array(11).fill(NOT_INIT);
  regs[10] = pointerReg('stack', { frame: frameNo });
  return { regs, slots: [], allocated: 0, callsite, subprog, frameNo, uid };
}

export function cloneFrame(f: FuncFrame): FuncFrame {
  return { regs: f.regs.slice(), slots: f.slots.slice(), allocated: f.allocated, callsite: f.callsite, subprog: f.subprog, frameNo: f.frameNo, uid: f.uid };
}

/** A stack slot of one frame instance, as one number (spi < 64). */
export function slotKey(uid: number, spi: number): number {
  return uid * 64 + spi;
}

export function cloneState(s: VerifierState): VerifierState {
  return { frames: s.frames.map(cloneFrame), refs: s.refs.slice() };
}

export function curFrame(s: VerifierState): FuncFrame {
  return s.frames[s.frames.length - 1];
}

export function slotAt(f: FuncFrame, spi: number): StackSlot {
  return f.slots[spi] ?? EMPTY_SLOT;
}

/** The kernel's is_spilled_reg: a register spill starts at the slot's lowest byte. */
export function isSpilled(slot: StackSlot): boolean {
  return slot.kinds[0] === ByteKind.Spill && slot.spilled !== null;
}

export function isSpilledScalar(slot: StackSlot): boolean {
  return isSpilled(slot) && slot.spilled!.type === 'scalar';
}

/** spi and byte index of a (negative) frame offset. */
export function slotOf(off: number): { spi: number; byte: number } {
  const spi = Math.floor((-off - 1) / SLOT_SIZE);
  return { spi, byte: off + SLOT_SIZE * (spi + 1) };
}

export function growStack(f: FuncFrame, bytes: number): void {
  const rounded = Math.ceil(bytes / SLOT_SIZE) * SLOT_SIZE;
  if (rounded > f.allocated) f.allocated = rounded;
}

/**
 * Visit every register and spilled register of every frame; `fn` returns a
 * replacement or undefined. Null checks, packet-range updates and linked
 * scalars all reach copies wherever they sit.
 */
export function mapAllRegs(s: VerifierState, fn: (reg: RegState) => RegState | undefined): void {
  for (const f of s.frames) {
    for (let r = 0; r < 10; r++) {
      const next = fn(f.regs[r]);
      if (next) f.regs[r] = next;
    }
    for (let spi = 0; spi < f.slots.length; spi++) {
      const slot = f.slots[spi];
      if (!slot || !isSpilled(slot)) continue;
      const next = fn(slot.spilled!);
      if (next) f.slots[spi] = { kinds: slot.kinds, spilled: next };
    }
  }
}

export function forEachReg(s: VerifierState, fn: (reg: RegState) => void): void {
  for (const f of s.frames) {
    for (let r = 0; r < 10; r++) fn(f.regs[r]);
    for (const slot of f.slots) if (slot && isSpilled(slot)) fn(slot.spilled!);
  }
}
