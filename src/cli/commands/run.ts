import type { Command } from 'commander';
import { Option } from 'commander';
import { findProgram, loadObject } from '../../ebpf/load-object.js';
import { runCaptureOnInterpreter, type CaptureRunSummary } from '../../ebpf/run-capture.js';
import { readCapture, truncationDiagnostic, writePcap, xdpFrame, LINKTYPE, LINKTYPE_NAMES } from '../../pcap/index.js';
import { fail, formatDiagnostic, EXIT } from '../../diagnostics/diagnostic.js';
import { readInputFile } from '../input-files.js';
import { writeFileAtomic } from '../atomic-write.js';
import { printData, printJson, printMessage, style, table, type GlobalOptions } from '../output.js';
import { isNfpImage, readNfpImage } from '../../nfp-backend/image/read-image.js';
import { toLoadedProgram } from '../../nfp-backend/image/nfp-image.js';
import { runCaptureOnNfp } from '../../nfp-backend/sim/run-capture-on-nfp.js';
import type { Capture } from '../../pcap/capture.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOntoDevice } from '../../compiler/device-load.js';
import { formatValue } from '../../ebpf/map-value-layout.js';
import type { DeviceRunReport, NfpDevice } from '../../nfp-backend/device/nfp-device.js';
import { openDevice } from '../../nfp-backend/device/open-device.js';
import { cycleHistogram, cycleHistogramRows, cycleHistogramSvg } from '../../nfp-backend/sim/cycle-histogram.js';
import { progressBar, startSpinner } from '../progress.js';

/** Captures this long get a progress bar on a terminal; it is redrawn every PROGRESS_EVERY packets. */
const PROGRESS_MIN_PACKETS = 50_000;
const PROGRESS_EVERY = 16_384;

