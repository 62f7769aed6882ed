/**
 * A software device's state on disk, under `<state dir>/devices/<name>/`:
 *
 *   state.json        {"sha256": hex of body, "body": DeviceStateBody}: what is
 *                     loaded, since when, every map's contents, the counters
 *   image-<gen>.nfp   the loaded NFP image (ELF, image-format.ts), named by the
 *                     generation that wrote it and checked by its sha256
 *   lock              the lock file (device-lock.ts)
 *
 * state.json is the commit point: a change writes any new image file first,
 * then a temporary state file, fsyncs both, and renames the state file over
 * the old one (then fsyncs the directory). A kill at any point leaves either
 * the old state or the new one; image files no state names are removed on
 * the next write. A state that fails its checksum or does not parse is
 * reported as damaged (NC6101), never half-read.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../diagnostics/diagnostic.js';

export const STATE_FORMAT = 'nicoff-device';
export const STATE_VERSION = 1;
const STATE_FILE = 'state.json';

/** Where a test (or a curious user) can stop the process mid-write: NICOFF_DEVICE_FAILPOINT=<name> kills it there. */
export type DeviceFailpoint = 'after-image' | 'after-temp-state' | 'after-rename';

function failpoint(name: DeviceFailpoint): void {
  if (process.env.NICOFF_DEVICE_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}

export interface DeviceCounters {
  runs: number;
  packets: number;
  actions: Record<string, number>;
  faults: number;
  lastRun?: string;
}

/** A map's contents in the host's view (bpf(2) byte order), hex. Arrays keep non-zero slots only. */
export interface StoredMap {
  tableId: number;
  name: string;
  entries: [string, string][];
}

export interface StoredProgram {
  program: string;
  type: 'xdp' | 'tc';
  /** The object the image was compiled from, as given, and its digest. */
  object: string;
  objectSha256: string;
  since: string;
  image: string;
  imageSha256: string;
  /** Per map (by table id), BTF layouts of key and value when the object had them (map-value-layout.ts). */
  layouts: Record<string, { key?: unknown; value?: unknown }>;
  maps: StoredMap[];
  counters: DeviceCounters;
}

export interface DeviceStateBody {
  format: typeof STATE_FORMAT;
  version: typeof STATE_VERSION;
  device: string;
  kind: 'software-nfp';
  generation: number;
  loaded?: StoredProgram;
}

export const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

export function deviceDir(stateDir: string, device: string): string {
  return join(stateDir, 'devices', device);
}

/** Write, fsync, close. */
function writeSynced(path: string, data: Uint8Array | string): void {
  const fd = openSync(path, 'w', 0o644);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class DeviceStateStore {
  readonly dir: string;

  constructor(
    readonly stateDir: string,
    readonly device: string,
  ) {
    this.dir = deviceDir(stateDir, device);
  }

  get lockPath(): string {
    return join(this.dir, 'lock');
  }

  ensureDir(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    } catch (e) {
      fail('NC6100', { device: this.device, reason: `cannot create ${this.dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
    }
  }

  damaged(reason: string): never {
    return fail('NC6101', { device: this.device, file: join(this.dir, STATE_FILE), reason });
  }

  /** The committed state; undefined when the device was never used (or was reset). */
  read(): DeviceStateBody | undefined {
    let text: string;
    try {
      text = readFileSync(join(this.dir, STATE_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return fail('NC6100', { device: this.device, reason: `cannot read its state: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
    }
    let outer: unknown;
    try {
      outer = JSON.parse(text);
    } catch {
      return this.damaged('not JSON');
    }
    const o = outer as { sha256?: unknown; body?: unknown };
    if (typeof o !== 'object' || o === null || typeof o.sha256 !== 'string' || typeof o.body !== 'object' || o.body === null) return this.damaged('not a device state');
    if (sha256(JSON.stringify(o.body)) !== o.sha256) return this.damaged('checksum mismatch');
    const body = o.body as DeviceStateBody;
    if (body.format !== STATE_FORMAT) return this.damaged(`format ${JSON.stringify(body.format)}`);
    if (body.version !== STATE_VERSION) return this.damaged(`version ${JSON.stringify(body.version)} (this nicoff writes ${STATE_VERSION})`);
    if (body.device !== this.device) return this.damaged(`it belongs to device ${JSON.stringify(body.device)}`);
    return body;
  }

  /** The image a state names, checked against its digest. */
  readImage(program: StoredProgram): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(join(this.dir, program.image));
    } catch (e) {
      return this.damaged(`its image ${program.image} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    if (sha256(bytes) !== program.imageSha256) this.damaged(`its image ${program.image} does not match the recorded checksum`);
    return bytes;
  }

  /** Commit `body` (and a new image, if given, under `body.loaded.image`). */
  write(body: DeviceStateBody, image?: Uint8Array): void {
    this.ensureDir();
    try {
      if (image && body.loaded) {
        writeSynced(join(this.dir, body.loaded.image), image);
        failpoint('after-image');
      }
      const text = JSON.stringify({ sha256: sha256(JSON.stringify(body)), body });
      const tmp = join(this.dir, `.${STATE_FILE}.${process.pid}.tmp`);
      writeSynced(tmp, text);
      failpoint('after-temp-state');
      renameSync(tmp, join(this.dir, STATE_FILE));
      fsyncDir(this.dir);
      failpoint('after-rename');
    } catch (e) {
      if ((e as { diagnostic?: unknown }).diagnostic) throw e;
      fail('NC6100', { device: this.device, reason: `cannot save its state in ${this.dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
    }
    this.removeLeftovers(body);
  }

  /** Replace one small file of the device atomically (undefined: remove it). */
  writeFile(name: string, text: string | undefined): void {
    this.ensureDir();
    const path = join(this.dir, name);
    try {
      if (text === undefined) {
        try {
          unlinkSync(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      } else {
        const tmp = join(this.dir, `.${name}.${process.pid}.tmp`);
        writeSynced(tmp, text);
        renameSync(tmp, path);
      }
      fsyncDir(this.dir);
    } catch (e) {
      fail('NC6100', { device: this.device, reason: `cannot save ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
    }
  }

  /** Discard everything (unload --force on a damaged state). */
  reset(): void {
    for (const f of this.files()) if (f !== 'lock') unlinkSync(join(this.dir, f));
  }

  private files(): string[] {
    try {
      return readdirSync(this.dir);
    } catch {
      return [];
    }
  }

  /** Images no committed state names, and temporary files of processes that were killed. */
  private removeLeftovers(body: DeviceStateBody): void {
    for (const f of this.files()) {
      const orphanImage = /^image-\d+\.nfp$/.test(f) && f !== body.loaded?.image;
      const deadTemp = f.startsWith(`.${STATE_FILE}.`) && f.endsWith('.tmp');
      if (orphanImage || deadTemp) {
        try {
          unlinkSync(join(this.dir, f));
        } catch {
          /* already gone */
        }
      }
    }
  }
}
