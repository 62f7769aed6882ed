/**
 * The command line as users and CI scripts meet it: the built launcher
 * (bin/nicoff), exit statuses, --json, colour rules, and the disassembly
 * compared with llvm-objdump-19 itself.
 */
import { describe, test, expect, beforeAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolAvailable } from '../fixtures/objects/oracle.js';
import { writePcap } from '../../src/pcap/index.js';

const root = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'nicoff-cli-'));

/** The caller's environment without colour switches (an empty FORCE_COLOR forces colour in chalk), plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  return { ...env, ...extra };
}

function nicoff(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'nicoff'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: cleanEnv(env),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  const b = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build failed:\n${b.stdout}${b.stderr}`);
}, 120_000);

describe('exit statuses and messages', () => {
  test('--help and --version exit 0 and document the exit statuses', () => {
    const h = nicoff(['--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/Exit status:[\s\S]*2\s+bad input/);
    expect(nicoff(['--version']).status).toBe(0);
  });

  test('a reader that stops early (`| head -1`) ends the run quietly: no EPIPE, no stack trace', () => {
    // 40+ KB of verifier log, so the pipe fills after head has gone.
    const r = spawnSync('bash', ['-c', `node bin/nicoff verify examples/xdp_l4_lb.o --log 2 | head -1; exit "\${PIPESTATUS[0]}"`], {
      cwd: root,
      encoding: 'utf8',
      env: cleanEnv({}),
    });
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(r.status).toBe(0);
  });

  test('usage errors exit 2', () => {
    expect(nicoff(['frobnicate']).status).toBe(2);
    expect(nicoff(['inspect']).status).toBe(2);
    expect(nicoff(['run', 'examples/xdp_pass.o']).status).toBe(2); // --pcap is required
    expect(nicoff(['run', 'examples/xdp_pass.o', '--pcap', 'examples/xdp_pass.pcap', '--engine', 'nope']).status).toBe(2);
    expect(nicoff(['run', 'examples/xdp_pass.o', '--pcap', 'examples/xdp_pass.pcap', '--repeat', '0']).status).toBe(2);
  });

  test('a missing file is one coded line, exit 2, no stack trace', () => {
    const r = nicoff(['inspect', 'no/such/file.o']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/NC1001 no\/such\/file\.o: cannot read file: no such file/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('garbage and truncated objects are coded input errors', () => {
    const garbage = join(tmp, 'garbage.o');
    writeFileSync(garbage, Buffer.from('this is not an ELF object at all, just text'));
    const r = nicoff(['disasm', garbage]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/NC1002/);
    const cut = join(tmp, 'cut.o');
    writeFileSync(cut, readFileSync(join(root, 'examples', 'xdp_l4_lb.o')).subarray(0, 700));
    const c = nicoff(['inspect', cut]);
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/^error NC1\d{3} /);
    expect(c.stderr).not.toMatch(/\n\s+at /);
  });

  test('an unknown program name lists the known ones', () => {
    const r = nicoff(['disasm', 'examples/xdp_pass.o', '--prog', 'nope']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/NC1022.*nope/);
  });

  test('under --json an error is a JSON object on stdout', () => {
    const r = nicoff(['inspect', 'no/such/file.o', '--json']);
    expect(r.status).toBe(2);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(false);
    expect(j.error.code).toBe('NC1001');
    expect(j.error.category).toBe('input');
  });
});

describe('colour', () => {
  test('no escape codes when not on a terminal, with NO_COLOR, or with --no-color', () => {
    for (const [args, env] of [
      [['inspect', 'examples/xdp_l4_lb.o'], {}],
      [['inspect', 'examples/xdp_l4_lb.o'], { FORCE_COLOR: '1', NO_COLOR: '1' }],
      [['inspect', 'examples/xdp_l4_lb.o', '--no-color'], { FORCE_COLOR: '1' }],
    ] as const) {
      const r = nicoff([...args], env);
      expect(r.status).toBe(0);
      expect(r.stdout + r.stderr).not.toMatch(/\x1b\[/);
    }
    // FORCE_COLOR alone does colour: the switch above is real.
    expect(nicoff(['inspect', 'examples/xdp_l4_lb.o'], { FORCE_COLOR: '1' }).stdout).toMatch(/\x1b\[/);
  });
});

describe('inspect', () => {
  test('lists programs, maps and global data; JSON agrees with llvm-readelf on program sections', () => {
    const r = nicoff(['inspect', 'examples/xdp_subprog_global.o', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.license).toBe('GPL');
    expect(j.btf).toBe(true);
    expect(j.programs.map((p: { section: string }) => p.section)).toEqual(['xdp']);
    expect(j.globalData.map((g: { section: string }) => g.section).sort()).toEqual(['.bss', '.data', '.rodata']);
    if (!toolAvailable('llvm-readelf-19')) return;
    const sections = spawnSync('llvm-readelf-19', ['-S', 'examples/xdp_subprog_global.o'], { cwd: root, encoding: 'utf8' }).stdout;
    for (const g of j.globalData) {
      const m = new RegExp(`\\s${g.section.replace('.', '\\.')}\\s+\\w+\\s+[0-9a-f]+\\s+[0-9a-f]+\\s+([0-9a-f]+)`).exec(sections);
      expect(m).not.toBeNull();
      expect(parseInt(m![1], 16)).toBe(g.size);
    }
  });
});

describe('disasm', () => {
  test('the text of every instruction of every example equals llvm-objdump-19 on the unlinked section', () => {
    if (!toolAvailable('llvm-objdump-19')) return;
    const objects = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.o'));
    expect(objects.length).toBeGreaterThanOrEqual(10);
    let compared = 0;
    for (const o of objects) {
      const ours = JSON.parse(nicoff(['disasm', `examples/${o}`, '--json']).stdout);
      const llvm = spawnSync('llvm-objdump-19', ['-d', '-z', `examples/${o}`], { cwd: root, encoding: 'utf8' }).stdout;
      // llvm prints each section's functions by symbol; map text by the raw bytes of the entry function's slots.
      const llvmLines = llvm.split('\n').filter((l) => /^\s+\d+:\t/.test(l)).map((l) => l.split('\t'));
      for (const prog of ours.programs) {
        const entry = prog.insns.filter((i: { pc: number }) => i.pc < (prog.insns.find((x: { function?: string; pc: number }) => x.function && x.pc > 0)?.pc ?? Infinity));
        for (const ins of entry) {
          // Relocated slots (ld_imm64 with map refs, calls) differ from the unlinked bytes by design; compare the rest.
          const match = llvmLines.find((l) => l[1].trim() === ins.bytes);
          if (!match) continue;
          expect(ins.text).toBe(match[2].replace(/ <[^>]*>$/, '').trim());
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(500);
  });

  test('--source shows BTF source lines', () => {
    const r = nicoff(['disasm', 'examples/xdp_udp53.o', '--source']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/; .*data_end.*\[.*xdp_udp53\.c:\d+\]/);
  });
});

describe('run', () => {
  test('--engine ref: counts verdicts, writes the forwarded packets, and tshark reads the output', () => {
    const out = join(tmp, 'out.pcap');
    const r = nicoff(['run', 'examples/xdp_udp53.o', '--pcap', 'examples/xdp_udp53.pcap', '--engine', 'ref', '--out', out, '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    const total = Object.values(j.verdicts as Record<string, number>).reduce((a, b) => a + b, 0) + j.errors;
    expect(total).toBe(j.packets);
    expect(j.verdicts.XDP_DROP).toBeGreaterThan(0);
    expect(existsSync(out)).toBe(true);
    if (!toolAvailable('tshark')) return;
    const n = spawnSync('tshark', ['-r', out, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).stdout.trim().split('\n').length;
    expect(n).toBe(j.written.packets);
    expect(n).toBe((j.verdicts.XDP_PASS ?? 0) + (j.verdicts.XDP_TX ?? 0));
  });

  test('a truncated capture: packets before the cut are run, the cut is reported, exit 2', () => {
    const full = readFileSync(join(root, 'examples', 'xdp_proto_count.pcap'));
    const cut = join(tmp, 'cut.pcap');
    writeFileSync(cut, full.subarray(0, full.length - 10));
    const r = nicoff(['run', 'examples/xdp_proto_count.o', '--pcap', cut, '--engine', 'ref', '--json']);
    expect(r.status).toBe(2);
    const j = JSON.parse(r.stdout);
    expect(j.truncation.code).toBe('NC2002');
    expect(j.packets).toBeGreaterThan(0);
  });

  test('a capture of raw IP packets is refused with NC2003: XDP programs take Ethernet frames', () => {
    const raw = join(tmp, 'raw-ip.pcap');
    // 20-byte IPv4 header alone; link type 101 (raw IP).
    writeFileSync(raw, writePcap([{ data: new Uint8Array([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]) }], { linkType: 101 }));
    const r = nicoff(['run', 'examples/xdp_pass.o', '--pcap', raw]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/NC2003/);
  });

  test('an output file that cannot be written is NC1001 and leaves nothing behind', () => {
    const r = nicoff(['run', 'examples/xdp_pass.o', '--pcap', 'examples/xdp_pass.pcap', '--out', join(tmp, 'no-such-dir', 'out.pcap')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/NC1001 .*cannot write/);
    expect(existsSync(join(tmp, 'no-such-dir'))).toBe(false);
  });

  test('a capture that is not a capture is NC2001', () => {
    const r = nicoff(['run', 'examples/xdp_pass.o', '--pcap', 'examples/xdp_pass.c']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/NC2001/);
  });
});

describe('disasm --nfp-words and asm, against the kernel JIT golden words', () => {
  const goldenDir = join(root, '..', 'shared', 'nfp-golden');
  const present = existsSync(goldenDir);
  if (!present && process.env.CI === 'true') throw new Error(`CI=true but ${goldenDir} is missing`);
  if (!present) console.log(`skipped: ${goldenDir} not found`);
  (present ? test : test.skip)('every loaded word of the six golden programs disassembles to the golden text and assembles back', () => {
    const programs = readdirSync(goldenDir).filter((f) => f.endsWith('.txt'));
    expect(programs).toHaveLength(6);
    for (const f of programs) {
      // Columns: pc, raw word, loaded word, disassembly, optional `; bpf#N`.
      const rows = readFileSync(join(goldenDir, f), 'utf8')
        .split('\n')
        .filter((l) => /^\s*\d+\s+[0-9a-f]{16}\s+[0-9a-f]{16}\s/.test(l))
        .map((l) => {
          const m = /^\s*\d+\s+[0-9a-f]{16}\s+([0-9a-f]{16})\s+(.*?)\s*(;.*)?$/.exec(l)!;
          return { word: m[1], text: m[2] };
        });
      const words = join(tmp, `${f}.words`);
      writeFileSync(words, rows.map((r) => r.word).join('\n') + '\n');
      const d = nicoff(['disasm', '--nfp-words', words]);
      expect(d.status).toBe(0);
      expect(d.stdout.trimEnd().split('\n')).toEqual(rows.map((r) => r.text));
      const src = join(tmp, `${f}.s`);
      writeFileSync(src, d.stdout);
      const a = nicoff(['asm', src]);
      expect(a.status).toBe(0);
      expect(a.stdout.trimEnd().split('\n')).toEqual(rows.map((r) => r.word));
    }
  });

  test('disasm takes an object or --nfp-words, exactly one', () => {
    const none = nicoff(['disasm']);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/NC8001: .*--nfp-words/);
    const both = nicoff(['disasm', 'examples/xdp_pass.o', '--nfp-words', 'examples/xdp_pass.c']);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/NC8001: .*not both/);
  });

  test('a word that is not hexadecimal and a line that does not assemble are coded, with the line', () => {
    const bad = join(tmp, 'bad.words');
    writeFileSync(bad, '000f20f003f05bff\nnot-a-word\n');
    const d = nicoff(['disasm', '--nfp-words', bad]);
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/NC6001 \S*bad\.words:2: /);
    const badAsm = join(tmp, 'bad.s');
    writeFileSync(badAsm, 'nop\nalu[gprA_0, bogus]\n');
    const a = nicoff(['asm', badAsm, '-o', join(tmp, 'never.words')]);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/NC6002 \S*bad\.s:2: /);
    expect(existsSync(join(tmp, 'never.words'))).toBe(false);
  });
});
