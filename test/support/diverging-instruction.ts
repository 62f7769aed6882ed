/**
 * Where two compiled images of one program part ways on a packet: both are
 * run on the software NFP with a per-word trace, each word is mapped back to
 * the eBPF instruction it was lowered from (the image's address map), and the
 * two eBPF paths are compared. Used by the equivalence suite to print the
 * first diverging instruction of a failing packet.
 */
import type { NfpImage } from '../../src/nfp-backend/image/nfp-image.js';
import { toLoadedProgram } from '../../src/nfp-backend/image/nfp-image.js';
import { listNfpImage } from '../../src/nfp-backend/image/image-listing.js';
import { NfpSimulator } from '../../src/nfp-backend/sim/nfp-simulator.js';

/** eBPF instruction of each word, from the image listing's groups (-1 for the prologue and outro). */
function ebpfOfWord(image: NfpImage): Int32Array {
  const out = new Int32Array(image.words.length).fill(-1);
  for (const g of listNfpImage(image)) if (g.insn !== undefined) for (const w of g.words) out[w.pc] = g.insn;
  return out;
}

/** The eBPF instructions a packet passed through on an image (consecutive repeats folded). */
export function ebpfPath(image: NfpImage, bytes: Uint8Array): number[] {
  const map = ebpfOfWord(image);
  const path: number[] = [];
  const sim = new NfpSimulator(toLoadedProgram(image), {
    onWord: (pc) => {
      const insn = pc >= 0 && pc < map.length ? map[pc]! : -1;
      if (insn >= 0 && path[path.length - 1] !== insn) path.push(insn);
    },
  });
  sim.runPacket({ bytes: bytes.slice() });
  return path;
}

/** A sentence naming the first eBPF instruction after which the two images took different paths, or saying they took the same one. */
export function firstDivergingInstruction(reference: NfpImage, candidate: NfpImage, bytes: Uint8Array): string {
  const a = ebpfPath(reference, bytes);
  const b = ebpfPath(candidate, bytes);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      const at = i === 0 ? 'at the start' : `after eBPF insn ${a[i - 1]}`;
      return `first diverging instruction: ${at} the kernel-compatible image went to insn ${a[i] ?? 'exit'}, the optimized image to insn ${b[i] ?? 'exit'}`;
    }
  }
  return `same eBPF path (${a.length} instructions, last ${a[a.length - 1] ?? 'none'}); the difference is in the words of one of them`;
}
