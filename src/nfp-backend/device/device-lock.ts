/**
 * One nicoff process at a time per device: a lock file created with O_EXCL
 * holding the owner's pid. A lock whose owner is gone (killed mid-update) is
 * taken over; a live owner is waited for, then reported (NC6105).
 *
 * Take-over renames the stale file to a name of our own before removing it,
 * so two processes that both find it stale cannot both remove a fresh lock.
 */
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { fail } from '../../diagnostics/diagnostic.js';

const POLL_MS = 20;
const DEFAULT_WAIT_MS = 10_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function tryCreate(path: string): boolean {
  try {
    const fd = openSync(path, 'wx', 0o644);
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    return fail('NC6100', { device: path, reason: `cannot create the lock file: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
  }
}

/** Remove a lock whose owner is dead (or unreadable for longer than a write takes). */
function takeOverStale(path: string): void {
  const mine = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, mine);
  } catch {
    return; // someone else took it over, or it was released
  }
  const pid = ownerOf(mine);
  if (pid !== undefined && pid !== process.pid && isAlive(pid)) {
    // It was re-taken between our look and the rename: give it back.
    try {
      renameSync(mine, path);
    } catch {
      /* the owner will find its lock gone; its own release tolerates that */
    }
    return;
  }
  unlinkSync(mine);
}

/** Run `body` holding the device's lock; waits up to `waitMs` for another process. */
export function withDeviceLock<T>(device: string, path: string, body: () => T, waitMs = DEFAULT_WAIT_MS): T {
  const deadline = Date.now() + waitMs;
  let unreadableSince: number | undefined;
  while (!tryCreate(path)) {
    const pid = ownerOf(path);
    if (pid === undefined) {
      // Created but not yet written by its owner, or left empty by a kill between the two.
      unreadableSince ??= Date.now();
      if (Date.now() - unreadableSince > 500) takeOverStale(path);
    } else if (!isAlive(pid)) {
      takeOverStale(path);
      continue;
    }
    if (Date.now() > deadline) fail('NC6105', { device, pid: pid ?? 'unknown', waited: (waitMs / 1000).toFixed(0) });
    sleepMs(POLL_MS);
  }
  try {
    return body();
  } finally {
    try {
      unlinkSync(path);
    } catch {
      /* taken over as stale while we held it: nothing to release */
    }
  }
}
