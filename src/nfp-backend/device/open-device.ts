/**
 * A device by name: `sim0`, `sim1`, ... is a software NFP (created on its
 * first load); any other name must be a network device of this machine's
 * network namespace, handled by the Linux driver shim. The state directory
 * is `--state-dir`, else $XDG_STATE_HOME/nicoff, else ~/.local/state/nicoff.
 */
import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fail } from '../../diagnostics/diagnostic.js';
import { currentNetns, LinuxDriverShim, type LinuxShimOptions } from './linux-driver-shim.js';
import { detectNetdev } from './netdev-detect.js';
import type { NfpDevice } from './nfp-device.js';
import { SoftwareNfpDevice } from './software-device.js';

const SOFTWARE_DEVICE = /^sim(0|[1-9]\d{0,5})$/;

export function isSoftwareDeviceName(name: string): boolean {
  return SOFTWARE_DEVICE.test(name);
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  // XDG: a relative path is invalid and must be ignored.
  if (xdg && xdg.startsWith('/')) return join(xdg, 'nicoff');
  return join(env.HOME || homedir(), '.local', 'state', 'nicoff');
}

export interface OpenDeviceOptions extends LinuxShimOptions {
  stateDir?: string;
  sysfsRoot?: string;
}

export function openDevice(name: string, options: OpenDeviceOptions = {}): NfpDevice {
  const stateDir = options.stateDir ?? defaultStateDir();
  if (isSoftwareDeviceName(name)) return new SoftwareNfpDevice(name, stateDir);
  if (/^sim/.test(name)) fail('NC6109', { device: name, reason: 'software NFP devices are named sim0, sim1, ... (sim and a number without leading zeros)' });
  const netdev = detectNetdev(name, options.sysfsRoot);
  if (!netdev) return fail('NC6106', { device: name });
  return new LinuxDriverShim(netdev, stateDir, options);
}

/**
 * Every device with a state under `stateDir` that this network namespace
 * can reach: software NFPs, and network devices nicoff loaded here.
 */
export function listDevices(options: OpenDeviceOptions = {}): NfpDevice[] {
  const stateDir = options.stateDir ?? defaultStateDir();
  let names: string[];
  try {
    names = readdirSync(join(stateDir, 'devices'));
  } catch {
    return [];
  }
  const netns = currentNetns();
  const out: NfpDevice[] = [];
  for (const entry of names.sort()) {
    if (isSoftwareDeviceName(entry)) out.push(new SoftwareNfpDevice(entry, stateDir));
    const m = /^(.+)@netns-(\d+|unknown)$/.exec(entry);
    if (m && m[2] === netns) {
      const netdev = detectNetdev(m[1]!, options.sysfsRoot);
      if (netdev) out.push(new LinuxDriverShim(netdev, stateDir, options));
    }
  }
  return out;
}
