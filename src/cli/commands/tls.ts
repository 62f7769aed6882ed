/**
 * `nicoff tls replay <capture>`: a capture through the autonomous NIC TLS
 * offload model (src/tls-offload/tls-replay.ts) and the printing of its
 * report. Parsing, printing, output files and exit statuses only.
 *
 * Exit status: 0 when the replay ran to the end of the capture, whatever it
 * found (connections without keys, unsupported ciphers, authentication
 * failures and a capture without any TLS are reported, not failures); 2 for a
 * capture cut short (everything before the cut is replayed, reported and
 * written first, as `nicoff run` does), an unreadable capture, key log or
 * link type, an output that cannot be written, or bad usage; 3 when the
 * replay reports an internal inconsistency (NC7008) or nicoff fails.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Ora } from 'ora';
import { progressBar, startSpinner } from '../progress.js';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, write, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { truncationDiagnostic } from '../../pcap/index.js';
import { fail, formatDiagnostic, makeDiagnostic, EXIT, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { keyLogFromCaptureSecrets, mergeKeyLogs, parseKeyLog, type KeyLog } from '../../tls-offload/keylog.js';
import { replayCaptureFile, type ReplaySource } from '../../tls-offload/tls-replay.js';
import { renderOffloadPlot } from '../../tls-offload/offload-plot.js';
import type { AuthFailure, ConnectionReport, DirectionReport, NicMode, ReplayReport, TlsCounterName, TlsCounters } from '../../tls-offload/replay-types.js';
import { readInputFile } from '../input-files.js';
import { writeFileAtomic } from '../atomic-write.js';
import { printData, printJson, printMessage, style, table, type GlobalOptions } from '../output.js';

interface TlsReplayOptions extends GlobalOptions {
  keylog?: string[];
  psk?: string;
  nic: NicMode;
  confirmDelay?: string;
  writePlaintext?: string;
  plot?: string;
}

/** The replay's own default (tls-offload.md §3b), printed in the summary when --confirm-delay is not given. */
const DEFAULT_CONFIRM_DELAY = 8;
/** Captures of at least this many bytes get a progress bar (when stderr is a terminal). */
const LARGE_CAPTURE_BYTES = 16 << 20;
/** Lists in the text summary (losses, authentication failures) stop after this many entries. */
const LIST_LIMIT = 20;

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function parsePsk(hex: string | undefined): Uint8Array | undefined {
  if (hex === undefined) return undefined;
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
    fail('NC8001', { reason: `--psk takes the pre-shared key as hex digits (an even number of them), not ${JSON.stringify(hex)}` });
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function parseConfirmDelay(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value > 1_000_000) {
    fail('NC8001', { reason: `--confirm-delay must be a whole number of packets from 0 to 1000000, not ${text}` });
  }
  return value;
}

/** The plaintext goes into a directory: refuse a path that is something else before replaying anything. */
function checkPlaintextDir(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) fail('NC7021', { dir, reason: 'it exists and is not a directory' }, { file: dir });
}

export function plaintextFileName(stream: number, role: DirectionReport['role']): string {
  return `stream-${stream}-${role}.bin`;
}

/** Plaintext is gathered into buffers of this size, written whole by libuv's threads. */
const STAGE_BYTES = 4 << 20;
/** At most this many stage buffers exist; when all are busy a full one is written synchronously. */
const MAX_STAGES = 6;

interface PlaintextFileState {
  fd: number;
  /** File position of the stage's first byte. */
  position: number;
  stage: Buffer | undefined;
  fill: number;
}

/**
 * Plaintext files written as the replay delivers records, whole or not at
 * all: a new directory is filled under a temporary name beside it and renamed
 * into place; into an existing one, every file goes to a temporary name first
 * and the renames come last. `abort` removes everything written.
 *
 * Records are copied into a few reused 4 MiB stage buffers, and each full
 * stage is written by libuv's threads at its file position while the replay
 * goes on decrypting: on a 120 MB capture the writes alone were a quarter of
 * the run when they were synchronous, and writing each record as it came from
 * fresh memory was slower still (measured: 1.3 s, 2.6 s, and this 1.0 s).
 */
class PlaintextDirWriter {
  private readonly fresh: boolean;
  private readonly root: string;
  private readonly files = new Map<string, PlaintextFileState>();
  private readonly idle: Buffer[] = [];
  private stages = 0;
  private pendingWrites = 0;
  private failed: unknown;
  private wakeUp: (() => void) | undefined;

