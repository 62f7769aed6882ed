/**
 * nicoff's route into the running kernel: the oracle the reference
 * interpreter, the verifier and the NFP simulator are compared against.
 *
 * Node cannot call bpf(2), Debian's libbpf refuses legacy `maps` sections and
 * bpftool only loads whole objects, so a small C helper
 * (native/kernel-runner.c, built to build/nicoff-kernel-runner) takes the
 * program nicoff's loader has already linked, creates its maps, loads it and
 * runs a whole batch of packets in one process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../../diagnostics/diagnostic.js';
import type { BpfObject, BpfProgram } from '../bpf-object.js';
import { PROG_TYPE, attachTypeNumber } from './kernel-enums.js';
import {
  encodeKernelRequest,
  errnoName,
  parseKernelResponse,
  type KernelPacket,
  type KernelRunRequest,
  type KernelRunResult,
} from './runner-protocol.js';

export * from './runner-protocol.js';

export type KernelRunnerAvailability =
  | { ok: true; runnerPath: string; possibleCpus: number }
  | { ok: false; reason: string };

/** src/ebpf/kernel/ and dist/ebpf/kernel/ both sit three levels below the package root. */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const RUNNER_SOURCE = join(PACKAGE_ROOT, 'native', 'kernel-runner.c');

/** Where the runner binary is: NICOFF_KERNEL_RUNNER, else build/ in the package. */
export function kernelRunnerPath(): string {
  return process.env.NICOFF_KERNEL_RUNNER || join(PACKAGE_ROOT, 'build', 'nicoff-kernel-runner');
}

/**
 * Compile the runner when it is missing or older than its source (a checkout
 * where `npm run build:native` has not been run yet, or the C just changed).
 * Returns why it could not, or undefined.
 */
function buildRunnerIfStale(runner: string): string | undefined {
  const present = existsSync(runner);
  if (process.env.NICOFF_KERNEL_RUNNER || !existsSync(RUNNER_SOURCE)) {
    return present ? undefined : `no runner binary at ${runner}`;
  }
  if (present && statSync(runner).mtimeMs >= statSync(RUNNER_SOURCE).mtimeMs) return undefined;
  try {
    mkdirSync(dirname(runner), { recursive: true });
  } catch (e) {
    return `cannot create ${dirname(runner)}: ${(e as Error).message}`;
  }
  // Build beside and rename: parallel test workers may get here at the same time.
  const partial = `${runner}.${process.pid}.partial`;
  const gcc = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-o', partial, RUNNER_SOURCE], { encoding: 'utf8' });
  if (gcc.error) return `runner not built and gcc is not usable (${gcc.error.message}); run \`npm run build:native\``;
  if (gcc.status !== 0) return `building the runner failed: ${gcc.stderr.trim().split('\n').slice(0, 5).join(' | ')}`;
  renameSync(partial, runner);
  return undefined;
}

let cachedAvailability: KernelRunnerAvailability | undefined;

/**
 * Can this process use the kernel oracle? Checks (once per process): Linux,
 * NICOFF_NO_KERNEL not set, the runner binary present (built if stale), and
 * that bpf(2) really creates a map and loads a program (root or CAP_BPF +
 * CAP_NET_ADMIN). /sys/fs/bpf is not needed: nothing is pinned.
 */
export function isKernelRunnerAvailable(): KernelRunnerAvailability {
  if (process.env.NICOFF_NO_KERNEL === '1') return { ok: false, reason: 'disabled by NICOFF_NO_KERNEL=1' };
  if (cachedAvailability) return cachedAvailability;
  cachedAvailability = probeKernelRunner();
  return cachedAvailability;
}

