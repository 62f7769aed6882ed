import type { Command } from 'commander';
import { loadObject } from '../../ebpf/load-object.js';
import { summarizeObject } from '../../ebpf/object-summary.js';
import { readInputFile } from '../input-files.js';
import { printData, printJson, style, table, type GlobalOptions } from '../output.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('list the programs, maps, global data, licence and BTF of an eBPF object')
    .argument('<object>', 'eBPF ELF object built by clang')
    .action(function (this: Command, file: string) {
      const opts = this.optsWithGlobals() as GlobalOptions;
      const obj = loadObject(readInputFile(file), { path: file });
      const s = summarizeObject(obj);
      if (opts.json) return printJson(s);
      const out: string[] = [];
      out.push(`${style.heading(file)}: ${s.endian === 'le' ? 'little' : 'big'}-endian, licence "${s.license}"` +
        `${s.kernelVersion !== undefined ? `, kernel version 0x${s.kernelVersion.toString(16)}` : ''}` +
        `, BTF ${s.btf ? 'yes' : 'no'}, BTF.ext ${s.btfExt ? 'yes' : 'no'}`);
      out.push('', style.heading('programs'));
      out.push(table([
        ['name', 'section', 'type', 'insns', 'functions'],
        ...s.programs.map((p) => [p.name, p.section, p.type + (p.attachType ? `/${p.attachType}` : ''), String(p.insns), p.functions.join(',')]),
      ]));
      out.push('', style.heading('maps'));
      if (s.maps.length === 0) out.push('(none)');
      else
        out.push(table([
          ['name', 'type', 'key', 'value', 'entries', 'flags', 'defined by'],
          ...s.maps.map((m) => [m.name, m.type + (m.inner ? `(${m.inner.type})` : ''), String(m.keySize), String(m.valueSize),
            String(m.maxEntries), `0x${m.flags.toString(16)}`, m.definedBy]),
        ]));
      out.push('', style.heading('global data'));
      if (s.globalData.length === 0) out.push('(none)');
      else
        out.push(table([
          ['map', 'section', 'bytes', 'access'],
          ...s.globalData.map((g) => [g.name, g.section, String(g.size), g.readOnly ? 'read-only' : 'read-write']),
        ]));
      for (const w of s.warnings) out.push(style.warn(`warning: ${w}`));
      printData(out.join('\n'));
    });
}
