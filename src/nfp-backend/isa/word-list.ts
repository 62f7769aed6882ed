/**
 * Text files of NFP instruction words and of NFP assembly, one per line: what
 * `nicoff disasm --nfp-words` and `nicoff asm` read. Errors name the line.
 */
import { fail, NicoffError } from '../../diagnostics/diagnostic.js';
import { decodeInsn } from './codec.js';
import { formatInsn } from './disassembler.js';
import { assembleWord } from './assembler.js';

export interface WordListRow {
  line: number;
  word: bigint;
  text: string;
}

/** Strip `#` and `;` comments and surrounding blanks. */
function content(line: string): string {
  return line.replace(/[#;].*$/, '').trim();
}

/** One 64-bit word in hexadecimal per line (with or without 0x); blank lines and comments skipped. */
export function disassembleWordList(text: string, file?: string): WordListRow[] {
  const rows: WordListRow[] = [];
  text.split('\n').forEach((raw, i) => {
    const s = content(raw);
    if (!s) return;
    const line = i + 1;
    if (!/^(0x)?[0-9a-fA-F]{1,16}$/.test(s)) fail('NC6001', { word: JSON.stringify(s), reason: 'not a 64-bit hexadecimal word' }, { file, line });
    const word = BigInt(s.startsWith('0x') ? s : `0x${s}`);
    try {
      rows.push({ line, word, text: formatInsn(decodeInsn(word)) });
    } catch (err) {
      if (err instanceof NicoffError) {
        err.diagnostic.location = { ...err.diagnostic.location, file, line };
      }
      throw err;
    }
  });
  return rows;
}

/** One instruction per line in the golden files' syntax; returns loaded-form words (ECC included). */
export function assembleText(text: string, file?: string): WordListRow[] {
  const rows: WordListRow[] = [];
  text.split('\n').forEach((raw, i) => {
    const s = content(raw);
    if (!s) return;
    const line = i + 1;
    try {
      rows.push({ line, word: assembleWord(s), text: s });
    } catch (err) {
      if (err instanceof NicoffError) {
        err.diagnostic.location = { ...err.diagnostic.location, file, line };
      }
      throw err;
    }
  });
  return rows;
}

export function formatWord(word: bigint): string {
  return word.toString(16).padStart(16, '0');
}