function probeKernelRunner(): KernelRunnerAvailability {
  if (process.platform !== 'linux') return { ok: false, reason: `bpf(2) needs Linux; this is ${process.platform}` };
  const runner = kernelRunnerPath();
  const buildProblem = buildRunnerIfStale(runner);
  if (buildProblem) return { ok: false, reason: buildProblem };
  const probe = spawnSync(runner, ['--probe'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error) return { ok: false, reason: `cannot run ${runner}: ${probe.error.message}` };
  const answer = probe.stdout.trim().split(' ');
  if (answer[0] === 'probe' && answer[1] === 'ok') {
    return { ok: true, runnerPath: runner, possibleCpus: Number(answer[2]) };
  }
  if (answer[0] === 'probe' && answer[1] === 'fail') {
    const errno = Number(answer[2]);
    const uid = process.getuid?.();
    const hint =
      errno === 1 // EPERM
        ? `: run as root or with CAP_BPF and CAP_NET_ADMIN (uid ${uid}); check kernel.unprivileged_bpf_disabled`
        : errno === 38 // ENOSYS
          ? ': this kernel has no bpf(2)'
          : '';
    return { ok: false, reason: `bpf(2) ${answer[3]} failed with ${errnoName(errno)}${hint}` };
  }
  return { ok: false, reason: `unexpected probe answer from ${runner}: ${probe.stdout.trim() || probe.stderr.trim()}` };
}

function requireRunner(): string {
  const availability = isKernelRunnerAvailable();
  if (!availability.ok) fail('NC3010', { reason: availability.reason });
  return availability.runnerPath;
}

/** Answers can be large (map dumps, 64 KiB-slack packets in hex); the cap only guards against runaway output. */
const MAX_ANSWER_BYTES = 1 << 30;

/** Load the program, run every packet and dump maps, all in one runner process. */
export async function runInKernel(request: KernelRunRequest): Promise<KernelRunResult> {
  const runner = requireRunner();
  const input = encodeKernelRequest(request);
  return new Promise<KernelRunResult>((resolve, reject) => {
    const child = spawn(runner, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // The runner stops reading after a malformed line; its answer says why, so a broken pipe is not the story.
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => reject(e));
    child.on('close', (status) => {
      try {
        resolve(parseKernelResponse(request, Buffer.concat(out).toString('latin1'), status, Buffer.concat(err).toString()));
      } catch (e) {
        reject(e);
      }
    });
    child.stdin.end(input);
  });
}

/** runInKernel without the promise, for callers that are synchronous anyway. */
export function runInKernelSync(request: KernelRunRequest): KernelRunResult {
  const runner = requireRunner();
  const child = spawnSync(runner, [], { input: encodeKernelRequest(request), maxBuffer: MAX_ANSWER_BYTES });
  if (child.error) fail('NC3012', { reason: child.error.message });
  return parseKernelResponse(request, child.stdout.toString('latin1'), child.status, child.stderr.toString());
}

/**
 * The request for one program of a loaded object, its maps in object order
 * (so ld_imm64 map indices match). Packets are the caller's.
 */
export function programRequestFromObject(
  obj: BpfObject,
  prog: BpfProgram,
  packets: KernelPacket[] = [],
): KernelRunRequest {
  let expectedAttachType: number | undefined;
  if (prog.attachType) {
    expectedAttachType = attachTypeNumber(prog.type, prog.attachType);
    if (expectedAttachType === undefined) {
      fail('NC3013', { attach: prog.attachType, type: prog.type }, { section: prog.section });
    }
  }
  return {
    progType: PROG_TYPE[prog.type],
    ...(expectedAttachType !== undefined ? { expectedAttachType } : {}),
    name: prog.name,
    license: obj.license,
    ...(obj.kernelVersion !== undefined ? { kernVersion: obj.kernelVersion } : {}),
    insns: prog.bytes,
    maps: obj.maps.map((m, i) => {
      if (m.index !== i) fail('NC3012', { reason: `map ${m.name} has index ${m.index} at position ${i}` });
      return {
        name: m.name,
        type: m.type,
        keySize: m.keySize,
        valueSize: m.valueSize,
        maxEntries: m.maxEntries,
        flags: m.flags,
        ...(m.initialValue ? { initialValue: m.initialValue } : {}),
        ...(m.readOnly ? { readOnly: true } : {}),
        ...(m.inner
          ? {
              inner: {
                type: m.inner.type,
                keySize: m.inner.keySize,
                valueSize: m.inner.valueSize,
                maxEntries: m.inner.maxEntries,
                flags: m.inner.flags,
              },
            }
          : {}),
      };
    }),
    packets,
  };
}

/** Throw NC3011 with the errno and the log's last lines unless the program loaded. */
export function assertLoaded(result: KernelRunResult): void {
  if (result.loaded) return;
  const tail = result.log.trim().split('\n').slice(-3).join(' | ');
  fail('NC3011', { reason: `${result.errnoName ?? 'error'}${tail ? `: ${tail}` : ''}` });
}

/**
 * For tests that compare against the kernel. NICOFF_NO_KERNEL=1 skips them
 * (returns ok: false after saying so); otherwise an unusable kernel throws
 * NC3010, so a CI machine that lost its kernel access fails instead of
 * silently skipping.
 */
export function kernelOracleOrSkip(): KernelRunnerAvailability {
  if (process.env.NICOFF_NO_KERNEL === '1') {
    process.stderr.write('kernel oracle skipped: NICOFF_NO_KERNEL=1\n');
    return { ok: false, reason: 'disabled by NICOFF_NO_KERNEL=1' };
  }
  const availability = isKernelRunnerAvailable();
  if (!availability.ok) fail('NC3010', { reason: availability.reason });
  return availability;
}
