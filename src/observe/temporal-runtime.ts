// The Temporal SDK's Runtime, installed once per process before any connection: its logger (SDK,
// workflow and activity log calls, and Core's native logs, forwarded) goes into our pino logger
// with the workflow and run ids the SDK attaches, and its worker metrics are exported by Core's
// Prometheus exporter on a loopback port whose text /metrics appends to ours
// (docs/adr/0060-metrics-where-measured.md).
import { createServer } from 'node:net';
import type { LogLevel as TemporalLogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import type { Logger } from './logger.js';

/** SDK components whose INFO lines are lifecycle chatter (worker state, bundle report): debug. */
const CHATTY_COMPONENTS = new Set(['worker', 'core']);

const PINO_LEVEL: Record<TemporalLogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** The SDK's Logger interface over a pino logger; metadata (workflowId, runId, …) become fields. */
export function temporalLoggerFor(logger: Logger): TemporalLogger {
  const log = (level: TemporalLogLevel, message: string, meta?: LogMetadata) => {
    const fields = { ...(meta ?? {}) } as Record<string, unknown>;
    let target = PINO_LEVEL[level] ?? 'info';
    if (target === 'info' && CHATTY_COMPONENTS.has(String(fields.sdkComponent))) target = 'debug';
    logger[target](fields, message);
  };
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}

let metricsUrl: string | undefined;

/** A free loopback port (the exporter needs a fixed address; port 0 would hide it from us). */
async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface TemporalRuntimeOptions {
  logger: Logger;
  /**
   * host:port for Core's Prometheus exporter (LAYER_TEMPORAL_METRICS_ADDRESS); default a free
   * loopback port; `off` exports no SDK metrics.
   */
  metricsAddress?: string;
}

/**
 * Installs the process's Temporal Runtime. Returns false when one already exists (an embedding
 * program installed its own): that one is kept, and /metrics has no SDK metrics.
 */
export async function installTemporalRuntime(opts: TemporalRuntimeOptions): Promise<boolean> {
  const address =
    opts.metricsAddress === 'off'
      ? undefined
      : (opts.metricsAddress ?? `127.0.0.1:${await freeLoopbackPort()}`);
  try {
    Runtime.install({
      logger: temporalLoggerFor(opts.logger.child({ component: 'temporal' })),
      telemetryOptions: {
        logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
        ...(address
          ? {
              metrics: {
                prometheus: {
                  bindAddress: address,
                  // Prometheus conventions: counters end in _total, durations in seconds with the unit.
                  countersTotalSuffix: true,
                  unitSuffix: true,
                  useSecondsForDurations: true,
                },
              },
            }
          : {}),
      },
    });
  } catch {
    return false;
  }
  if (address) metricsUrl = `http://${address.replace(/^0\.0\.0\.0:/, '127.0.0.1:')}/metrics`;
  return true;
}

/** The SDK's metrics text ('' when not exported or not reachable: a scrape never fails on it). */
export async function temporalMetricsText(timeoutMs = 2_000): Promise<string> {
  if (!metricsUrl) return '';
  try {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return '';
    const text = await res.text();
    return text.endsWith('\n') || text === '' ? text : `${text}\n`;
  } catch {
    return '';
  }
}
