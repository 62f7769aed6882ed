/**
 * Return values of each program type by name, and which of them let the
 * packet go on (passed up the stack or transmitted), which `run --out` keeps.
 */
import type { ProgramType } from './bpf-object.js';

interface VerdictRow {
  value: number;
  name: string;
  forwards: boolean;
}

const XDP: VerdictRow[] = [
  { value: 0, name: 'XDP_ABORTED', forwards: false },
  { value: 1, name: 'XDP_DROP', forwards: false },
  { value: 2, name: 'XDP_PASS', forwards: true },
  { value: 3, name: 'XDP_TX', forwards: true },
  { value: 4, name: 'XDP_REDIRECT', forwards: true },
];

const TC: VerdictRow[] = [
  { value: -1, name: 'TC_ACT_UNSPEC', forwards: true },
  { value: 0, name: 'TC_ACT_OK', forwards: true },
  { value: 1, name: 'TC_ACT_RECLASSIFY', forwards: false },
  { value: 2, name: 'TC_ACT_SHOT', forwards: false },
  { value: 3, name: 'TC_ACT_PIPE', forwards: true },
  { value: 4, name: 'TC_ACT_STOLEN', forwards: false },
  { value: 5, name: 'TC_ACT_QUEUED', forwards: false },
  { value: 6, name: 'TC_ACT_REPEAT', forwards: false },
  { value: 7, name: 'TC_ACT_REDIRECT', forwards: true },
  { value: 8, name: 'TC_ACT_TRAP', forwards: false },
];

function rowsFor(type: ProgramType): VerdictRow[] | undefined {
  if (type === 'xdp') return XDP;
  if (type === 'sched_cls' || type === 'sched_act') return TC;
  return undefined;
}

/** XDP and TC return values are 32-bit; the kernel reads R0's low word as signed for TC. */
function low32Signed(retval: bigint): number {
  return Number(BigInt.asIntN(32, retval));
}

export function verdictName(type: ProgramType, retval: bigint): string {
  const v = low32Signed(retval);
  const row = rowsFor(type)?.find((r) => r.value === v);
  if (row) return row.name;
  // Socket filters return the number of bytes to keep; other values are shown as numbers.
  if (type === 'socket_filter') return v === 0 ? 'DROP' : `KEEP_${retval & 0xffffffffn}`;
  return `RET_${v}`;
}

export function verdictForwards(type: ProgramType, retval: bigint): boolean {
  const v = low32Signed(retval);
  const row = rowsFor(type)?.find((r) => r.value === v);
  if (row) return row.forwards;
  return type === 'socket_filter' ? (retval & 0xffffffffn) !== 0n : false;
}
