import { basename } from 'node:path';
import { Option, type Command } from 'commander';
import { fail } from '../../diagnostics/diagnostic.js';
import { loadObject } from '../../ebpf/load-object.js';
import { COMPILE_FIRMWARES, compileProgram, type CompiledProgram, type CompileFirmware, type CompileMode } from '../../compiler/compile-program.js';
import { isPassName, PASS_NAMES, type PassName } from '../../compiler/optimize/passes.js';
import { formatImageListing, imageSummary, listNfpImage } from '../../nfp-backend/image/image-listing.js';
import { NIC_FIRMWARE_CAPS } from '../../verifier/nfp-target.js';
import { writeNfpImage } from '../../nfp-backend/image/write-image.js';
import { writeFileAtomic } from '../atomic-write.js';
import { readInputFile } from '../input-files.js';
import { printData, printJson, table, type GlobalOptions } from '../output.js';
import { selectPrograms } from '../select-programs.js';

interface CompileCommandOptions extends GlobalOptions {
  prog?: string;
  output?: string;
  mode: CompileMode;
  firmware: CompileFirmware;
  pass: string[];
  startPc?: string;
  donePc?: string;
  helperAddress: Record<number, number>;
  listing?: boolean;
}

function collectPass(value: string, previous: string[]): string[] {
  if (!isPassName(value)) fail('NC8001', { reason: `--no-pass ${value}: no such pass (passes: ${PASS_NAMES.join(', ')})` });
  return [...previous, value];
}

function parseAddress(option: string, text: string): number {
  const n = /^(0x[0-9a-f]+|\d+)$/i.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 0 || n >= 1 << 14) fail('NC8001', { reason: `${option} ${text}: expected a code-store address 0..16383 (decimal or 0x hex)` });
  return n;
}

function collectHelperAddress(value: string, previous: Record<number, number>): Record<number, number> {
  const m = /^(\d+)=(.+)$/.exec(value);
  if (!m) fail('NC8001', { reason: `--helper-address ${value}: expected HELPER_ID=ADDRESS, e.g. 1=0x200` });
  return { ...previous, [Number(m![1])]: parseAddress('--helper-address', m![2]!) };
}

function mpps(pps: number): string {
  return `${(pps / 1e6).toFixed(1)} Mpps`;
}

function cycleRows(c: CompiledProgram): string[][] {
  const e = c.cycles;
  if (!e.worst || !e.typical) return [['cycles per packet', `not estimated: ${e.unavailable ?? 'unknown'}`]];
  const line = `line rate ${mpps(e.lineRatePps)} (2x10GbE, 64-byte frames)`;
  return [
    ['cycles per packet', `worst path ${e.worst.cycles} (${e.worst.sleep} asleep), typical ${e.typical.cycles.toFixed(1)} (each branch 50/50); ${e.latencyModel}`],
    [
      'modelled throughput',
      `worst ${mpps(e.worstPps!)}, typical ${mpps(e.typicalPps!)} on an Agilio CX (50 MEs x 4 contexts, 800 MHz); ${line}` +
        (e.worstPps! >= e.lineRatePps ? ': the program keeps up with line rate even on its worst path (firmware receive and transmit work is not modelled)' : ': below line rate on the worst path'),
    ],
  ];
}

/** `prog.o` -> `prog.nfp`; several programs: `prog.NAME.nfp` (in the current directory, as a compiler's a.out). */
function defaultOutput(file: string, program: string, several: boolean): string {
  const stem = basename(file).replace(/\.o$/, '');
  return several ? `${stem}.${program}.nfp` : `${stem}.nfp`;
}

