/**
 * What the groups that quote a user-space engine against the kernel share
 * (interp: the reference interpreter; nfp-sim: the software NFP).
 *
 * Engine side: timeCalibrated, a loop grown until one batch lasts long enough,
 * then timed batches.
 *
 * Kernel side: the same eBPF program on the same packet through
 * BPF_PROG_TEST_RUN with repeat KERNEL_REPEAT (the kernel's own average),
 * `batches` batches after one dropped warm-up batch, measured twice: through
 * nicoff's kernel runner (the program as nicoff's loader linked it) and
 * through `bpftool prog loadall` + `bpftool prog run pinned ... repeat N` (the
 * object as libbpf loads it), in a unique /sys/fs/bpf pin removed afterwards.
 *
 * And the figure formats both groups use.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BpfObject, BpfProgram } from '../src/ebpf/bpf-object.js';
import { isKernelRunnerAvailable, programRequestFromObject, runInKernelSync } from '../src/ebpf/kernel/kernel-runner.js';

/**
 * Wall nanoseconds per item of `run(count)`, which does `count * itemsPerCount`
 * items: `count` grows from `first` (x2 to x8 a step, at most `maxCount`) until
 * one call lasts `batchMs`, which also warms the JIT; then `batches` timed calls.
 */
export function timeCalibrated(
  run: (count: number) => void,
  o: { first: number; maxCount: number; batchMs: number; batches: number; itemsPerCount?: number },
): { nsPerItem: number[]; count: number } {
  let count = o.first;
  for (;;) {
    const start = performance.now();
    run(count);
    const elapsed = performance.now() - start;
    if (elapsed >= o.batchMs || count >= o.maxCount) break;
    count = Math.ceil(count * Math.min(8, Math.max(2, (o.batchMs * 1.1) / Math.max(elapsed, 1))));
  }
  const nsPerItem: number[] = [];
  for (let b = 0; b < o.batches; b++) {
    const start = process.hrtime.bigint();
    run(count);
    nsPerItem.push(Number(process.hrtime.bigint() - start) / (count * (o.itemsPerCount ?? 1)));
  }
  return { nsPerItem, count };
}

/** BPF_PROG_TEST_RUN repeat count per kernel batch. */
export const KERNEL_REPEAT = 1_000_000;

/** The kernel's average per batch (ns per packet), and R0 of its last repetition; or why the side was not measured. */
export type KernelTiming = { nsPerPacket: number[]; retval: number } | string;

/** The two kernel sides, as figures and raw entries name them. */
export const KERNEL_SIDES = [
  { side: 'kernel runner', key: 'kernelRunner' },
  { side: 'bpftool prog run', key: 'bpftool' },
] as const;

export function kernelRunnerNsPerPacket(obj: BpfObject, prog: BpfProgram, packet: Uint8Array, batches: number): KernelTiming {
  const availability = isKernelRunnerAvailable();
  if (!availability.ok) return availability.reason;
  const packets = Array.from({ length: batches + 1 }, () => ({ data: packet, repeat: KERNEL_REPEAT }));
  const result = runInKernelSync({ ...programRequestFromObject(obj, prog, packets), dumpMapsAtEnd: false });
  if (!result.loaded) return `the kernel refused the program: ${result.errnoName ?? 'error'} ${result.log.trim().split('\n').slice(-2).join(' | ')}`;
  const runs = result.runs.slice(1); // the first batch warms caches and is dropped
  const durations: number[] = [];
  let retval = -1;
  for (const run of runs) {
    if (!run.ok) return `BPF_PROG_TEST_RUN failed with ${run.errnoName}`;
    durations.push(run.durationNs);
    retval = run.retval;
  }
  return { nsPerPacket: durations, retval };
}

/**
 * `bpftool prog loadall OBJECT` pinned at /sys/fs/bpf/nicoff-bench-PID-PIN,
 * then `bpftool prog run` of program `progName` on `packet` (written to
 * SCRATCH/PIN.bin) once per batch.
 */
export function bpftoolNsPerPacket(objectPath: string, progName: string, packet: Uint8Array, batches: number, where: { pin: string; scratch: string }): KernelTiming {
  if (!existsSync('/sys/fs/bpf')) return '/sys/fs/bpf is not mounted';
  const pinDir = `/sys/fs/bpf/nicoff-bench-${process.pid}-${where.pin}`;
  const packetFile = join(where.scratch, `${where.pin}.bin`);
  writeFileSync(packetFile, packet);
  const load = spawnSync('bpftool', ['prog', 'loadall', objectPath, pinDir], { encoding: 'utf8' });
  try {
    if (load.error) return `bpftool is not usable: ${load.error.message}`;
    if (load.status !== 0) return `bpftool prog loadall failed: ${(load.stderr || load.stdout).trim().split('\n').slice(-2).join(' | ')}`;
    const nsPerPacket: number[] = [];
    let retval = -1;
    for (let b = 0; b < batches + 1; b++) {
      const run = spawnSync('bpftool', ['prog', 'run', 'pinned', join(pinDir, progName), 'data_in', packetFile, 'repeat', String(KERNEL_REPEAT)], {
        encoding: 'utf8',
      });
      const answer = /Return value: (\d+), duration \(average\): (\d+)ns/.exec(`${run.stdout}${run.stderr}`);
      if (!answer) return `bpftool prog run failed: ${(run.stderr || run.stdout).trim().slice(-300)}`;
      retval = Number(answer[1]);
      if (b > 0) nsPerPacket.push(Number(answer[2]));
    }
    return { nsPerPacket, retval };
  } finally {
    rmSync(pinDir, { recursive: true, force: true });
  }
}

/** A time per packet as the figures quote it. */
export function formatNs(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} µs`;
  return value >= 100 ? `${Math.round(value)} ns` : `${value.toFixed(1)} ns`;
}

/** How many times slower than the kernel. */
export function formatRatio(value: number): string {
  return value >= 10 ? `${Math.round(value)}x` : `${value.toFixed(1)}x`;
}
