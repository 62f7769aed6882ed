/**
 * Progress on a terminal: a spinner for work of unknown length (load), a bar
 * for captures. Shown only when stderr is a sized terminal and the output is
 * not --json, so scripts and CI logs see nothing. ora is loaded only when a
 * spinner is shown (it and its dependencies cost start-up time otherwise).
 */
import type { Ora } from 'ora';

export async function startSpinner(text: string, opts: { json?: boolean } = {}): Promise<Ora | undefined> {
  // A terminal of zero columns (a pty nobody sized) would make ora clear lines forever.
  if (opts.json || !process.stderr.isTTY || !(process.stderr.columns > 0)) return undefined;
  const { default: ora } = await import('ora');
  return ora({ stream: process.stderr, text, discardStdin: false }).start();
}

export function progressBar(verb: string, done: number, total: number): string {
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : width;
  return `${verb} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} packets`;
}
