import type { Command } from 'commander';
import { Option } from 'commander';
import type { ProgramType } from '../../ebpf/bpf-object.js';
import { loadObject } from '../../ebpf/load-object.js';
import { fail, formatDiagnostic, EXIT, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { factsToJson } from '../../verifier/facts-json.js';
import { verifyInputFromObject } from '../../verifier/program-input.js';
import { verifyProgram } from '../../verifier/verify-program.js';
import type { VerifyTarget } from '../../verifier/verify-types.js';
import { readInputFile } from '../input-files.js';
import { printData, printJson, printMessage, style, type GlobalOptions } from '../output.js';
import { selectPrograms } from '../select-programs.js';

interface VerifyCommandOptions extends GlobalOptions {
  prog?: string;
  type?: keyof typeof TYPE_NAMES;
  target: VerifyTarget;
  /** true for a bare --log. */
  log?: string | true;
  facts?: boolean;
}

/** --type spellings (the ones tc and ip use) -> nicoff program types. */
const TYPE_NAMES = { xdp: 'xdp', tc: 'sched_cls', action: 'sched_act', socket: 'socket_filter' } as const satisfies Record<string, ProgramType>;

function logLevelOf(log: string | true | undefined): 0 | 1 | 2 {
  if (log === undefined) return 0;
  if (log === true || log === '1') return 1;
  if (log === '2') return 2;
  fail('NC8001', { reason: `--log takes level 1 (the failing path) or 2 (every instruction), not ${log}` });
}

/** The refusal line names the object and, for objects with several programs, which one. */
function located(d: Diagnostic, file: string, program: string): Diagnostic {
  return { ...d, location: { ...d.location, file: d.location.file ?? file, section: d.location.section ?? program } };
}

const ms = (ns: number): string => `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 0)} ms`;

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('verify the programs of an eBPF object the way the kernel would (exit 1 when one is refused)')
    .argument('<object>', 'eBPF ELF object built by clang')
    .option('--prog <name>', 'only this program (default: every program)')
    .addOption(new Option('--type <type>', 'verify as this program type instead of the one the section name gives').choices(Object.keys(TYPE_NAMES)))
    .addOption(new Option('--target <target>', 'host: the kernel\'s rules; nfp: also the NFP offload\'s').choices(['host', 'nfp']).default('host'))
    .option('--log [level]', 'print the verifier log: 1 the path that failed (default), 2 every instruction with its state')
    .option('--facts', 'print the per-instruction facts the compiler uses, as JSON')
    .action(function (this: Command, file: string) {
      const opts = this.optsWithGlobals() as VerifyCommandOptions;
      const logLevel = logLevelOf(opts.log);
      const obj = loadObject(readInputFile(file), { path: file });
      const progs = selectPrograms(obj, opts.prog);
      const typeOverride = opts.type ? TYPE_NAMES[opts.type] : undefined;
      const verified = progs.map((p) => {
        const input = verifyInputFromObject(obj, p, typeOverride);
        return { input, result: verifyProgram(input, { target: opts.target, logLevel }) };
      });
      const refused = verified.some((v) => !v.result.ok);

      if (opts.json) {
        printJson({
          ok: !refused,
          file,
          target: opts.target,
          programs: verified.map(({ input, result }) => ({
            name: input.name,
            type: input.type,
            ok: result.ok,
            stats: result.stats,
            ...(result.ok ? {} : { error: result.error, kernelStyle: result.kernelStyle }),
            ...(logLevel ? { log: result.log } : {}),
            ...(opts.facts && result.ok ? { facts: factsToJson(result.facts, input) } : {}),
          })),
        });
      } else {
        for (const { input, result } of verified) {
          const s = result.stats;
          const numbers = `${s.processedInsns} insns processed, ${s.totalStates} states (peak ${s.peakStates}), ${ms(s.timeNs)}`;
          if (result.ok) {
            printData(`${style.heading(input.name)} (${input.type}, ${opts.target}): ${style.good('ok')}: ${numbers}`);
            if (logLevel) printData(result.log.join('\n'));
            if (opts.facts) printData(JSON.stringify(factsToJson(result.facts, input), null, 2));
          } else {
            // One line per refusal: code, instruction, source line, reason; the trace only when asked.
            printMessage(`${style.bad('error')} ${formatDiagnostic(located(result.error, file, input.name))}`);
            if (logLevel) printMessage(result.log.join('\n'));
          }
        }
      }
      // A verifier failure inside nicoff is exit 3, not a verdict on the program.
      const internal = verified.some((v) => !v.result.ok && v.result.error.category === 'internal');
      if (refused) process.exitCode = internal ? EXIT.internal : EXIT.rejected;
    });
}