function summaryRows(c: CompiledProgram, output: string): string[][] {
  return [
    ['program', `${c.name} (${c.programType})`],
    ['eBPF instructions in', String(c.ebpfSlots)],
    // The outro starts at the abort block; everything before it is the prologue and the program's own words.
    ['mode', c.mode === 'optimize' ? `optimize (${c.passes.length ? c.passes.join(', ') : 'every pass off'})` : 'kernel-compat (the Linux nfp JIT\'s words)'],
    [
      'firmware',
      c.firmware === 'software-nfp'
        ? `software-nfp (nic-firmware ABI; array values kept flat${c.lowered.arrayAddressLookups ? `: ${c.lowered.arrayAddressLookups} array lookup(s) computed in place, so the image needs that firmware` : ', not needed by this image'})`
        : 'nic-firmware (as published; every map lookup calls the firmware)',
    ],
    ['NFP instructions out', `${c.image.words.length} (${c.lowered.programWords} prologue and program, ${c.image.words.length - c.lowered.programWords} outro and nop tail)`],
    ['stack', `${c.image.stackDepth} bytes of local memory (of ${NIC_FIRMWARE_CAPS.stackBytes} per context)`],
    ...cycleRows(c),
    ['maps', c.image.maps.length ? c.image.maps.map((m) => `${m.name} -> table ${m.tableId}`).join(', ') : 'none'],
    ['image', output],
  ];
}

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('verify an eBPF object for the NFP and lower it to NFP microcode (an ELF firmware image, EM_NFP); exit 1 when the NFP cannot take it')
    .argument('<object>', 'eBPF ELF object built by clang')
    .option('--prog <name>', 'only this program (default: every program of the object)')
    .option('-o, --output <file>', 'image to write (default: OBJECT.nfp in the current directory; OBJECT.PROG.nfp for several programs)')
    .addOption(
      new Option('--mode <mode>', "optimize: every pass (see --no-pass); kernel-compat: exactly the words of the Linux nfp JIT")
        .choices(['optimize', 'kernel-compat'])
        .default('optimize'),
    )
    .addOption(
      new Option('--firmware <name>', 'the firmware the image is for: software-nfp (nic-firmware ABI, array values kept flat, so array lookups can be address computations) or nic-firmware as published')
        .choices([...COMPILE_FIRMWARES])
        .default('software-nfp'),
    )
    .option('--no-pass <name>', `optimizing mode: switch one pass off (repeatable): ${PASS_NAMES.join(', ')}`, collectPass, [])
    .option('--start-pc <address>', 'load slot the image is relocated for (NFP_NET_CFG_BPF_START; default 3072)')
    .option('--done-pc <address>', "firmware's done address the exits branch to (NFP_NET_CFG_BPF_DONE; default 1)")
    .option('--helper-address <id=address>', 'firmware helper address by helper id, repeatable (defaults: 1=0x200 2=0x300 3=0x400 25=0x500)', collectHelperAddress, {})
    .option('--listing', 'print the annotated NFP listing (eBPF instruction and source line above each group)')
    .action(function (this: Command, file: string) {
      const opts = this.optsWithGlobals() as CompileCommandOptions;
      const obj = loadObject(readInputFile(file), { path: file });
      const progs = selectPrograms(obj, opts.prog);
      if (opts.output !== undefined && progs.length > 1) {
        fail('NC8001', { reason: `${file} has ${progs.length} programs; name one with --prog to use -o, or drop -o` });
      }
      // Compile every program before writing anything, so a refusal leaves no partial output.
      const compiled = progs.map((p) => ({ c: compileProgram(obj, p, {
        mode: opts.mode,
        firmware: opts.firmware,
        disabledPasses: opts.pass as PassName[],
        file,
        ...(opts.startPc !== undefined ? { startPc: parseAddress('--start-pc', opts.startPc) } : {}),
        ...(opts.donePc !== undefined ? { donePc: parseAddress('--done-pc', opts.donePc) } : {}),
        helperAddresses: opts.helperAddress,
      }), output: opts.output ?? defaultOutput(file, p.name, progs.length > 1) }));
      for (const { c, output } of compiled) writeFileAtomic(output, writeNfpImage(c.image));
      if (opts.json) {
        printJson({
          file,
          mode: opts.mode,
          programs: compiled.map(({ c, output }) => ({
            name: c.name,
            type: c.programType,
            ebpfInstructions: c.ebpfSlots,
            mode: c.mode,
            passes: c.passes,
            firmware: c.firmware,
            arrayAddressLookups: c.lowered.arrayAddressLookups,
            nfpInstructions: c.image.words.length,
            programWords: c.lowered.programWords,
            stackBytes: c.image.stackDepth,
            cycles: c.cycles,
            maps: c.image.maps.map((m) => ({ name: m.name, tableId: m.tableId })),
            output,
            image: imageSummary(c.image),
          })),
        });
        return;
      }
      for (const { c, output } of compiled) {
        printData(table(summaryRows(c, output)));
        if (opts.listing) printData(formatImageListing(c.image, listNfpImage(c.image), output).join('\n'));
      }
    });
}
