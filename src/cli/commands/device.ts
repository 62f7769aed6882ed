import { Option, type Command } from 'commander';
import { loadOntoDevice } from '../../compiler/device-load.js';
import { COMPILE_FIRMWARES, type CompileFirmware } from '../../compiler/compile-program.js';
import { fail, formatDiagnostic, NicoffError, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { loadObject } from '../../ebpf/load-object.js';
import { formatValue, parseValue } from '../../ebpf/map-value-layout.js';
import type { AttachMode, DeviceMap, DeviceStatus, MapUpdateFlag, NfpDevice } from '../../nfp-backend/device/nfp-device.js';
import { listDevices, openDevice } from '../../nfp-backend/device/open-device.js';
import { readInputFile } from '../input-files.js';
import { printData, printJson, style, table, type GlobalOptions } from '../output.js';
import { startSpinner } from '../progress.js';
import { selectPrograms } from '../select-programs.js';

export interface DeviceOptions extends GlobalOptions {
  dev: string;
  stateDir?: string;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function deviceFromOptions(opts: DeviceOptions): NfpDevice {
  return openDevice(opts.dev, opts.stateDir !== undefined ? { stateDir: opts.stateDir } : {});
}

/** --dev and --state-dir, as every device command takes them. */
export function withDeviceOptions(command: Command, required = true): Command {
  const dev = new Option('--dev <name>', 'device: simN for a software NFP, or a network device of this machine (nfp0, eth1, veth-a)');
  if (required) dev.makeOptionMandatory(true);
  return command.addOption(dev).option('--state-dir <dir>', 'where software devices keep their state (default $XDG_STATE_HOME/nicoff, else ~/.local/state/nicoff)');
}

function mapRows(maps: readonly DeviceMap[]): string[][] {
  return maps.map((m) => [m.name, m.type, `key ${m.keySize} B, value ${m.valueSize} B, ${m.maxEntries} entries`, `id ${m.id}`]);
}

function statusText(s: DeviceStatus): string {
  const kind = s.kind === 'software-nfp' ? 'software NFP' : `network device, driver ${s.driver ?? 'unknown'}`;
  const out = [`${style.heading(s.device)} (${kind})`];
  const l = s.loaded;
  if (!l) {
    out.push('  nothing loaded');
    return out.join('\n');
  }
  out.push(`  program   ${l.program} (${l.type}) from ${l.object || 'unknown'}, loaded ${l.since || 'at an unknown time'}, ${l.mode === 'software' ? 'on the software NFP' : `mode ${l.mode}`}`);
  if (l.kernelProgramId !== undefined) out.push(`  kernel    program id ${l.kernelProgramId}`);
  if (l.comparison) out.push(`  JIT       ${l.comparison}`);
  if (l.counters) {
    const c = l.counters;
    const actions = Object.entries(c.actions).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
    out.push(`  counters  ${c.packets} packets in ${c.runs} run(s): ${actions}${c.faults ? `; ${c.faults} faults` : ''}${c.lastRun ? `; last run ${c.lastRun}` : ''}`);
  }
  if (l.maps.length) out.push('  maps', table(mapRows(l.maps)).replace(/^/gm, '    '));
  return out.join('\n');
}

interface LoadOptions extends DeviceOptions {
  prog?: string;
  mode?: AttachMode;
  force?: boolean;
  firmware: CompileFirmware;
}

interface MapOptions extends DeviceOptions {
  flag: MapUpdateFlag;
}

export function registerDevice(program: Command): void {
  withDeviceOptions(
    program
      .command('load')
      .description('load a program onto a device: a software NFP (simN, created on first use) or a network device through the Linux driver')
      .argument('<object>', 'eBPF ELF object built by clang')
      .option('--prog <name>', 'the program to load (default: the only one; required when the object has several)')
      .addOption(new Option('--mode <mode>', 'network devices: offload (NFP card, the default), native (driver XDP) or generic (kernel XDP)').choices(['offload', 'native', 'generic']))
      .addOption(new Option('--firmware <name>', 'software NFP: the firmware the image is compiled for').choices([...COMPILE_FIRMWARES]).default('software-nfp'))
      .option('--force', 'replace a program already loaded (or a damaged software device state)'),
  ).action(async function (this: Command, file: string) {
    const opts = this.optsWithGlobals() as LoadOptions;
    const objectBytes = readInputFile(file);
    const obj = loadObject(objectBytes, { path: file });
    const progs = selectPrograms(obj, opts.prog);
    if (progs.length > 1) fail('NC8001', { reason: `${file} has ${progs.length} programs (${progs.map((p) => p.name).join(', ')}); name one with --prog` });
    const device = deviceFromOptions(opts);
    const spinner = await startSpinner(`loading ${progs[0]!.name} onto ${opts.dev}`, opts);
    let report;
    try {
      report = loadOntoDevice(device, obj, progs[0]!, {
        objectPath: file,
        objectBytes,
        ...(opts.mode ? { mode: opts.mode } : {}),
        force: opts.force ?? false,
        compile: { firmware: opts.firmware },
      });
    } finally {
      spinner?.stop();
    }
    if (opts.json) return printJson({ ok: true, device: opts.dev, replaced: report.replaced, notes: report.notes, status: report.status });
    const out = [`loaded ${report.status.loaded!.program} onto ${opts.dev}${report.replaced ? ` (replacing ${report.replaced})` : ''}`];
    for (const n of report.notes) out.push(`  ${n}`);
    out.push(statusText(report.status));
    printData(out.join('\n'));
  });

  withDeviceOptions(
    program
      .command('unload')
      .description('remove the program from a device (a software NFP keeps its name; its maps go with the program)')
      .option('--force', 'also forget a damaged state, or a program nicoff did not load'),
  ).action(function (this: Command) {
    const opts = this.optsWithGlobals() as DeviceOptions & { force?: boolean };
    const what = deviceFromOptions(opts).unload({ force: opts.force ?? false });
    if (opts.json) return printJson({ ok: true, device: opts.dev, unloaded: what ?? null });
    printData(what ? `unloaded ${what} from ${opts.dev}` : `nothing was loaded on ${opts.dev}`);
  });

  withDeviceOptions(program.command('status').description('what is loaded on a device (every device nicoff knows here, without --dev), since when, with which maps and counters'), false).action(function (this: Command) {
    const opts = this.optsWithGlobals() as DeviceOptions;
    if (opts.dev === undefined) {
      // One damaged device must not hide the others: it is listed with its diagnostic.
      const all = listDevices(opts.stateDir !== undefined ? { stateDir: opts.stateDir } : {}).map((d): DeviceStatus | { device: string; error: Diagnostic } => {
        try {
          return d.status();
        } catch (e) {
          if (e instanceof NicoffError) return { device: d.name, error: e.diagnostic };
          throw e;
        }
      });
      if (opts.json) return printJson({ devices: all });
      const text = (s: (typeof all)[number]) => ('error' in s ? `${style.heading(s.device)}\n  ${style.bad(formatDiagnostic(s.error))}` : statusText(s));
      printData(all.length ? all.map(text).join('\n') : 'no devices yet (a software NFP appears on its first load: nicoff load prog.o --dev sim0)');
      return;
    }
    const s = deviceFromOptions(opts).status();
    if (opts.json) return printJson(s);
    printData(statusText(s));
  });

  const map = program.command('map').description("read and change a loaded program's maps (keys and values as typed fields when the object's BTF knows them, else hex)");
  const mapCommand = (name: string, description: string, args: string[]) => {
    const c = map.command(name).description(description).argument('<map>', 'map name (or id)');
    for (const a of args) c.argument(`<${a}>`, a === 'key' ? 'key: a number, {field=value, ...}, [a, b], or hex bytes (hex:0a000000 or "0a 00 00 00")' : 'value, in the same forms');
    return withDeviceOptions(c);
  };

  mapCommand('dump', 'every entry of a map (arrays: every slot)', []).action(function (this: Command, name: string) {
    const opts = this.optsWithGlobals() as MapOptions;
    const device = deviceFromOptions(opts);
    const m = findDeviceMap(device, opts.dev, name);
    const entries = device.mapDump(m.name);
    if (opts.json) return printJson({ device: opts.dev, map: m.name, entries: entries.map((e) => ({ key: hex(e.key), value: hex(e.value), formatted: { key: formatValue(m.key, e.key), value: formatValue(m.value, e.value) } })) });
    printData(entries.length ? entries.map((e) => `${formatValue(m.key, e.key)} => ${formatValue(m.value, e.value)}`).join('\n') : `${m.name}: empty`);
  });

  mapCommand('lookup', 'one entry', ['key']).action(function (this: Command, name: string, keyText: string) {
    const opts = this.optsWithGlobals() as MapOptions;
    const device = deviceFromOptions(opts);
    const m = findDeviceMap(device, opts.dev, name);
    const key = parseValue(m.key, keyText, { device: opts.dev, map: m.name, part: 'key' });
    const value = device.mapLookup(m.name, key);
    if (opts.json) return printJson({ device: opts.dev, map: m.name, key: hex(key), value: value ? hex(value) : null, formatted: value ? formatValue(m.value, value) : null });
    if (!value) fail('NC6104', { device: opts.dev, map: m.name, reason: `no entry for key ${formatValue(m.key, key)}` });
    printData(`${formatValue(m.key, key)} => ${formatValue(m.value, value!)}`);
  });

  mapCommand('update', 'set one entry', ['key', 'value'])
    .addOption(new Option('--flag <flag>', 'any: create or replace; noexist: create only; exist: replace only').choices(['any', 'noexist', 'exist']).default('any'))
    .action(function (this: Command, name: string, keyText: string, valueText: string) {
      const opts = this.optsWithGlobals() as MapOptions;
      const device = deviceFromOptions(opts);
      const m = findDeviceMap(device, opts.dev, name);
      const key = parseValue(m.key, keyText, { device: opts.dev, map: m.name, part: 'key' });
      const value = parseValue(m.value, valueText, { device: opts.dev, map: m.name, part: 'value' });
      device.mapUpdate(m.name, key, value, opts.flag);
      if (opts.json) return printJson({ ok: true, device: opts.dev, map: m.name, key: hex(key), value: hex(value) });
      printData(`${m.name}: ${formatValue(m.key, key)} => ${formatValue(m.value, value)}`);
    });

  mapCommand('delete', 'remove one entry (hash maps; array slots cannot be deleted)', ['key']).action(function (this: Command, name: string, keyText: string) {
    const opts = this.optsWithGlobals() as MapOptions;
    const device = deviceFromOptions(opts);
    const m = findDeviceMap(device, opts.dev, name);
    const key = parseValue(m.key, keyText, { device: opts.dev, map: m.name, part: 'key' });
    device.mapDelete(m.name, key);
    if (opts.json) return printJson({ ok: true, device: opts.dev, map: m.name, key: hex(key) });
    printData(`${m.name}: deleted ${formatValue(m.key, key)}`);
  });
}

function findDeviceMap(device: NfpDevice, dev: string, name: string): DeviceMap {
  const maps = device.maps();
  const m = maps.find((x) => x.name === name) ?? maps.find((x) => String(x.id) === name);
  if (!m) return fail('NC6104', { device: dev, map: name, reason: `no such map (maps: ${maps.map((x) => x.name).join(', ') || 'none'})` });
  return m;
}
