// One server set-up (a harness) shared by the tests of a file: started before the first test,
// closed after the last, so a test file says `const h = engineHarnessPerFile()` instead of a `let`
// and two hooks.
import { afterAll, beforeAll } from 'vitest';

/**
 * Runs `start` in beforeAll and closes what it gave in afterAll; the returned object stands for it
 * inside the file's tests (reading it before beforeAll ran is a bug and throws).
 */
export function perFile<T extends { close(): Promise<void> }>(start: () => Promise<T>): T {
  let value: T | undefined;
  beforeAll(async () => {
    value = await start();
  });
  afterAll(async () => {
    await value?.close();
  });
  const started = (key: string | symbol): T => {
    if (!value) throw new Error(`read ${String(key)} of a per-file harness before beforeAll started it`);
    return value;
  };
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(started(key), key),
    set: (_, key, v) => Reflect.set(started(key), key, v),
  });
}
