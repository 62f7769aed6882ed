/**
 * `nicoff load` as a library call: compile what the device needs and hand
 * it over. A software NFP runs nicoff's optimized image; an NFP card gets the
 * object through the kernel (which verifies and JITs it itself), with
 * nicoff's kernel-compatible image beside it for comparison; the host XDP
 * path (native, generic) needs no NFP code at all, so an object the NFP
 * refuses still loads there.
 */
import type { BpfObject, BpfProgram } from '../ebpf/bpf-object.js';
import { layoutFromBtf } from '../ebpf/map-value-layout.js';
import type { AttachMode, DeviceLoadReport, DeviceLoadRequest, NfpDevice } from '../nfp-backend/device/nfp-device.js';
import { compileProgram, type CompileOptions } from './compile-program.js';
import { fail } from '../diagnostics/diagnostic.js';

export interface DeviceLoadOptions {
  objectPath: string;
  objectBytes: Uint8Array;
  mode?: AttachMode;
  force?: boolean;
  compile?: Omit<CompileOptions, 'mode' | 'file'>;
}

/** Key and value layouts of every map of the object, by name, from its BTF. */
export function mapLayouts(obj: BpfObject): DeviceLoadRequest['layouts'] {
  return Object.fromEntries(
    obj.maps.map((m) => [m.name, { key: layoutFromBtf(obj.btf, m.keyTypeId, m.keySize), value: layoutFromBtf(obj.btf, m.valueTypeId, m.valueSize) }]),
  );
}

export function loadOntoDevice(device: NfpDevice, obj: BpfObject, prog: BpfProgram, options: DeviceLoadOptions): DeviceLoadReport {
  const programType = prog.type === 'xdp' ? 'xdp' : prog.type === 'sched_cls' ? 'tc' : fail('NC5002', { type: prog.type });
  const base = { objectPath: options.objectPath, objectBytes: options.objectBytes, program: prog.name, programType, layouts: mapLayouts(obj), force: options.force ?? false } as const;
  const compile = (mode: 'optimize' | 'kernel-compat') => compileProgram(obj, prog, { ...options.compile, mode, file: options.objectPath });
  let request: DeviceLoadRequest;
  if (device.kind === 'software-nfp') {
    request = { ...base, image: compile('optimize').image, ...(options.mode ? { mode: options.mode } : {}) };
  } else if (options.mode === 'native' || options.mode === 'generic') {
    request = { ...base, mode: options.mode };
  } else {
    // Offload (asked, or the default on an nfp device): the kernel decides, nicoff's kernel-compatible words are the comparison.
    let kernelCompatImage;
    try {
      kernelCompatImage = compile('kernel-compat').image;
    } catch {
      kernelCompatImage = undefined; // the kernel's own refusal is the message the user needs
    }
    request = { ...base, ...(options.mode ? { mode: options.mode } : {}), ...(kernelCompatImage ? { kernelCompatImage } : {}) };
  }
  return device.load(request);
}
