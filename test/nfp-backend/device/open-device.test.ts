/**
 * Which device a name is: software NFPs by name, network devices by sysfs.
 * There is no NFP card on these machines, so the nfp detection is checked
 * against a fake sysfs tree laid out as the kernel lays it out
 * (class/net/<dev>/device/driver -> .../bus/pci/drivers/nfp).
 */
import { describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectNetdev, isNetdevName } from '../../../src/nfp-backend/device/netdev-detect.js';
import { defaultStateDir, openDevice } from '../../../src/nfp-backend/device/open-device.js';

function fakeSysfs(): string {
  const root = mkdtempSync(join(tmpdir(), 'nicoff-sysfs-'));
  const pciDev = join(root, 'devices', 'pci0000:00', '0000:00:03.0');
  mkdirSync(join(root, 'bus', 'pci', 'drivers', 'nfp'), { recursive: true });
  mkdirSync(join(root, 'bus', 'pci', 'drivers', 'ixgbe'), { recursive: true });
  const card = (name: string, driver: string, ifindex: number, slot: string) => {
    const dev = join(pciDev, slot);
    mkdirSync(dev, { recursive: true });
    symlinkSync(join(root, 'bus', 'pci', 'drivers', driver), join(dev, 'driver'));
    const net = join(root, 'class', 'net', name);
    mkdirSync(net, { recursive: true });
    symlinkSync(dev, join(net, 'device'));
    writeFileSync(join(net, 'ifindex'), `${ifindex}\n`);
  };
  card('nfp0', 'nfp', 4, 'a');
  card('enp1s0', 'ixgbe', 5, 'b');
  mkdirSync(join(root, 'class', 'net', 'veth-a'), { recursive: true });
  writeFileSync(join(root, 'class', 'net', 'veth-a', 'ifindex'), '9\n');
  return root;
}

describe('device detection against a fake sysfs tree', () => {
  const sysfs = fakeSysfs();
  const stateDir = mkdtempSync(join(tmpdir(), 'nicoff-state-'));

  test('an NFP card, another PCI NIC and a virtual device', () => {
    expect(detectNetdev('nfp0', sysfs)).toEqual({ name: 'nfp0', driver: 'nfp', virtual: false, ifindex: 4 });
    expect(detectNetdev('enp1s0', sysfs)).toEqual({ name: 'enp1s0', driver: 'ixgbe', virtual: false, ifindex: 5 });
    expect(detectNetdev('veth-a', sysfs)).toEqual({ name: 'veth-a', driver: 'unknown', virtual: true, ifindex: 9 });
    expect(detectNetdev('eth9', sysfs)).toBeUndefined();
  });

  test('names: simN is a software NFP; anything else must be a network device here', () => {
    expect(openDevice('sim0', { stateDir, sysfsRoot: sysfs }).kind).toBe('software-nfp');
    expect(openDevice('sim12', { stateDir, sysfsRoot: sysfs }).kind).toBe('software-nfp');
    expect(openDevice('nfp0', { stateDir, sysfsRoot: sysfs }).kind).toBe('linux');
    expect(() => openDevice('eth9', { stateDir, sysfsRoot: sysfs })).toThrow(/^NC6106: no network device eth9 .*sim0/);
    expect(() => openDevice('sim007', { stateDir, sysfsRoot: sysfs })).toThrow(/^NC6109: /);
    for (const bad of ['', '../x', 'a b', 'x'.repeat(16), 'eth0:1']) expect(isNetdevName(bad)).toBe(false);
  });

  test('--mode offload on a device whose driver is not nfp is refused before the kernel is asked, naming the driver', () => {
    const device = openDevice('enp1s0', { stateDir, sysfsRoot: sysfs });
    const request = { objectPath: 'x.o', objectBytes: new Uint8Array(), program: 'p', programType: 'xdp' as const, layouts: {}, force: false, mode: 'offload' as const };
    expect(() => device.load(request)).toThrow(/^NC6107: device enp1s0: --mode offload needs an NFP \(driver nfp\), but its driver is ixgbe/);
  });

  test('the state directory follows XDG_STATE_HOME, ignoring a relative one', () => {
    expect(defaultStateDir({ XDG_STATE_HOME: '/var/tmp/st', HOME: '/home/u' })).toBe('/var/tmp/st/nicoff');
    expect(defaultStateDir({ XDG_STATE_HOME: 'relative', HOME: '/home/u' })).toBe('/home/u/.local/state/nicoff');
    expect(defaultStateDir({ HOME: '/home/u' })).toBe('/home/u/.local/state/nicoff');
  });
});