interface RunOptions extends GlobalOptions {
  pcap: string;
  prog?: string;
  engine?: string;
  watchdog: string;
  out?: string;
  outTx?: string;
  outDrop?: string;
  plot?: string;
  repeat: string;
  dev?: string;
  stateDir?: string;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function mapsReport(summary: CaptureRunSummary, obj: ReturnType<typeof loadObject>) {
  return obj.maps.map((m, i) => {
    const entries = summary.maps.dump(i);
    const nonzero = entries.filter((e) => e.values.some((v) => v.some((b) => b !== 0)));
    return { name: m.name, entries: entries.length, nonzero: nonzero.map((e) => ({ key: hex(e.key), values: e.values.map(hex) })) };
  });
}

function ethernetFrames(capture: Capture, file: string): Uint8Array[] {
  return capture.packets.map((p) => {
    const iface = capture.interfaces[p.interfaceId];
    const frame = xdpFrame(iface.linkType, p.data, iface.fcsLen);
    if (!frame) fail('NC2003', { linktype: iface.linkType, name: LINKTYPE_NAMES[iface.linkType] ?? 'unknown' }, { file });
    return frame;
  });
}

/** NFP action names as `run` reports them, and whether the packet leaves the card (pass to host or transmit). */
const NFP_ACTION_FORWARDS: Record<string, boolean> = { pass: true, tx: true, drop: false, 'drop-silent': false, abort: false };

function runImage(bytes: Uint8Array, file: string, opts: RunOptions): void {
  if (opts.engine === 'ref') fail('NC8001', { reason: `${file} is an NFP image; it runs on --engine nfp-sim (the reference interpreter runs eBPF objects)` });
  if (opts.prog) fail('NC8001', { reason: '--prog selects a program of an eBPF object; an NFP image holds one program' });
  const repeat = Number(opts.repeat);
  if (repeat !== 1) fail('NC8001', { reason: '--repeat is not supported for NFP images; npm run bench measures the simulator' });
  refuseDeviceOnlyOptions(opts, 'is reported for devices and eBPF objects; run the object, or load it with nicoff load and use --dev');
  const watchdogCycles = parseWatchdog(opts.watchdog);
  const image = readNfpImage(bytes, file);
  const program = toLoadedProgram(image);
  const capture = readCapture(readInputFile(opts.pcap), { file: opts.pcap });
  const frames = ethernetFrames(capture, opts.pcap);
  const summary = runCaptureOnNfp(program, frames, { watchdogCycles });
  const forwarded = summary.results.flatMap((r, i) => (r.status === 'ok' && NFP_ACTION_FORWARDS[r.action] ? [{ data: r.packet, timestampNs: capture.packets[i].timestampNs }] : []));
  if (opts.out) writeFileAtomic(opts.out, writePcap(forwarded, { linkType: LINKTYPE.ETHERNET }));
  const cut = capture.truncation ? truncationDiagnostic(capture.truncation, capture.packets.length, opts.pcap) : undefined;
  const faults = Object.values(summary.faults).reduce((a, b) => a + b, 0);
  const completed = summary.packets - faults;
  const maps = program.maps.map((m) => ({
    tableId: m.tableId,
    name: m.name,
    entries: summary.simulator.maps.entries(m.tableId).filter((e) => e.value.some((b) => b !== 0)).map((e) => ({ key: hex(e.key), value: hex(e.value) })),
  }));
  const t = summary.throughput;
  if (opts.json) {
    printJson({
      ok: !cut,
      image: file,
      type: program.programType,
      engine: 'nfp-sim',
      packets: summary.packets,
      actions: summary.actions,
      faults: summary.faults,
      instructions: summary.instructions,
      cycles: summary.cycles,
      stalls: summary.stalls,
      throughput: t,
      written: opts.out ? { file: opts.out, packets: forwarded.length } : undefined,
      truncation: cut,
      results: summary.results.map((r, i) =>
        r.status === 'ok'
          ? { packet: i + 1, action: r.action, actionByte: r.actionByte, rxQueue: r.rxQueue, instructions: r.stats.instructions, cycles: r.stats.cycles, stalls: r.stats.stalls }
          : { packet: i + 1, error: { code: r.code, message: r.message, pc: r.pc } },
      ),
      maps,
    });
  } else {
    const out: string[] = [];
    out.push(`${style.heading(image.name ?? file)} (${program.programType}, NFP image) on ${summary.packets} packets from ${opts.pcap}, software NFP`);
    out.push(table([['action', 'packets'], ...Object.entries(summary.actions).map(([k, v]) => [k, String(v)])]));
    if (faults) {
      out.push(style.bad(`${faults} packets stopped with a fault:`));
      summary.results.forEach((r, i) => {
        if (r.status === 'fault' && out.length < 40) out.push(`  packet ${i + 1}: error ${r.code} pc ${r.pc}: ${r.message}`);
      });
    }
    if (completed) {
      const per = (n: number) => (n / completed).toFixed(1);
      const stalls = Object.entries(summary.stalls).filter(([, v]) => v).map(([k, v]) => `${k} ${per(v)}`);
      out.push(`per packet (mean of ${completed}): ${per(summary.instructions)} NFP instructions, ${per(summary.cycles)} cycles${stalls.length ? `, stalled ${stalls.join(', ')}` : ''}`);
      out.push(
        `throughput model (${t.latencyModel}): ${(t.packetsPerSecond / 1e6).toFixed(1)} Mpps on ${t.microengines} MEs x ${t.contextsPerMe} threads at ${t.clockHz / 1e6} MHz, ` +
          `${(t.lineRateFraction * 100).toFixed(0)}% of 2x10GbE line rate (${(t.lineRatePps / 1e6).toFixed(2)} Mpps at 64 B)`,
      );
      out.push(style.warn(t.disclaimer));
    }
    const changed = maps.filter((m) => m.entries.length);
    if (changed.length) {
      out.push('', style.heading('maps after the run (non-zero entries, host byte order)'));
      for (const m of changed) {
        out.push(`${m.name} (table ${m.tableId}):`);
        for (const e of m.entries.slice(0, 16)) out.push(`  ${e.key} => ${e.value}`);
        if (m.entries.length > 16) out.push(`  ... ${m.entries.length - 16} more`);
      }
    }
    if (opts.out) out.push(`wrote ${forwarded.length} packets to ${opts.out}`);
    printData(out.join('\n'));
    if (cut) printMessage(`${style.warn('warning')} ${formatDiagnostic(cut)}`);
  }
  if (cut) process.exitCode = EXIT.badInput;
}

/** --out-tx, --out-drop and --plot come from the software NFP's per-packet results; other runs refuse them. */
function refuseDeviceOnlyOptions(opts: RunOptions, why: string): void {
  const given = (['outTx', 'outDrop', 'plot'] as const).find((k) => opts[k] !== undefined);
  if (given) fail('NC8001', { reason: `--${given.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} ${why}` });
}

function parseWatchdog(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1e9) fail('NC8001', { reason: `--watchdog must be a whole number from 1 to 1000000000, not ${text}` });
  return n;
}

