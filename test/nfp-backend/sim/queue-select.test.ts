/**
 * XDP queue selection (`ctx->rx_queue_index = r2`): the kernel JIT's words
 * (lowering catalogue, "XDP queue select") set flag bit 4 of packet-vector
 * word 4 and the queue in word 6, clamped to 64 above 255 (nfp-microcode.md
 * A.5). The firmware reads them at the done address; the simulator reports
 * the queue per packet.
 */
import { describe, test, expect } from '@jest/globals';
import { assembleText } from '../../../src/nfp-backend/isa/word-list.js';
import { imageFromAssembly } from '../../../src/nfp-backend/image/assembly-image.js';
import { toLoadedProgram } from '../../../src/nfp-backend/image/nfp-image.js';
import { NfpSimulator } from '../../../src/nfp-backend/sim/nfp-simulator.js';

/** r2 = QUEUE; ctx->rx_queue_index = r2 (the catalogue's words, relocated to pc 3..7); return XDP_PASS. */
function program(queue: number) {
  const text = [
    'immed[gprB_22, 0x3fff]',
    'alu[gprB_22, gprB_22, AND, *l$index1]',
    `immed[gprA_4, 0x${queue.toString(16)}], gpr_wrboth`,
    'alu[--, gprA_4, AND~, 0xff]',
    'beq[.3080], defer[2]',
    'alu_shf[*l$index1[4], *l$index1[4], OR, 0x1, <<4]',
    'ld_field[*l$index1[6], 0001, gprB_4]',
    'ld_field[*l$index1[6], 0001, 0x40]',
    'br[.1], defer[2]',
    'alu[gprA_0, --, B, 0x0]',
    'ld_field[gprA_0, 1100, 0x11, <<16]',
  ].join('\n');
  return toLoadedProgram(imageFromAssembly(assembleText(text)));
}

const packet = { bytes: new Uint8Array(60).fill(0xab) };

describe('XDP queue selection through the packet vector', () => {
  test.each([
    [0, 0],
    [5, 5],
    [255, 255],
    [256, 64],
    [300, 64],
  ])('rx_queue_index = %d selects queue %d', (store, queue) => {
    for (const engine of ['interpret', 'translate'] as const) {
      const r = new NfpSimulator(program(store), { engine }).runPacket(packet);
      expect(r.status).toBe('ok');
      if (r.status !== 'ok') return;
      expect(r.action).toBe('pass');
      expect(r.rxQueue).toBe(queue);
    }
  });

  test('a program that does not select a queue reports none', () => {
    const text = ['immed[gprB_22, 0x3fff]', 'alu[gprB_22, gprB_22, AND, *l$index1]', 'br[.1], defer[2]', 'alu[gprA_0, --, B, 0x0]', 'ld_field[gprA_0, 1100, 0x11, <<16]'].join('\n');
    const r = new NfpSimulator(toLoadedProgram(imageFromAssembly(assembleText(text)))).runPacket(packet);
    expect(r.status === 'ok' && r.rxQueue).toBe(undefined);
  });
});
