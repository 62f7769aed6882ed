/**
 * What kind of network device a name is, read from sysfs the way the nfp
 * driver's users would check it: /sys/class/net/<dev> exists, and its
 * device/driver link names the driver ("nfp" for a Netronome card). Virtual
 * devices (veth, bridges) have no device link; their driver is asked from
 * ethtool (`ethtool -i`), as sysfs does not carry it. The sysfs root is a
 * parameter so detection is tested against a fake tree.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';

export const NFP_DRIVER = 'nfp';

export interface NetdevInfo {
  name: string;
  /** Kernel driver name, e.g. nfp, veth, virtio_net; 'unknown' when nothing says. */
  driver: string;
  ifindex?: number;
  /** Virtual: no bus device behind it (veth, bridge, dummy). */
  virtual: boolean;
}

/** A name the kernel could give a network device (IFNAMSIZ 16 with the NUL; no '/', ':' or whitespace). */
export function isNetdevName(name: string): boolean {
  return name.length > 0 && name.length <= 15 && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}

function ethtoolDriver(name: string): string | undefined {
  const r = spawnSync('ethtool', ['-i', name], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return /^driver:\s*(\S+)/m.exec(r.stdout)?.[1];
}

/** The device called `name` in this network namespace, or undefined when there is none. */
export function detectNetdev(name: string, sysfsRoot = '/sys'): NetdevInfo | undefined {
  if (!isNetdevName(name)) return undefined;
  const dir = join(sysfsRoot, 'class', 'net', name);
  if (!existsSync(dir)) return undefined;
  let ifindex: number | undefined;
  try {
    ifindex = Number(readFileSync(join(dir, 'ifindex'), 'utf8').trim());
  } catch {
    /* a fake tree may leave it out */
  }
  const withIndex = Number.isInteger(ifindex) ? { ifindex: ifindex! } : {};
  try {
    return { name, driver: basename(readlinkSync(join(dir, 'device', 'driver'))), virtual: false, ...withIndex };
  } catch {
    // No bus device: a virtual one. Only the real sysfs has a kernel to ask.
    const driver = sysfsRoot === '/sys' ? ethtoolDriver(name) : undefined;
    return { name, driver: driver ?? 'unknown', virtual: true, ...withIndex };
  }
}
