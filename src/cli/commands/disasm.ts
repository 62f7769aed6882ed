import type { Command } from 'commander';
import { loadObject } from '../../ebpf/load-object.js';
import { listProgram } from '../../ebpf/program-listing.js';
import { readInputFile } from '../input-files.js';
import { printData, printJson, style, type GlobalOptions } from '../output.js';
import { selectPrograms } from '../select-programs.js';
import { disassembleWordList, formatWord } from '../../nfp-backend/isa/word-list.js';
import { fail } from '../../diagnostics/diagnostic.js';
import { isNfpImage, readNfpImage } from '../../nfp-backend/image/read-image.js';
import { formatImageListing, imageSummary, listNfpImage } from '../../nfp-backend/image/image-listing.js';

export function registerDisasm(program: Command): void {
  program
    .command('disasm')
    .description('disassemble the programs of an eBPF object (llvm-objdump-19 syntax), or list an NFP image (prog.nfp) grouped by eBPF instruction')
    .argument('[object]', 'eBPF ELF object built by clang, or an NFP image (ELF machine EM_NFP) written by `nicoff asm`')
    .option('--prog <name>', 'only this program')
    .option('--nfp-words <file>', 'instead: decode NFP instruction words (hexadecimal, one per line) and print one line of NFP assembly per word')
    .option('--source', 'show the source line (from BTF line info) above each group of instructions')
    .option('--alu32', 'print as `llvm-objdump-19 -d --mattr=+alu32` does (w registers for sub-word memory ops, 32-bit atomics decoded)')
    .action(function (this: Command, file: string | undefined) {
      const opts = this.optsWithGlobals() as GlobalOptions & { prog?: string; source?: boolean; alu32?: boolean; nfpWords?: string };
      if (opts.nfpWords !== undefined) {
        if (file !== undefined) fail('NC8001', { reason: 'give either an object or --nfp-words, not both' });
        const rows = disassembleWordList(new TextDecoder().decode(readInputFile(opts.nfpWords)), opts.nfpWords);
        if (opts.json) return printJson({ file: opts.nfpWords, words: rows.map((r) => ({ line: r.line, word: formatWord(r.word), text: r.text })) });
        return printData(rows.map((r) => r.text).join('\n'));
      }
      if (file === undefined) fail('NC8001', { reason: 'disasm needs an object file or --nfp-words FILE' });
      const bytes = readInputFile(file);
      if (isNfpImage(bytes)) {
        const image = readNfpImage(bytes, file);
        const groups = listNfpImage(image);
        if (opts.json) return printJson({ file, image: imageSummary(image), groups });
        return printData(formatImageListing(image, groups, file).join('\n'));
      }
      const obj = loadObject(bytes, { path: file });
      const progs = selectPrograms(obj, opts.prog);
      const result = progs.map((p) => ({ name: p.name, section: p.section, type: p.type, insns: listProgram(p, obj.maps, { alu32: !!opts.alu32 }) }));
      if (opts.json) return printJson({ file, programs: result });
      const out: string[] = [];
      for (const p of result) {
        out.push(`${style.heading(`Disassembly of ${p.name}`)} (section ${p.section}, ${p.type}):`);
        let lastSource = '';
        for (const l of p.insns) {
          if (l.function) out.push('', `${l.function}:`);
          if (opts.source && l.source) {
            const key = `${l.source.file}:${l.source.line}`;
            if (key !== lastSource) {
              out.push(style.dim(`; ${l.source.text.trim()}`) + style.dim(`  [${key}]`));
              lastSource = key;
            }
          }
          out.push(`${String(l.pc).padStart(8)}:\t${l.bytes}\t${l.text}` + (l.comment ? style.dim(`\t; ${l.comment}`) : ''));
        }
        out.push('');
      }
      printData(out.join('\n'));
    });
}
