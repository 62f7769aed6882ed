#!/usr/bin/env node
/**
 * nicoff's command line: parsing, printing and exit statuses only. Each
 * command lives in commands/<name>.ts and calls the library underneath.
 */
import { Command, CommanderError, Option } from 'commander';
import { configureColour, reportFailure, type GlobalOptions } from './output.js';
import { EXIT } from '../diagnostics/diagnostic.js';
import { registerInspect } from './commands/inspect.js';
import { registerDisasm } from './commands/disasm.js';
import { registerRun } from './commands/run.js';
import { registerAsm } from './commands/asm.js';
import { registerVerify } from './commands/verify.js';
import { registerTls } from './commands/tls.js';

const EXIT_HELP = `
Exit status:
  0  success
  1  the program was rejected, or a check failed
  2  bad input or usage (malformed file, unknown option)
  3  internal error in nicoff

Environment:
  NO_COLOR       turn colour off (as does --no-color, or output that is not a terminal)
  NICOFF_DEBUG   print a stack trace with internal errors`;

export function buildProgram(): Command {
  const program = new Command('nicoff')
    .description('eBPF to Netronome NFP microcode: load, verify, compile, run')
    .version('0.1.0')
    .addOption(new Option('--json', 'print a machine-readable JSON result on stdout'))
    .addOption(new Option('--no-color', 'turn colour off'))
    .showSuggestionAfterError(true)
    .addHelpText('after', EXIT_HELP)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerInspect(program);
  registerDisasm(program);
  registerRun(program);
  registerAsm(program);
  registerVerify(program);
  registerTls(program);
  for (const c of program.commands) c.exitOverride().addHelpText('after', EXIT_HELP);
  program.hook('preAction', (_this, action) => configureColour(action.optsWithGlobals() as GlobalOptions));
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; every usage error is exit 2 (commander says 1).
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return EXIT.ok;
      return EXIT.badInput;
    }
    const opts = program.opts() as GlobalOptions;
    return reportFailure(err, { json: opts.json || argv.includes('--json'), color: opts.color });
  }
}

const code = await main(process.argv);
process.exitCode = code;