  constructor(private readonly dir: string) {
    this.fresh = !existsSync(dir);
    this.root = this.fresh ? join(dirname(dir), `.${basename(dir)}.${process.pid}.tmp`) : dir;
    try {
      if (this.fresh) mkdirSync(this.root);
    } catch (err) {
      this.fail(err);
    }
  }

  private temp(name: string): string {
    return this.fresh ? join(this.root, name) : join(this.root, `.${name}.${process.pid}.tmp`);
  }

  private file(name: string): PlaintextFileState {
    let file = this.files.get(name);
    if (file === undefined) {
      file = { fd: openSync(this.temp(name), 'w'), position: 0, stage: undefined, fill: 0 };
      this.files.set(name, file);
    }
    return file;
  }

  /** Append `bytes` to file `name`. */
  write(name: string, bytes: Uint8Array): void {
    if (this.failed) return;
    try {
      const file = this.file(name);
      for (let at = 0; at < bytes.length; ) {
        if (!file.stage) file.stage = this.takeStage();
        const n = Math.min(bytes.length - at, file.stage.length - file.fill);
        file.stage.set(bytes.subarray(at, at + n), file.fill);
        file.fill += n;
        at += n;
        if (file.fill === file.stage.length) this.flushStage(file);
      }
    } catch (err) {
      this.failed = err; // reported by commit, after the replay has run
    }
  }

  private takeStage(): Buffer {
    const stage = this.idle.pop();
    if (stage) return stage;
    this.stages++;
    return Buffer.allocUnsafeSlow(STAGE_BYTES);
  }

  /** Hand the file's full (or last) stage to a libuv thread, or write it now when every stage is busy. */
  private flushStage(file: PlaintextFileState): void {
    const stage = file.stage!;
    const length = file.fill;
    const position = file.position;
    file.stage = undefined;
    file.fill = 0;
    file.position += length;
    if (this.idle.length === 0 && this.stages >= MAX_STAGES) {
      for (let at = 0; at < length; ) at += writeSync(file.fd, stage, at, length - at, position + at);
      this.idle.push(stage);
      return;
    }
    this.writeAsync(file.fd, stage, 0, length, position);
  }

  private writeAsync(fd: number, stage: Buffer, from: number, to: number, position: number): void {
    this.pendingWrites++;
    write(fd, stage, from, to - from, position, (err, written) => {
      this.pendingWrites--;
      if (err) this.failed ??= err;
      else if (from + written < to) return this.writeAsync(fd, stage, from + written, to, position + written); // a short write
      this.idle.push(stage);
      if (this.pendingWrites === 0) this.wakeUp?.();
    });
  }

  /** Let finished writes return their stages (called between replay steps). */
  breathe(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  private allWritten(): Promise<void> {
    if (this.pendingWrites === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeUp = () => {
        if (this.pendingWrites > 0) return;
        this.wakeUp = undefined;
        resolve();
      };
    });
  }

  /** Write the last stages, create the empty files named, close them all, then move them into place. */
  async commit(names: string[]): Promise<string[]> {
    try {
      for (const name of names) this.file(name);
      for (const file of this.files.values()) if (file.stage && !this.failed) this.flushStage(file);
    } catch (err) {
      this.failed ??= err;
    }
    await this.allWritten();
    try {
      if (this.failed) throw this.failed;
      this.closeAll();
      if (this.fresh) renameSync(this.root, this.dir);
      else for (const name of this.files.keys()) renameSync(this.temp(name), join(this.dir, name));
      return [...this.files.keys()];
    } catch (err) {
      this.removeAll();
      this.fail(err);
    }
  }

  /** Remove everything written (after the queued writes have finished with the files). */
  async abort(): Promise<void> {
    await this.allWritten();
    this.removeAll();
  }

  private removeAll(): void {
    this.closeAll();
    if (this.fresh) rmSync(this.root, { recursive: true, force: true });
    else for (const name of this.files.keys()) rmSync(this.temp(name), { force: true });
  }

  private closeAll(): void {
    for (const file of this.files.values()) {
      if (file.fd >= 0) closeSync(file.fd);
      file.fd = -1;
    }
  }

  private fail(err: unknown): never {
    fail('NC7021', { dir: this.dir, reason: (err as NodeJS.ErrnoException).code ?? String(err) }, { file: this.dir });
  }
}

// ---------------------------------------------------------------- text summary

