// Optional SDKs load on first use, not when a worker image imports `@hevlayer/worker`: every pod
// start pays for what the package index imports, and a Function's pull worker needs neither the
// Kafka client (~1.4 s of CPU to load on a busy 2-core machine) nor the SQS and S3 SDKs unless its
// Pipeline reads that source or payloads go to a bucket. Node 24 requires ES modules
// synchronously, so the constructors that need them stay synchronous (docs/adr/0130).
import { createRequire } from 'node:module';

const requireFromHere = createRequire(import.meta.url);

/** A loader for `specifier` that requires it on its first call and returns the same module after. */
export function lazyModule<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireFromHere(specifier) as T);
}
