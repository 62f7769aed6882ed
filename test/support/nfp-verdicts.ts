/**
 * nfp-microcode.md A.6 written out for the tests: the action byte the outro
 * leaves for a program's R0 and what the firmware does with it. Kept apart
 * from src/compiler/program-frame.ts on purpose: the tests hold the compiled
 * code to the spec's table, not to the compiler's own copy of it.
 */
export interface NfpVerdict {
  byte: number;
  action: string;
}

const XDP: Record<number, NfpVerdict> = {
  0: { byte: 0x82, action: 'abort' },
  1: { byte: 0x22, action: 'drop' },
  2: { byte: 0x11, action: 'pass' },
  3: { byte: 0x44, action: 'tx' },
};

/** XDP: R0 >= 4 (XDP_REDIRECT too) is an abort on the NFP. TC direct action: SHOT drops, STOLEN/QUEUED drop silently, REDIRECT transmits, the rest pass. */
export function nfpVerdict(type: 'xdp' | 'tc', r0: number): NfpVerdict {
  const v = r0 >>> 0;
  if (type === 'xdp') return XDP[v] ?? { byte: 0x82, action: 'abort' };
  if (v === 2) return { byte: 0x22, action: 'drop' };
  if (v === 4 || v === 5) return { byte: 0x02, action: 'drop-silent' };
  if (v === 7) return { byte: 0x44, action: 'tx' };
  return { byte: 0x11, action: 'pass' };
}