/** What the summary shows of one direction, or of all of them added up. */
interface DirectionFigures {
  counters: TlsCounters;
  dataPackets: number;
  payloadBytes: number;
  offloadRatio: number;
  applicationRecords: number;
  applicationBytes: number;
  lossToResume: (number | undefined)[];
  unconfirmed: number;
}

function figuresOf(d: DirectionReport): DirectionFigures {
  return {
    counters: d.counters,
    dataPackets: d.dataPackets,
    payloadBytes: d.payloadBytes,
    offloadRatio: d.offloadRatio,
    applicationRecords: d.applicationRecords,
    applicationBytes: d.applicationBytes,
    lossToResume: d.lossToResume,
    unconfirmed: d.unconfirmedAtEnd ? 1 : 0,
  };
}

function totalFigures(report: ReplayReport, directions: DirectionReport[]): DirectionFigures {
  const sum = (f: (d: DirectionReport) => number): number => directions.reduce((a, d) => a + f(d), 0);
  return {
    counters: report.totals,
    dataPackets: sum((d) => d.dataPackets),
    payloadBytes: sum((d) => d.payloadBytes),
    offloadRatio: report.offloadRatio,
    applicationRecords: sum((d) => d.applicationRecords),
    applicationBytes: sum((d) => d.applicationBytes),
    lossToResume: directions.flatMap((d) => d.lossToResume),
    unconfirmed: sum((d) => (d.unconfirmedAtEnd ? 1 : 0)),
  };
}

