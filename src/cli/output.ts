/**
 * Everything the commands print goes through here: data to stdout, messages
 * to stderr, colour only on a terminal and never under NO_COLOR or --no-color.
 */
import chalk from 'chalk';
import { exitStatusFor, formatDiagnostic, NicoffError, EXIT, type Diagnostic } from '../diagnostics/diagnostic.js';

export interface GlobalOptions {
  json?: boolean;
  color?: boolean;
}

/**
 * chalk already turns colour off when stdout is not a terminal; it ignores
 * NO_COLOR (toolchain.md §5), so nicoff applies that and --no-color itself.
 */
export function configureColour(opts: GlobalOptions): void {
  if (process.env.NO_COLOR || opts.color === false || opts.json) chalk.level = 0;
}

export function printData(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

/** Stable JSON on stdout: two-space indent, bigints as decimal strings. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
}

export function printMessage(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : text + '\n');
}

export function printDiagnostic(d: Diagnostic, opts: GlobalOptions): void {
  if (opts.json) {
    // Under --json the diagnostic is data too: one object on stdout, nothing else.
    printJson({ ok: false, error: d });
    return;
  }
  const label = d.category === 'internal' ? chalk.red('internal error') : chalk.red('error');
  printMessage(`${label} ${formatDiagnostic(d)}`);
  for (const n of d.notes ?? []) printMessage(`  note: ${n}`);
}

/**
 * Turn anything a command threw into one message and an exit status.
 * NicoffErrors carry their own; anything else is a bug in nicoff (exit 3),
 * reported without a stack trace unless NICOFF_DEBUG is set.
 */
export function reportFailure(err: unknown, opts: GlobalOptions): number {
  if (err instanceof NicoffError) {
    printDiagnostic(err.diagnostic, opts);
    return exitStatusFor(err.diagnostic.category);
  }
  const reason = err instanceof Error ? err.message : String(err);
  printDiagnostic({ code: 'NC9001', category: 'internal', message: `internal error: ${reason}`, location: {} }, opts);
  if (process.env.NICOFF_DEBUG && err instanceof Error && err.stack) printMessage(err.stack);
  return EXIT.internal;
}

export const style = {
  heading: (s: string) => chalk.bold(s),
  dim: (s: string) => chalk.dim(s),
  good: (s: string) => chalk.green(s),
  bad: (s: string) => chalk.red(s),
  warn: (s: string) => chalk.yellow(s),
};

/** Render rows as aligned columns (plain text; the first row is the header). */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd())
    .join('\n');
}
