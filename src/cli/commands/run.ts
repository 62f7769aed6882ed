import type { Command } from 'commander';
import { Option } from 'commander';
import { findProgram, loadObject } from '../../ebpf/load-object.js';
import { runCaptureOnInterpreter, type CaptureRunSummary } from '../../ebpf/run-capture.js';
import { readCapture, truncationDiagnostic, writePcap, xdpFrame, LINKTYPE, LINKTYPE_NAMES } from '../../pcap/index.js';
import { fail, formatDiagnostic, EXIT } from '../../diagnostics/diagnostic.js';
import { readInputFile } from '../input-files.js';
import { writeFileAtomic } from '../atomic-write.js';
import { printData, printJson, printMessage, style, table, type GlobalOptions } from '../output.js';

interface RunOptions extends GlobalOptions {
  pcap: string;
  prog?: string;
  engine: string;
  out?: string;
  repeat: string;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function mapsReport(summary: CaptureRunSummary, obj: ReturnType<typeof loadObject>) {
  return obj.maps.map((m, i) => {
    const entries = summary.maps.dump(i);
    const nonzero = entries.filter((e) => e.values.some((v) => v.some((b) => b !== 0)));
    return { name: m.name, entries: entries.length, nonzero: nonzero.map((e) => ({ key: hex(e.key), values: e.values.map(hex) })) };
  });
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run every packet of a capture through a program and count the verdicts')
    .argument('<object>', 'eBPF ELF object built by clang')
    .requiredOption('--pcap <file>', 'input capture (pcap or pcapng, Ethernet frames)')
    .option('--prog <name>', 'program to run (default: the first in the object)')
    .addOption(new Option('--engine <engine>', 'execution engine').choices(['ref']).default('ref'))
    .option('--out <file>', 'write the packets the program passed or transmitted to this pcap')
    .option('--repeat <n>', 'run each packet N times (maps keep counting; verdicts come from the first run)', '1')
    .action(function (this: Command, file: string) {
      const opts = this.optsWithGlobals() as RunOptions;
      const repeat = Number(opts.repeat);
      if (!Number.isInteger(repeat) || repeat < 1 || repeat > 1e7) fail('NC8001', { reason: `--repeat must be a whole number from 1 to 10000000, not ${opts.repeat}` });
      const obj = loadObject(readInputFile(file), { path: file });
      const prog = findProgram(obj, opts.prog);
      const capture = readCapture(readInputFile(opts.pcap), { file: opts.pcap });
      const frames: Uint8Array[] = [];
      for (const p of capture.packets) {
        const iface = capture.interfaces[p.interfaceId];
        const frame = xdpFrame(iface.linkType, p.data, iface.fcsLen);
        if (!frame) fail('NC2003', { linktype: iface.linkType, name: LINKTYPE_NAMES[iface.linkType] ?? 'unknown' }, { file: opts.pcap });
        frames.push(frame);
      }
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
