/**
 * A lock between the processes that share a directory (`wasmhost up --workers n --data-dir`): a
 * lock file created exclusively (`wx`, O_EXCL), held for one short critical section and removed
 * after it. A holder that died leaves its file behind; one older than `STALE_MS` is taken over,
 * since a critical section takes milliseconds. (The takeover is a rename, so of two processes
 * that find the same stale file only one takes it.)
 */
import { randomUUID } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const STALE_MS = 10_000;

export class FileLockTimeoutError extends Error {}

export async function withFileLock<T>(path: string, section: () => Promise<T>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  for (;;) {
    try {
      await (await open(path, 'wx')).close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > STALE_MS) {
      const taken = `${path}.stale-${randomUUID()}`;
      if (await rename(path, taken).then(() => true, () => false)) await rm(taken, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new FileLockTimeoutError(`another process held ${path} for more than ${timeoutMs} ms`);
    await sleep(delay);
    delay = Math.min(delay * 2, 20);
  }
  try {
    return await section();
  } finally {
    await rm(path, { force: true });
  }
}
