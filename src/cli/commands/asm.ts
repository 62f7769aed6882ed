import type { Command } from 'commander';
import { assembleText, formatWord } from '../../nfp-backend/isa/word-list.js';
import { readInputFile } from '../input-files.js';
import { writeFileAtomic } from '../atomic-write.js';
import { printData, printJson, type GlobalOptions } from '../output.js';

export function registerAsm(program: Command): void {
  program
    .command('asm')
    .description('assemble NFP instructions (one per line, the syntax `disasm --nfp-words` prints) into loaded-form words with ECC')
    .argument('<source>', 'NFP assembly text')
    .option('-o, --output <file>', 'write the words (hexadecimal, one per line) to this file instead of stdout')
    .action(function (this: Command, file: string) {
      const opts = this.optsWithGlobals() as GlobalOptions & { output?: string };
      const rows = assembleText(new TextDecoder().decode(readInputFile(file)), file);
      const words = rows.map((r) => formatWord(r.word));
      if (opts.output) writeFileAtomic(opts.output, words.join('\n') + '\n');
      if (opts.json) return printJson({ file, words: rows.map((r, i) => ({ line: r.line, text: r.text, word: words[i] })), output: opts.output });
      if (!opts.output) printData(words.join('\n'));
    });
}
