/**
 * The one table from eBPF opcode byte to lowering. Each family module owns its
 * rows; adding an opcode is a row there and its tests.
 */
import { ALU_LOWERINGS } from './lower-alu.js';
import { ARITH_LOWERINGS } from './lower-alu-arith.js';
import { CALL_LOWERINGS } from './lower-call.js';
import { JUMP_LOWERINGS } from './lower-jump.js';
import { PACKET_LOWERINGS } from './lower-packet.js';
import { STACK_MAP_LOWERINGS } from './lower-stack-map.js';
import type { Lowering } from './lowering-context.js';

function buildTable(families: readonly (readonly [number, Lowering][])[]): ReadonlyMap<number, Lowering> {
  const table = new Map<number, Lowering>();
  for (const rows of families) {
    for (const [opcode, lowering] of rows) {
      if (table.has(opcode)) throw new Error(`internal: opcode 0x${opcode.toString(16)} has two lowerings`);
      table.set(opcode, lowering);
    }
  }
  return table;
}

export const KERNEL_LOWERINGS: ReadonlyMap<number, Lowering> = buildTable([
  ALU_LOWERINGS,
  ARITH_LOWERINGS,
  JUMP_LOWERINGS,
  CALL_LOWERINGS,
  PACKET_LOWERINGS,
  STACK_MAP_LOWERINGS,
]);
