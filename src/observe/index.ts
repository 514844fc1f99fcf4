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
import { processLayerMetrics } from './metrics.js';
import { installTemporalRuntime, temporalMetricsText } from './temporal-runtime.js';

export { processLogger, registerSecret, logFn, type Logger, type LogFn } from './logger.js';
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
 * Sets up logging and metrics for a role (`layer operator`, `layer orchestrator`): call once,
 * before any Temporal connection. Returns the process logger.
 */
export async function observeProcess(env: NodeJS.ProcessEnv = process.env): Promise<Logger> {
  const logger = createLogger({ level: parseLogLevel(env.LAYER_LOG_LEVEL) });
  setProcessLogger(logger);
  for (const name of SECRET_ENV) registerSecret(env[name]);
  processLayerMetrics();
  const metricsAddress = env.LAYER_TEMPORAL_METRICS_ADDRESS;
  await installTemporalRuntime({ logger, ...(metricsAddress ? { metricsAddress } : {}) });
  return processLogger();
}

/** This process's own metrics and the Temporal SDK's, as Prometheus text. */
export async function processMetricsText(): Promise<string> {
  const [own, temporal] = await Promise.all([
    processLayerMetrics().registry.metrics(),
    temporalMetricsText(),
  ]);
  return `${own.endsWith('\n') || own === '' ? own : `${own}\n`}${temporal}`;
}