/** NFP actions each output capture takes: --out passed or transmitted, --out-tx transmitted, --out-drop dropped or aborted. */
const OUTPUT_ACTIONS: Record<'out' | 'outTx' | 'outDrop', ReadonlySet<string>> = {
  out: new Set(['pass', 'tx']),
  outTx: new Set(['tx']),
  outDrop: new Set(['drop', 'drop-silent', 'abort']),
};

/**
 * A capture through a device (`--dev`), or through a temporary software NFP
 * that the object is compiled and loaded onto first (`nicoff run prog.o`).
 */
async function runOnDevice(device: NfpDevice, label: string, opts: RunOptions): Promise<void> {
  if (Number(opts.repeat) !== 1) fail('NC8001', { reason: '--repeat runs the reference interpreter (--engine ref); npm run bench measures the software NFP' });
  const watchdogCycles = parseWatchdog(opts.watchdog);
  const capture = readCapture(readInputFile(opts.pcap), { file: opts.pcap });
  const frames = ethernetFrames(capture, opts.pcap);
  const outputs = (['out', 'outTx', 'outDrop'] as const).filter((k) => opts[k] !== undefined).map((k) => ({ file: opts[k]!, actions: OUTPUT_ACTIONS[k], packets: [] as { data: Uint8Array; timestampNs: bigint }[] }));
  const spinner = frames.length >= PROGRESS_MIN_PACKETS ? await startSpinner(progressBar('running', 0, frames.length), opts) : undefined;
  let report: DeviceRunReport;
  try {
    report = device.run(frames, {
      watchdogCycles,
      onResult: (i, r) => {
        if (r.status === 'ok') for (const o of outputs) if (o.actions.has(r.action)) o.packets.push({ data: r.packet, timestampNs: capture.packets[i]!.timestampNs });
        if (spinner && (i + 1) % PROGRESS_EVERY === 0) {
          spinner.text = progressBar('running', i + 1, frames.length);
          spinner.render();
        }
      },
    });
  } finally {
    spinner?.stop();
  }
  for (const o of outputs) writeFileAtomic(o.file, writePcap(o.packets, { linkType: LINKTYPE.ETHERNET }));
  const histogram = cycleHistogram(report.summary.cycleCounts);
  if (opts.plot) writeFileAtomic(opts.plot, cycleHistogramSvg(histogram, `${label}: cycles per packet over ${report.summary.packets} packets`));
  const cut = capture.truncation ? truncationDiagnostic(capture.truncation, capture.packets.length, opts.pcap) : undefined;
  const s = report.summary;
  const faults = Object.values(s.faults).reduce((a, b) => a + b, 0);
  const completed = s.packets - faults;
  const byName = new Map(report.maps.map((m) => [m.name, m]));
  const changes = report.changes.map((c) => {
    const m = byName.get(c.map)!;
    return { map: c.map, key: formatValue(m.key, c.key), before: c.before ? formatValue(m.value, c.before) : null, after: c.after ? formatValue(m.value, c.after) : null };
  });
  const t = s.throughput;
  if (opts.json) {
    printJson({
      ok: !cut,
      device: label,
      packets: s.packets,
      actions: s.actions,
      faults: s.faults,
      instructions: s.instructions,
      cycles: s.cycles,
      stalls: s.stalls,
      cyclesHistogram: histogram,
      throughput: t,
      written: outputs.map((o) => ({ file: o.file, packets: o.packets.length })),
      plot: opts.plot ?? null,
      truncation: cut,
      mapChanges: changes,
    });
  } else {
    const out: string[] = [];
    out.push(`${style.heading(label)}: ${s.packets} packets from ${opts.pcap}`);
    out.push(table([['action', 'packets'], ...Object.entries(s.actions).map(([k, v]) => [k, String(v)])]));
    if (faults) out.push(style.bad(`${faults} packets stopped with a fault: ${Object.entries(s.faults).map(([k, v]) => `${k} x${v}`).join(', ')}`));
    if (completed) {
      const per = (n: number) => (n / completed).toFixed(1);
      out.push(`per packet (mean of ${completed}): ${per(s.instructions)} NFP instructions, ${per(s.cycles)} cycles`);
      out.push('cycles per packet:', ...cycleHistogramRows(histogram).map((r) => `  ${r}`));
      out.push(
        `throughput model (${t.latencyModel}, first ${t.packets} packets): ${(t.packetsPerSecond / 1e6).toFixed(1)} Mpps, ` +
          `${(t.lineRateFraction * 100).toFixed(0)}% of 2x10GbE line rate (${(t.lineRatePps / 1e6).toFixed(2)} Mpps at 64 B)`,
      );
      out.push(style.warn(t.disclaimer));
    }
    if (changes.length) {
      out.push('', style.heading(`map changes (${changes.length})`));
      for (const c of changes.slice(0, 20)) out.push(`  ${c.map}[${c.key}]: ${c.before ?? '(none)'} -> ${c.after ?? '(deleted)'}`);
      if (changes.length > 20) out.push(`  ... ${changes.length - 20} more`);
    } else out.push('no map changed');
    for (const o of outputs) out.push(`wrote ${o.packets.length} packets to ${o.file}`);
    if (opts.plot) out.push(`wrote the cycles histogram to ${opts.plot}`);
    printData(out.join('\n'));
    if (cut) printMessage(`${style.warn('warning')} ${formatDiagnostic(cut)}`);
  }
  if (cut) process.exitCode = EXIT.badInput;
}

