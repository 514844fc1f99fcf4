// What start-up code calls to observe a long-running process: one logger, one metrics registry,
// the Temporal Runtime wired into both, and the text /metrics adds to the workload families.
import {
  processLogger,
  registerSecret,
  setProcessLogger,
  createLogger,
  parseLogLevel,
  type Logger,
} from './logger.js';
import { ConfigEnv } from '../config.js';
import { processLayerMetrics } from './metrics.js';
import { installTemporalRuntime, temporalMetricsText } from './temporal-runtime.js';

export { processLogger, registerSecret, logFn } from './logger.js';
export { processLayerMetrics, instrumentActivities, instrumentStore, type LayerMetrics } from './metrics.js';

/** Environment variables that hold secrets whatever reads them (SDKs read some directly). */
const SECRET_ENV = [
  'LAYER_STORE_API_KEY',
  'TEMPORAL_API_KEY',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'LAYER_API_KEY',
  'LAYER_WORKER_API_KEY',
];

/**
 * Sets up logging and metrics for a role (`layer operator`, `layer orchestrator`): call once, at
 * start. Returns the process logger.
 */
export function observeProcess(env: NodeJS.ProcessEnv = process.env): Logger {
  const logger = createLogger({ level: parseLogLevel(env[ConfigEnv.logLevel]) });
  setProcessLogger(logger);
  for (const name of SECRET_ENV) registerSecret(env[name]);
  // Node prints process warnings (deprecations, the AWS SDK's Node-version notice) as free text
  // on stderr; as log records they stay one JSON object per line.
  process.removeAllListeners('warning');
  process.on('warning', (w: Error & { code?: string }) =>
    logger.warn({ warning: w.name, ...(w.code ? { code: w.code } : {}) }, w.message),
  );
  processLayerMetrics();
  return processLogger();
}

/**
 * Installs the Temporal Runtime with our logger and SDK metrics: call right before the process's
 * first NativeConnection (a Worker's). Not earlier: a Runtime that forwards Core's logs holds the
 * event loop open until its last native connection closes, so a role that fails before connecting
 * would never exit.
 */
export async function observeTemporalRuntime(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const metricsAddress = env[ConfigEnv.temporalMetricsAddress];
  return installTemporalRuntime({ logger: processLogger(), ...(metricsAddress ? { metricsAddress } : {}) });
}

/** This process's own metrics and the Temporal SDK's, as Prometheus text. */
export async function processMetricsText(): Promise<string> {
  const [own, temporal] = await Promise.all([
    processLayerMetrics().registry.metrics(),
    temporalMetricsText(),
  ]);
  return `${own.endsWith('\n') || own === '' ? own : `${own}\n`}${temporal}`;
}
