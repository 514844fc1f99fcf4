// No secret value reaches a log line (registered values scrubbed anywhere in a line, secret-looking
// keys redacted), the human form for terminals, the SDK logger adapter, and LAYER_LOG_LEVEL.
import { afterEach, describe, expect, it } from 'vitest';
import {
  REDACTED,
  clearSecrets,
  createLogger,
  parseLogLevel,
  prettyLine,
  registerSecret,
} from '../../../src/observe/logger.js';
import { temporalLoggerFor } from '../../../src/observe/temporal-runtime.js';

function capture(opts: { level?: 'info' | 'debug'; pretty?: boolean } = {}) {
  const lines: string[] = [];
  const logger = createLogger({
    level: opts.level ?? 'info',
    pretty: opts.pretty ?? false,
    write: (l) => lines.push(l),
  });
  return { logger, lines };
}

afterEach(() => clearSecrets());

describe('structured logger', () => {
  it('writes one JSON object per line with the fields given', () => {
    const { logger, lines } = capture();
    logger
      .child({ role: 'operator/api' })
      .info({ workflowId: 'function/layer/x', batchId: 'b-1' }, 'listening');
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(rec).toMatchObject({
      level: 30,
      role: 'operator/api',
      workflowId: 'function/layer/x',
      batchId: 'b-1',
      msg: 'listening',
    });
    expect(typeof rec.time).toBe('number');
  });

  it('replaces a registered secret wherever it appears: message, nested field, error message', () => {
    const key = 'sk-live-4f1b9c2e7d';
    registerSecret(key);
    const { logger, lines } = capture();
    logger.warn({ url: `http://store?key=${key}`, nested: { deeper: [key] } }, `calling with ${key}`);
    logger.error({ err: new Error(`401 for bearer ${key}`) }, 'store refused');
    const all = lines.join('');
    expect(all).not.toContain(key);
    // url, nested, message, and the error's message and stack
    expect(all.split(REDACTED).length - 1).toBe(5);
  });

  it('redacts secret-looking keys even when their value was never registered', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        apiKey: 'unregistered-1',
        store: { apiKey: 'unregistered-2' },
        headers: { authorization: 'Bearer t' },
      },
      'x',
    );
    const rec = JSON.parse(lines[0]!) as {
      apiKey: string;
      store: { apiKey: string };
      headers: { authorization: string };
    };
    expect([rec.apiKey, rec.store.apiKey, rec.headers.authorization]).toEqual([REDACTED, REDACTED, REDACTED]);
  });

  it('ignores secrets shorter than 4 characters (they would mangle ordinary words)', () => {
    registerSecret('abc');
    const { logger, lines } = capture();
    logger.info('abc abc');
    expect((JSON.parse(lines[0]!) as { msg: string }).msg).toBe('abc abc');
  });

  it('on a terminal: one short human line', () => {
    const time = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    expect(
      prettyLine(
        JSON.stringify({
          level: 40,
          time,
          pid: 1,
          role: 'operator',
          msg: 'store slow',
          ms: 1200,
          where: 'a b',
        }),
      ),
    ).toBe('03:04:05.678 WARN  operator: store slow ms=1200 where="a b"\n');
  });

  it('routes the Temporal SDK logger with its metadata; lifecycle INFO of the worker becomes debug', () => {
    const { logger, lines } = capture({ level: 'info' });
    const sdk = temporalLoggerFor(logger);
    sdk.info('Worker state changed', { sdkComponent: 'worker', state: 'RUNNING' });
    sdk.warn('Activity failed', { sdkComponent: 'activity', workflowId: 'function/layer/x', runId: 'r1' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 40,
      workflowId: 'function/layer/x',
      runId: 'r1',
      msg: 'Activity failed',
    });
  });

  it.each([
    [undefined, 'info'],
    ['DEBUG', 'debug'],
    ['warning', 'warn'],
    ['silent', 'silent'],
  ])('LAYER_LOG_LEVEL=%s is %s', (value, level) => {
    expect(parseLogLevel(value)).toBe(level);
  });

  it('a bad LAYER_LOG_LEVEL names the variable and the fix', () => {
    expect(() => parseLogLevel('loud')).toThrow(
      /LAYER_LOG_LEVEL: expected one of trace, debug, info.*got "loud".*LAYER_LOG_LEVEL=debug/,
    );
  });
});