/** `nicoff run prog.o`: compile for and run on a software NFP of its own, removed afterwards. */
async function runObjectOnNfp(file: string, bytes: Uint8Array, opts: RunOptions): Promise<void> {
  const obj = loadObject(bytes, { path: file });
  const prog = findProgram(obj, opts.prog);
  const stateDir = mkdtempSync(join(tmpdir(), 'nicoff-run-'));
  try {
    const device = openDevice('sim0', { stateDir });
    loadOntoDevice(device, obj, prog, { objectPath: file, objectBytes: bytes });
    await runOnDevice(device, `${prog.name} on a temporary software NFP`, opts);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run every packet of a capture through a program: on a device (--dev), an eBPF object compiled for a temporary software NFP (default) or on the reference interpreter (--engine ref), or an NFP image')
    .argument('[object]', 'eBPF ELF object built by clang, or an NFP image (prog.nfp); leave it out with --dev')
    .requiredOption('--pcap <file>', 'input capture (pcap or pcapng, Ethernet frames)')
    .option('--dev <name>', 'run on the program loaded on this device (a software NFP, simN)')
    .option('--state-dir <dir>', 'where software devices keep their state (default $XDG_STATE_HOME/nicoff)')
    .option('--prog <name>', 'program to run (default: the first in the object)')
    .addOption(new Option('--engine <engine>', 'eBPF objects: nfp-sim (compile, run on a temporary software NFP; the default) or ref (the reference interpreter)').choices(['ref', 'nfp-sim']))
    .option('--watchdog <cycles>', 'software NFP: cycles a packet may take before it is stopped', '100000')
    .option('--out <file>', 'write the packets the program passed or transmitted to this pcap')
    .option('--out-tx <file>', 'software NFP: write the packets it transmitted (XDP_TX) to this pcap')
    .option('--out-drop <file>', 'software NFP: write the packets it dropped or aborted to this pcap')
    .option('--plot <file.svg>', 'software NFP: draw the per-packet cycles histogram')
    .option('--repeat <n>', 'reference interpreter: run each packet N times (maps keep counting; verdicts come from the first run)', '1')
    .action(async function (this: Command, file: string | undefined) {
      const opts = this.optsWithGlobals() as RunOptions;
      const repeat = Number(opts.repeat);
      if (!Number.isInteger(repeat) || repeat < 1 || repeat > 1e7) fail('NC8001', { reason: `--repeat must be a whole number from 1 to 10000000, not ${opts.repeat}` });
      if (opts.dev !== undefined) {
        if (file !== undefined) fail('NC8001', { reason: `--dev runs the program loaded on ${opts.dev}; load ${file} first (nicoff load ${file} --dev ${opts.dev}) or leave --dev out` });
        if (opts.engine === 'ref') fail('NC8001', { reason: '--engine ref runs an eBPF object, not a device' });
        return runOnDevice(openDevice(opts.dev, opts.stateDir !== undefined ? { stateDir: opts.stateDir } : {}), opts.dev, opts);
      }
      if (file === undefined) fail('NC8001', { reason: 'name an object or image to run, or a device with --dev' });
      const bytes = readInputFile(file!);
      if (isNfpImage(bytes)) return runImage(bytes, file!, opts);
      if (opts.engine !== 'ref' && repeat === 1) return runObjectOnNfp(file!, bytes, opts);
      refuseDeviceOnlyOptions(opts, 'is reported by the software NFP; leave out --engine ref and --repeat');
      opts.engine = 'ref';
      const obj = loadObject(bytes, { path: file! });
      const prog = findProgram(obj, opts.prog);
      const capture = readCapture(readInputFile(opts.pcap), { file: opts.pcap });
      const frames = ethernetFrames(capture, opts.pcap);
      const summary = runCaptureOnInterpreter(obj, prog, frames, { repeat });
      const forwarded = summary.outcomes.filter((o) => o.forwards && o.output);
      if (opts.out)
        writeFileAtomic(opts.out, writePcap(forwarded.map((o) => ({ data: o.output!, timestampNs: capture.packets[o.packet - 1].timestampNs })), { linkType: LINKTYPE.ETHERNET }));
      const cut = capture.truncation ? truncationDiagnostic(capture.truncation, capture.packets.length, opts.pcap) : undefined;
      const maps = mapsReport(summary, obj);
      if (opts.json) {
        printJson({
          ok: !cut,
          program: summary.program,
          type: summary.type,
          engine: opts.engine,
          packets: summary.packets,
          repeat,
          verdicts: summary.verdicts,
          errors: summary.errors,
          insnsExecuted: summary.insnsExecuted,
          nsPerPacket: Math.round(summary.nsPerPacket),
          written: opts.out ? { file: opts.out, packets: forwarded.length } : undefined,
          truncation: cut,
          results: summary.outcomes.map((o) => ({
            packet: o.packet,
            verdict: o.verdict,
            retval: o.retval,
            insns: o.insns,
            error: o.error,
          })),
          maps,
        });
      } else {
        const out: string[] = [];
        out.push(`${style.heading(summary.program)} (${summary.type}) on ${summary.packets} packets from ${opts.pcap}, engine ${opts.engine}${repeat > 1 ? `, ${repeat} runs each` : ''}`);
        out.push(table([['verdict', 'packets'], ...Object.entries(summary.verdicts).map(([k, v]) => [k, String(v)])]));
        if (summary.errors) {
          out.push(style.bad(`${summary.errors} packets stopped with an error:`));
          for (const o of summary.outcomes.filter((o) => o.error).slice(0, 10)) out.push(`  ${formatDiagnostic(o.error!)}`);
        }
        out.push(`eBPF instructions executed: ${summary.insnsExecuted}; wall time ${((summary.nsPerPacket * summary.packets * repeat) / 1e6).toFixed(1)} ms, warm-up included (npm run bench measures steady state)`);
        const changed = maps.filter((m) => m.nonzero.length);
        if (changed.length) {
          out.push('', style.heading('maps after the run (non-zero entries)'));
          for (const m of changed) {
            out.push(`${m.name}:`);
            for (const e of m.nonzero.slice(0, 16)) out.push(`  ${e.key} => ${e.values.join(' ')}`);
            if (m.nonzero.length > 16) out.push(`  ... ${m.nonzero.length - 16} more`);
          }
        }
        if (opts.out) out.push(`wrote ${forwarded.length} packets to ${opts.out}`);
        printData(out.join('\n'));
        if (cut) printMessage(`${style.warn('warning')} ${formatDiagnostic(cut)}`);
      }
      // A cut capture was still processed up to the cut; the exit status says the input was bad.
      if (cut) process.exitCode = EXIT.badInput;
    });
}
