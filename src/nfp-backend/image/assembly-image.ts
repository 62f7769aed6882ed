/**
 * A plain NFP instruction list (`nicoff asm prog.s -o prog.nfp`, one
 * instruction per line, assembled by isa/word-list.ts) -> NfpImage.
 *
 * Such a list has no eBPF, no maps and no labels; branches name absolute
 * code-store addresses. Each branch becomes a relocation by where it goes, so
 * the image can still be moved to another slot:
 *   inside the program (startPc .. startPc + length - 1) -> branch (program-relative)
 *   abi.donePc                                           -> done
 *   a firmware helper address (abi.helpers)              -> helper (by helper id)
 * A branch anywhere else is refused (NC6028, naming the line): the program
 * could not know what lives there. `immed` values are left alone, since a
 * number cannot be told from an address.
 */
import { fail } from '../../diagnostics/diagnostic.js';
import { decodeInsn } from '../isa/codec.js';
import type { WordListRow } from '../isa/word-list.js';
import { NIC_FIRMWARE_ABI, type NfpFirmwareAbi, type NfpProgramType } from '../sim/sim-types.js';
import { FIRMWARE_HELPERS, isRelocatedBranch, sectionLocator, validateNfpImage, type NfpImage, type NfpRelocation } from './nfp-image.js';

export interface AssemblyImageOptions {
  programType?: NfpProgramType;
  abi?: NfpFirmwareAbi;
  name?: string;
  file?: string;
}

export function imageFromAssembly(rows: readonly WordListRow[], opts: AssemblyImageOptions = {}): NfpImage {
  const abi = opts.abi ?? NIC_FIRMWARE_ABI;
  const n = rows.length;
  if (n === 0) fail('NC6027', { reason: 'the instruction list is empty' }, { file: opts.file });
  if (abi.startPc + n > abi.codeStoreWords) {
    fail('NC6027', { reason: `${n} instructions at ${abi.startPc} end past the ${abi.codeStoreWords}-word code store` }, { file: opts.file });
  }
  const helperAt = new Map<number, number>();
  for (const [id, key] of FIRMWARE_HELPERS) helperAt.set(abi.helpers[key], id);
  const relocations: NfpRelocation[] = [];
  rows.forEach((row, pc) => {
    const insn = decodeInsn(row.word);
    if (!isRelocatedBranch(insn)) return;
    const t = insn.target;
    if (t >= abi.startPc && t < abi.startPc + n) relocations.push({ pc, kind: 'branch', value: t - abi.startPc });
    else if (t === abi.donePc) relocations.push({ pc, kind: 'done', value: 0 });
    else if (helperAt.has(t)) relocations.push({ pc, kind: 'helper', value: helperAt.get(t)! });
    else {
      fail(
        'NC6028',
        {
          index: relocations.length,
          pc,
          kind: 'branch',
          reason: `target .${t} is outside the program (${abi.startPc}..${abi.startPc + n - 1}) and is neither the done address ${abi.donePc} nor a firmware helper`,
        },
        { file: opts.file, line: row.line },
      );
    }
  });
  const image: NfpImage = {
    programType: opts.programType ?? 'xdp',
    abi,
    stackDepth: 0,
    words: rows.map((r) => r.word),
    relocations,
    labels: {},
    maps: [],
    ebpf: new Uint8Array(0),
    addressMap: [],
    sourceLines: [],
    verifierFacts: [],
  };
  if (opts.name !== undefined) image.name = opts.name;
  validateNfpImage(image, sectionLocator(opts.file));
  return image;
}