const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`;

function resumed(losses: (number | undefined)[]): number[] {
  return losses.filter((l): l is number => l !== undefined);
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

type SummaryRow = [label: string, counter: string, value: (f: DirectionFigures) => string];

const counterRow = (label: string, name: TlsCounterName): SummaryRow => [label, name, (f) => String(f.counters[name])];

/** The rows of the per-direction table, in mlx5's counter names where the doc has one. */
const SUMMARY_ROWS: SummaryRow[] = [
  ['data packets (TCP segments)', '', (f) => String(f.dataPackets)],
  ['payload bytes', '', (f) => String(f.payloadBytes)],
  counterRow('NIC decrypted: packets', 'rx_tls_decrypted_packets'),
  counterRow('NIC decrypted: bytes', 'rx_tls_decrypted_bytes'),
  ['offload ratio (NIC bytes / payload)', '', (f) => percent(f.offloadRatio)],
  ['to software: packets', '', (f) => String(f.dataPackets - f.counters.rx_tls_decrypted_packets)],
  ['to software: bytes', '', (f) => String(f.payloadBytes - f.counters.rx_tls_decrypted_bytes)],
  counterRow('  in sequence, not all handled', 'rx_tls_pass_partial'),
  counterRow('  retransmission or duplicate', 'rx_tls_ooo_retrans'),
  counterRow('  after a hole, boundary kept', 'rx_tls_ooo_keep'),
  counterRow('  while searching', 'rx_tls_searching_pass'),
  counterRow('  awaiting confirmation', 'rx_tls_speculative_pass'),
  counterRow('  not offloaded', 'rx_tls_no_offload'),
  counterRow('record boundary lost', 'rx_tls_resync_lost'),
  counterRow('resync requests', 'rx_tls_resync_req_pkt'),
  counterRow('resync requests started', 'rx_tls_resync_req_start'),
  counterRow('chain check held', 'rx_tls_resync_req_end'),
  counterRow('chain failures (false matches)', 'rx_tls_resync_chain_fail'),
  counterRow('confirmations', 'rx_tls_resync_res_ok'),
  counterRow('skips (software already past)', 'rx_tls_resync_res_skip'),
  ['request unconfirmed at the end', '', (f) => String(f.unconfirmed)],
  ['loss to resumed offload: mean bytes', '', (f) => {
    const r = resumed(f.lossToResume);
    return r.length ? String(Math.round(r.reduce((a, b) => a + b, 0) / r.length)) : '-';
  }],
  ['loss to resumed offload: max bytes', '', (f) => {
    const r = resumed(f.lossToResume);
    return r.length ? String(Math.max(...r)) : '-';
  }],
  ['losses never resumed', '', (f) => String(f.lossToResume.length - resumed(f.lossToResume).length)],
  counterRow('NIC tag failures', 'rx_tls_err'),
  counterRow('records: NIC only', 'sw_records_hw'),
  counterRow('records: software only', 'sw_records_sw'),
  counterRow('records: mixed (re-encrypted)', 'sw_records_mixed'),
  counterRow('re-encrypted bytes', 'sw_reencrypted_bytes'),
  counterRow('software tag failures', 'sw_auth_fail'),
  ['application data records', '', (f) => String(f.applicationRecords)],
  ['application data bytes', '', (f) => String(f.applicationBytes)],
  counterRow('transmit: segments encrypted', 'tx_tls_encrypted_packets'),
  counterRow('transmit: bytes encrypted', 'tx_tls_encrypted_bytes'),
  counterRow('transmit: out of order', 'tx_tls_ooo'),
  counterRow('transmit: record replays', 'tx_tls_dump_packets'),
  counterRow('transmit: bytes replayed', 'tx_tls_dump_bytes'),
  counterRow('transmit: dropped, no sync data', 'tx_tls_drop_no_sync_data'),
];

/** One table: a row per figure, a right-aligned column per direction (or the total). */
function figuresTable(columns: { heading: string; figures: DirectionFigures }[], indent: string): string {
  const values = columns.map((c) => SUMMARY_ROWS.map(([, , value]) => value(c.figures)));
  const widths = columns.map((c, i) => Math.max(c.heading.length, ...values[i]!.map((v) => v.length)));
  const rows: string[][] = [['', 'counter', ...columns.map((c, i) => c.heading.padStart(widths[i]!))]];
  SUMMARY_ROWS.forEach(([label, counter], r) => rows.push([label, counter || '-', ...values.map((v, i) => v[r]!.padStart(widths[i]!))]));
  return table(rows)
    .split('\n')
    .map((line) => indent + line)
    .join('\n');
}

function authFailureLine(stream: number, d: DirectionReport, f: AuthFailure): string {
  return `authentication failure: stream ${stream} ${d.role} ${d.flow}, record ${f.record}, TCP seq ${f.tcpSeq} (checked on the ${f.where === 'nic' ? 'NIC' : 'host'})`;
}

function limited<T>(items: T[], render: (item: T) => string, indent: string): string[] {
  const lines = items.slice(0, LIST_LIMIT).map((item) => indent + render(item));
  if (items.length > LIST_LIMIT) lines.push(`${indent}... ${items.length - LIST_LIMIT} more`);
  return lines;
}

const STATUS_TEXT: Record<ConnectionReport['status'], string> = {
  decrypted: 'decrypted',
  'no-keys': 'no keys',
  'unsupported-cipher': 'unsupported cipher',
  'not-tls': 'not TLS',
};

function connectionSummary(c: ConnectionReport): string[] {
  const out: string[] = [];
  const tls = c.tlsVersion ? ` TLS ${c.tlsVersion}${c.cipherSuite ? ` ${c.cipherSuite}` : ''}` : '';
  const status = c.status === 'decrypted' ? style.good(STATUS_TEXT[c.status]) : style.warn(STATUS_TEXT[c.status]);
  out.push(style.heading(`stream ${c.stream}  client ${c.client}  server ${c.server}`) + `${tls}: ${status}`);
  for (const p of c.problems) out.push(`  ${p.category === 'internal' ? style.bad('internal') : style.warn('problem')} ${formatDiagnostic(p)}`);
  for (const d of c.directions) {
    out.push(`  ${d.role.padEnd(16)}  ${d.flow}${d.notOffloaded ? style.dim(`  (not offloaded: ${d.notOffloaded})`) : ''}`);
  }
  if (c.status !== 'decrypted') {
    // Nothing to decrypt: the packets only passed through (rx_tls_no_offload).
    for (const d of c.directions) out.push(`  ${d.role}: ${d.dataPackets} data packets, ${d.payloadBytes} payload bytes passed through (rx_tls_no_offload ${d.counters.rx_tls_no_offload})`);
    return out;
  }
  out.push(figuresTable(c.directions.map((d) => ({ heading: d.role, figures: figuresOf(d) })), '  '));
  for (const d of c.directions) {
    if (d.lossToResume.length) {
      const values = d.lossToResume.map((l) => (l === undefined ? 'never' : String(l)));
      const shown = values.slice(0, LIST_LIMIT).join(', ') + (values.length > LIST_LIMIT ? `, ... ${values.length - LIST_LIMIT} more` : '');
      out.push(`  loss to resumed offload, ${d.role} (bytes): ${shown}`);
    }
  }
  for (const d of c.directions) out.push(...limited(d.authFailures, (f) => style.bad(authFailureLine(c.stream, d, f)), '  '));
  return out;
}

function textSummary(report: ReplayReport, file: string, confirmDelay: number): string {
  const byStatus = (s: ConnectionReport['status']) => report.connections.filter((c) => c.status === s);
  const tls = report.connections.filter((c) => c.status !== 'not-tls');
  const notTls = byStatus('not-tls');
  const out: string[] = [];
  const counts = (['decrypted', 'no-keys', 'unsupported-cipher', 'not-tls'] as const)
    .map((s) => [STATUS_TEXT[s], byStatus(s).length] as const)
    .filter(([, count]) => count > 0)
    .map(([text, count]) => `${count} ${text}`);
  out.push(
    `${style.heading(`tls replay of ${file}`)}: ${plural(report.packets, 'packet')}, ${plural(report.connections.length, 'TCP connection')}${counts.length ? ` (${counts.join(', ')})` : ''}; ` +
      `NIC model ${report.nic}${report.nic === 'autonomous' ? `, software confirms resyncs after ${confirmDelay} packets at the earliest` : ''}`,
  );
  if (tls.length === 0) {
    out.push('no TLS connections: nothing to replay');
  }
  for (const c of tls) out.push('', ...connectionSummary(c));
  if (notTls.length) {
    const streams = notTls.slice(0, LIST_LIMIT).map((c) => c.stream).join(', ') + (notTls.length > LIST_LIMIT ? `, ... ${notTls.length - LIST_LIMIT} more` : '');
    out.push('', `not TLS (${plural(notTls.length, 'TCP connection')}): stream${notTls.length === 1 ? '' : 's'} ${streams}`);
  }
  if (tls.length) {
    const directions = tls.flatMap((c) => c.directions);
    out.push('', style.heading(`total over ${plural(directions.length, 'direction')} of ${plural(tls.length, 'TLS connection')}`));
    out.push(figuresTable([{ heading: 'total', figures: totalFigures(report, directions) }], '  '));
    const failures = tls.reduce((a, c) => a + c.directions.reduce((b, d) => b + d.authFailures.length, 0), 0);
    if (failures) out.push('  ' + style.bad(`${failures} authentication failures (listed per connection above)`));
  }
  return out.join('\n');
}

// ---------------------------------------------------------------- JSON

/** The report without byte arrays: no plaintext (nor where its records sit in it). */
function jsonConnections(report: ReplayReport): unknown[] {
  return report.connections.map((c) => ({
    ...c,
    directions: c.directions.map((d) => {
      const { plaintext: _plaintext, plaintextRecords: _records, ...rest } = d;
      return rest;
    }),
  }));
}

// ---------------------------------------------------------------- command

/** A bar for captures big enough to take a while. */
async function progressSpinner(file: string, json: boolean | undefined): Promise<Ora | undefined> {
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    return undefined; // the replay reports the unreadable file
  }
  if (size < LARGE_CAPTURE_BYTES) return undefined;
  return startSpinner('replaying', { json });
}

async function replay(file: string, opts: TlsReplayOptions): Promise<void> {
  const psk = parsePsk(opts.psk);
  const confirmDelay = parseConfirmDelay(opts.confirmDelay);
  if (opts.writePlaintext) checkPlaintextDir(opts.writePlaintext);
  const fileLogs = (opts.keylog ?? []).map((path) => parseKeyLog(Buffer.from(readInputFile(path)).toString('utf8'), path));
  const keyLog: KeyLog = mergeKeyLogs(fileLogs);
  const warnings: Diagnostic[] = [...keyLog.warnings];
  if (!opts.json) for (const w of warnings) printMessage(`${style.warn('warning')} ${formatDiagnostic(w)}`);

  const plaintext = opts.writePlaintext ? new PlaintextDirWriter(opts.writePlaintext) : undefined;
  const spinner = await progressSpinner(file, opts.json);
  let report: ReplayReport;
  let source: ReplaySource;
  try {
    ({ report, source } = await replayCaptureFile(file, {
      nic: opts.nic,
      keyLog,
      ...(psk ? { psk } : {}),
      ...(confirmDelay !== undefined ? { confirmDelayPackets: confirmDelay } : {}),
      ...(plaintext ? { onPlaintext: (stream, role, bytes) => plaintext.write(plaintextFileName(stream, role), bytes) } : {}),
      ...(spinner
        ? {
            onProgress: (done: number, total: number) => {
              spinner.text = progressBar('replaying', done, total);
              spinner.render();
            },
          }
        : {}),
    }, plaintext ? { betweenSteps: () => plaintext.breathe() } : {}));
  } catch (err) {
    await plaintext?.abort();
    throw err;
  } finally {
    spinner?.stop();
  }
  // The capture's own keys (pcapng DSB) were merged by the replay; parsed again here only for their warnings.
  const secretWarnings = keyLogFromCaptureSecrets([...source.secrets], file).warnings;
  warnings.push(...secretWarnings);
  if (!opts.json) for (const w of secretWarnings) printMessage(`${style.warn('warning')} ${formatDiagnostic(w)}`);

  const written: { plaintext?: { dir: string; files: string[] }; plot?: string } = {};
  if (plaintext && opts.writePlaintext) {
    // Every decrypted direction has a file, empty when it carried no application data.
    const names = report.connections
      .filter((c) => c.status === 'decrypted')
      .flatMap((c) => c.directions.map((d) => plaintextFileName(c.stream, d.role)));
    written.plaintext = { dir: opts.writePlaintext, files: (await plaintext.commit(names)).sort() };
  }
  if (opts.plot) {
    writeFileAtomic(opts.plot, renderOffloadPlot(report));
    written.plot = opts.plot;
  }

  const cut = source.truncation ? truncationDiagnostic(source.truncation, source.packetCount, file) : undefined;
  const tcpConnections = report.connections.length;
  const noTls = report.connections.every((c) => c.status === 'not-tls')
    ? makeDiagnostic('NC7020', { connections: tcpConnections, packets: report.packets }, { file })
    : undefined;
  if (noTls) warnings.push(noTls);
  const internal = report.connections.some((c) => c.problems.some((p) => p.category === 'internal'));

  if (opts.json) {
    printJson({
      ok: !cut && !internal,
      capture: file,
      nic: report.nic,
      confirmDelayPackets: confirmDelay ?? DEFAULT_CONFIRM_DELAY,
      packets: report.packets,
      connections: jsonConnections(report),
      totals: report.totals,
      offloadRatio: report.offloadRatio,
      truncation: cut,
      warnings,
      written: written.plaintext || written.plot ? written : undefined,
    });
  } else {
    const out = [textSummary(report, file, confirmDelay ?? DEFAULT_CONFIRM_DELAY)];
    if (written.plaintext || written.plot) out.push('');
    if (written.plaintext) out.push(`wrote ${written.plaintext.files.length} plaintext files to ${written.plaintext.dir}`);
    if (written.plot) out.push(`wrote the offload plot to ${written.plot}`);
    printData(out.join('\n'));
    if (noTls) printMessage(`${style.warn('note')} ${formatDiagnostic(noTls)}`);
    if (cut) printMessage(`${style.warn('warning')} ${formatDiagnostic(cut)}`);
  }
  // A cut capture was still replayed up to the cut; the exit status says the input was bad.
  if (internal) process.exitCode = EXIT.internal;
  else if (cut) process.exitCode = EXIT.badInput;
}

export function registerTls(program: Command): void {
  const tls = program.command('tls').description('TLS offload: replay captures through a model of autonomous NIC TLS offload');
  tls
    .command('replay')
    .description('replay a TLS capture through the NIC receive model and the host TLS stack, and count what the NIC decrypted')
    .argument('<capture>', 'capture (pcap or pcapng; keys in a pcapng Decryption Secrets Block are used)')
    .option('--keylog <file>', 'NSS key log (SSLKEYLOGFILE format); may be given several times', collect)
    .option('--psk <hex>', 'pre-shared key for TLS 1.2 plain-PSK cipher suites (as tshark\'s tls.psk)')
    .addOption(new Option('--nic <mode>', 'autonomous: search, speculative resync, confirmation; naive: stop at the first out-of-sequence packet; none: software only').choices(['autonomous', 'naive', 'none']).default('autonomous'))
    .option('--confirm-delay <packets>', `software confirms a resync request this many packets after it at the earliest (default ${DEFAULT_CONFIRM_DELAY})`)
    .option('--write-plaintext <dir>', 'write each direction\'s decrypted application data to DIR/stream-<N>-<client|server>-to-<server|client>.bin')
    .option('--plot <file.svg>', 'write an SVG of the offload state along each direction')
    .action(async function (this: Command, file: string) {
      await replay(file, this.optsWithGlobals() as TlsReplayOptions);
    });
}
