// sharedSchema (docs/adr/0114): one schema per key and thread; a second builder under a key it
// does not own is a programming error that must not quietly answer the first one's schema.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sharedSchema } from '../../../packages/worker/src/contracts/shared-schema.js';

describe('sharedSchema', () => {
  it('builds once per key and answers the same object after', () => {
    let builds = 0;
    const make = () =>
      sharedSchema('test/shared-schema.once', () => {
        builds++;
        return z.object({ a: z.string() });
      });
    const first = make();
    // What another workflow's instance of the same module does: the same builder, evaluated anew.
    const again = make();
    expect(again).toBe(first);
    expect(builds).toBe(1);
    expect(first.parse({ a: 'x' })).toEqual({ a: 'x' });
  });

  it('refuses a different builder under a key already taken, naming the key', () => {
    sharedSchema('test/shared-schema.taken', () => z.string());
    expect(() => sharedSchema('test/shared-schema.taken', () => z.number())).toThrow(
      /two different schemas use the key 'test\/shared-schema.taken'/,
    );
  });

  it('gives every contract schema its own key (importing them all throws on a clash)', async () => {
    // Each module registers its schemas at import; a duplicated key with another builder throws here.
    await expect(
      Promise.all([
        import('../../../packages/worker/src/contracts/function.js'),
        import('../../../packages/worker/src/contracts/pipeline.js'),
        import('../../../packages/worker/src/contracts/rate-limit.js'),
        import('../../../src/contracts/function.js'),
        import('../../../src/contracts/pipeline.js'),
        import('../../../src/contracts/observations.js'),
        import('../../../src/contracts/rate-limit.js'),
      ]),
    ).resolves.toHaveLength(7);
  });
});
