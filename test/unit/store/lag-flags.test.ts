// `layer store serve` lag flags: sizes as people type them, the service's numbers for what is
// left out, and a clear refusal for a threshold given without --index-lag (it would do nothing).
import { describe, expect, it } from 'vitest';
import { lagOptionsFromFlags, parseByteSize } from '../../../src/cli/commands/store.js';
import { SERVICE_INDEX_LAG } from '../../../src/store/storage/index-lag.js';
import { storeLagArgs } from '../../../src/store/lag-profile.js';

describe('parseByteSize', () => {
  it.each([
    ['65536', 65_536],
    ['64KiB', 65_536],
    ['128MiB', 128 * 1024 * 1024], // the service's outstanding-write budget
    ['2GB', 2_000_000_000], // the service's backpressure limit, decimal as its docs write it
    ['1.5kb', 1_500],
    [' 32 MB ', 32_000_000],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseByteSize('--x', text)).toBe(bytes);
  });

  it.each(['', 'lots', '-1MB', '12 parsecs', '1e9'])(
    'refuses %j naming the flag and the forms it takes',
    (text) => {
      expect(() => parseByteSize('--outstanding-write-budget', text)).toThrow(
        /--outstanding-write-budget.*expected a size such as 65536, 64KiB, 128MiB or 2GB/,
      );
    },
  );
});

describe('lagOptionsFromFlags', () => {
  it('no flags: no model and no limits (the defaults are unchanged)', () => {
    expect(lagOptionsFromFlags({})).toEqual({});
  });

  it("--index-lag alone: the service's thresholds", () => {
    expect(lagOptionsFromFlags({ indexLag: true })).toEqual({ indexLag: SERVICE_INDEX_LAG });
  });

  it('thresholds scaled for a test', () => {
    expect(
      lagOptionsFromFlags({
        indexLag: true,
        outstandingWriteBudget: '64KiB',
        backpressureLimit: '1MB',
        indexMbPerSec: '0.25',
      }),
    ).toEqual({
      indexLag: {
        outstandingWriteBudgetBytes: 65_536,
        backpressureBytes: 1_000_000,
        indexBytesPerSecond: 250_000,
      },
    });
  });

  it('rate limits stand on their own', () => {
    expect(lagOptionsFromFlags({ writeRowsPerSec: '10000', writeMbPerSec: '32' })).toEqual({
      writeRateLimit: { rowsPerSecond: 10_000, bytesPerSecond: 32_000_000 },
    });
  });

  it('a threshold without --index-lag is refused, naming the flag to add', () => {
    expect(() => lagOptionsFromFlags({ outstandingWriteBudget: '1MiB' })).toThrow(
      /--outstanding-write-budget tunes the index-lag model; add --index-lag to turn it on/,
    );
  });

  it('a negative rate is refused naming the flag', () => {
    expect(() => lagOptionsFromFlags({ indexLag: true, indexMbPerSec: '-1' })).toThrow(/--index-mb-per-sec/);
  });

  it('the bench/chaos lag profile parses', () => {
    const argv = storeLagArgs();
    const value = (flag: string): string => argv[argv.indexOf(flag) + 1]!;
    expect(argv[0]).toBe('--index-lag');
    expect(
      lagOptionsFromFlags({
        indexLag: true,
        outstandingWriteBudget: value('--outstanding-write-budget'),
        backpressureLimit: value('--backpressure-limit'),
        indexMbPerSec: value('--index-mb-per-sec'),
      }).indexLag,
    ).toEqual({
      outstandingWriteBudgetBytes: 262_144,
      backpressureBytes: 32 * 1024 * 1024,
      indexBytesPerSecond: 500_000,
    });
  });
});
