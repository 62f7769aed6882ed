#!/usr/bin/env node
/**
 * nicoff's command line: parsing, printing and exit statuses only. Each
 * command lives in commands/<name>.ts and calls the library underneath.
 */
import { Command, CommanderError, Option } from 'commander';
import { configureColour, reportFailure, type GlobalOptions } from './output.js';
import { EXIT } from '../diagnostics/diagnostic.js';

/**
 * The commands, loaded on demand: a run loads only the command it names (all
 * of them for the top-level help or an unknown name). Loading every command's
 * library up front was most of the start-up time (`nicoff --version`: 350 ms
 * with all 319 modules, on a machine where node itself needs 185 ms).
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  inspect: async () => (await import('./commands/inspect.js')).registerInspect,
  disasm: async () => (await import('./commands/disasm.js')).registerDisasm,
  run: async () => (await import('./commands/run.js')).registerRun,
  asm: async () => (await import('./commands/asm.js')).registerAsm,
  verify: async () => (await import('./commands/verify.js')).registerVerify,
  compile: async () => (await import('./commands/compile.js')).registerCompile,
  tls: async () => (await import('./commands/tls.js')).registerTls,
  load: async () => (await import('./commands/device.js')).registerDevice,
  unload: async () => (await import('./commands/device.js')).registerDevice,
  status: async () => (await import('./commands/device.js')).registerDevice,
  map: async () => (await import('./commands/device.js')).registerDevice,
};

const EXIT_HELP = `
Exit status:
  0  success
  1  the program was rejected, or a check failed
  2  bad input or usage (malformed file, unknown option)
  3  internal error in nicoff

Environment:
  NO_COLOR       turn colour off (as does --no-color, or output that is not a terminal)
  NICOFF_DEBUG   print a stack trace with internal errors`;

export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('nicoff')
    .description('eBPF to Netronome NFP microcode: load, verify, compile, run')
    .version('0.1.0')
    .addOption(new Option('--json', 'print a machine-readable JSON result on stdout'))
    .addOption(new Option('--no-color', 'turn colour off'))
    .showSuggestionAfterError(true)
    .addHelpText('after', EXIT_HELP)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  // Global options take no values, so the first word that is not an option names the command.
  const named = argv.slice(2).find((word) => !word.startsWith('-'));
  const wanted = named !== undefined && named in COMMANDS ? [named] : Object.keys(COMMANDS);
  // One module may register several commands (load, unload, status, map): register each module once.
  for (const register of new Set(await Promise.all(wanted.map((name) => COMMANDS[name]!())))) register(program);
  for (const c of program.commands) c.exitOverride().addHelpText('after', EXIT_HELP);
  program.hook('preAction', (_this, action) => configureColour(action.optsWithGlobals() as GlobalOptions));
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
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

// A reader that goes away (`nicoff ... | head`) is not an error: stop quietly, as
// tools killed by SIGPIPE do (Node ignores that signal and raises EPIPE instead).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
  });
}

const code = await main(process.argv);
process.exitCode = code;
