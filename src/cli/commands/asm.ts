import { Option, type Command } from 'commander';
import { fail } from '../../diagnostics/diagnostic.js';
import { assembleText, formatWord } from '../../nfp-backend/isa/word-list.js';
import { imageFromAssembly } from '../../nfp-backend/image/assembly-image.js';
import { imageFromListing, isNfpListing } from '../../nfp-backend/image/golden-listing.js';
import { imageSummary } from '../../nfp-backend/image/image-listing.js';
import { writeNfpImage } from '../../nfp-backend/image/write-image.js';
import type { NfpProgramType } from '../../nfp-backend/sim/sim-types.js';
import { readInputFile } from '../input-files.js';
import { writeFileAtomic } from '../atomic-write.js';
import { printData, printJson, type GlobalOptions } from '../output.js';

export function registerAsm(program: Command): void {
  program
    .command('asm')
    .description(
      'assemble NFP instructions (one per line, the syntax `disasm --nfp-words` prints) into loaded-form words with ECC; ' +
        'a golden-style listing (`# program type:` header), or any input with `-o FILE.nfp`, becomes an NFP image instead',
    )
    .argument('<source>', 'NFP assembly text, or a golden-style listing (../shared/nfp-golden format)')
    .option('-o, --output <file>', 'write the words (hexadecimal, one per line) to this file instead of stdout; an NFP image (prog.nfp) for a listing or when the name ends in .nfp')
    .addOption(new Option('--type <type>', 'program type of an image made from a plain instruction list (a listing names its own)').choices(['xdp', 'tc']))
    .action(function (this: Command, file: string) {
      const opts = this.optsWithGlobals() as GlobalOptions & { output?: string; type?: NfpProgramType };
      const text = new TextDecoder().decode(readInputFile(file));
      const listing = isNfpListing(text);
      if (listing || opts.output?.endsWith('.nfp')) {
        if (!opts.output) fail('NC8001', { reason: 'a listing assembles into an NFP image: give -o FILE.nfp' });
        if (listing && opts.type) fail('NC8001', { reason: 'the listing sets its own program type (its `# program type:` line); drop --type' });
        const image = listing ? imageFromListing(text, file) : imageFromAssembly(assembleText(text, file), { programType: opts.type, file });
        writeFileAtomic(opts.output, writeNfpImage(image));
        if (opts.json) return printJson({ file, output: opts.output, image: imageSummary(image) });
        return;
      }
      if (opts.type) fail('NC8001', { reason: '--type applies only when writing an NFP image (-o FILE.nfp)' });
      const rows = assembleText(text, file);
      const words = rows.map((r) => formatWord(r.word));
      if (opts.output) writeFileAtomic(opts.output, words.join('\n') + '\n');
      if (opts.json) return printJson({ file, words: rows.map((r, i) => ({ line: r.line, text: r.text, word: words[i] })), output: opts.output });
      if (!opts.output) printData(words.join('\n'));
    });
}
