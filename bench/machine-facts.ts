/** What a benchmark figure was measured on: recorded beside every result. */
import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';

export interface MachineFacts {
  cpuModel: string;
  /** Logical CPUs this process may use. */
  cpus: number;
  node: string;
  kernel: string;
}

function cpuModelFromProcCpuinfo(): string | undefined {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    return line?.split(':').slice(1).join(':').trim();
  } catch {
    return undefined;
  }
}

export function machineFacts(): MachineFacts {
  return {
    cpuModel: cpuModelFromProcCpuinfo() ?? cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    node: process.version,
    kernel: release(),
  };
}
