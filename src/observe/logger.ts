// One structured logger per process (pino): JSON lines on stderr, or a short human form when
// stderr is a terminal. stdout stays for command output. Two guards keep secrets out: pino's
// redaction of secret-looking keys, and a scrubber that replaces every registered secret value
// (store API key, Temporal API key, inbound auth keys, S3 keys) wherever it appears in a line,
// e.g. inside an error message that quotes a URL or a header (docs/adr/0061-structured-logs.md).
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Keys whose values are never logged, at any depth pino redaction reaches (two levels). */
const REDACT_KEYS = [
  'apiKey',
  'api_key',
  'authorization',
  'password',
  'secret',
  'secretAccessKey',
  'token',
  'bearer',
  'keys',
];
const REDACT_PATHS = REDACT_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
export const REDACTED = '[redacted]';

/** Secret values registered by start-up code; replaced in every line written. */
const secrets = new Set<string>();

/** Never log this value (shorter than 4 characters: ignored, it would mangle ordinary text). */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

/** Test helper: forget every registered secret. */
export function clearSecrets(): void {
  secrets.clear();
}

function scrubSecrets(line: string): string {
  let out = line;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  // A JSON-escaped form (a secret with quotes or backslashes inside a JSON string).
  for (const s of secrets) {
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
  }
  return out;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** One JSON log line in a short human form: `12:00:01.123 INFO  operator/api: msg key=value`. */
export function prettyLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const { time, level, msg, role, pid: _pid, hostname: _host, ...rest } = rec;
  const t = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const lvl = (LEVEL_NAMES[Number(level)] ?? String(level)).padEnd(5);
  const fields = Object.entries(rest)
    .map(
      ([k, v]) =>
        `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`,
    )
    .join(' ');
  return `${t} ${lvl} ${role ? `${String(role)}: ` : ''}${String(msg ?? '')}${fields ? ` ${fields}` : ''}\n`;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Human-readable lines instead of JSON (default: when the output is a terminal). */
  pretty?: boolean;
  /** Where lines go (default stderr). */
  write?: (line: string) => void;
}

/**
 * @example
 * const log = createLogger({ level: 'info' }).child({ role: 'operator' });
 * log.info({ taskQueue }, 'worker polling');
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const pretty = opts.pretty ?? process.stderr.isTTY === true;
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const destination: DestinationStream = {
    write: (line: string) => write(pretty ? prettyLine(scrubSecrets(line)) : scrubSecrets(line)),
  };
  return pino(
    {
      level: (opts.level ?? 'info') as LevelWithSilent,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      // `err` fields keep message, type and stack (pino's standard serializer).
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    destination,
  );
}

let root: Logger | undefined;

/** The process's logger (created on first use at LAYER_LOG_LEVEL; see setProcessLogger). */
export function processLogger(): Logger {
  return (root ??= createLogger({ level: parseLogLevel(process.env.LAYER_LOG_LEVEL) }));
}

export function setProcessLogger(logger: Logger): void {
  root = logger;
}

/** LAYER_LOG_LEVEL's value; undefined means info. */
export function parseLogLevel(value: string | undefined): LogLevel {
  const v = (value ?? 'info').trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  if (v === 'warning') return 'warn';
  throw new Error(
    `LAYER_LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(value)}); e.g. LAYER_LOG_LEVEL=debug`,
  );
}

/** The `(line, fields)` function the roles and servers take, over a child logger. */
export type LogFn = (line: string, fields?: Record<string, unknown>) => void;

export function logFn(logger: Logger, level: 'info' | 'warn' | 'error' | 'debug' = 'info'): LogFn {
  return (line, fields) => logger[level](fields ?? {}, line);
}
