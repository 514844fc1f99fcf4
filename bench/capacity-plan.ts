// The capacity plan of docs/scale.md, computed from one bench:function run's JSON line: every
// figure there is this script's output over measured keys, so a new measurement re-plans by
//   npm run bench:function -- --temporal cluster > run.log
//   npm run capacity-plan -- run.log [--rows 1e9] [--functions 10000] [--value-bytes 4096] …
// Pure planning (capacityPlan) plus a small reader; no timing is asserted anywhere.

/** The bench:function keys the plan reads (a --temporal cluster run: plain keys are the cluster's). */
export interface MeasuredKeys {
  rows_per_s: number;
  rows_per_dispatch: number;
  temporal_server_cpu_s_per_1m_rows: number;
  orchestrator_cpu_s_per_1m_rows: number;
  store_cpu_s_per_1m_rows?: number;
  pull_worker_cpu_s_per_1m_rows: number;
  postgres_commits_per_1k_rows: number;
  postgres_rows_written_per_1k_rows: number;
  history_events_per_1k_rows: number;
  history_bytes_per_1k_rows: number;
  history_bytes_per_1k_rows_uuid: number;
  temporal_actions_per_1m_rows: number;
  history_max_run_events: number;
  idle_actions_per_pass: number;
  idle_history_events_per_pass: number;
  idle_history_bytes_per_pass: number;
  load_avg_1m_end?: number;
}

export interface PlanAssumptions {
  /** Rows of the one large store namespace. */
  rows: number;
  /** Functions installed at once (for the at-rest figures). */
  functions: number;
  /** Discovery interval of an idle Function (the CRD's default is 300 s). */
  discoveryIntervalSeconds: number;
  /** Bytes one row's write carries (the output value: 4 KiB is a 1,024-dimension f32 vector). */
  valueBytes: number;
  /** Turbopuffer's published per-namespace write limits. */
  storeWritesPerSecond: number;
  storeBytesPerSecond: number;
  /** Temporal Cloud's first-tier price per million actions (USD). */
  usdPerMillionActions: number;
  /** Temporal Cloud's default per-namespace action rate. */
  cloudActionsPerSecond: number;
  /** CPU cores one orchestrator replica gets (the chart's limit). */
  orchestratorCoresPerReplica: number;
}

export const DEFAULT_ASSUMPTIONS: PlanAssumptions = {
  rows: 1e9,
  functions: 10_000,
  discoveryIntervalSeconds: 300,
  valueBytes: 4096,
  storeWritesPerSecond: 10_000,
  storeBytesPerSecond: 32 * 1024 * 1024,
  usdPerMillionActions: 50,
  cloudActionsPerSecond: 500,
  orchestratorCoresPerReplica: 1,
};

export interface PlanLine {
  what: string;
  value: string;
  formula: string;
}

const SECONDS_PER_MONTH = 30 * 86_400;

function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  return n.toLocaleString('en-US', { maximumFractionDigits: digits });
}

function bytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(1)} KiB`;
}

/** The plan, line by line, each with the formula it came from. */
export function capacityPlan(m: MeasuredKeys, a: PlanAssumptions = DEFAULT_ASSUMPTIONS): PlanLine[] {
  const k = a.rows / 1000;
  const perM = a.rows / 1e6;
  // The store's per-namespace limit binds one namespace's write rate: rows/s at the service.
  const storeRowsPerSecond = Math.min(a.storeWritesPerSecond, a.storeBytesPerSecond / a.valueBytes);
  const wallSeconds = a.rows / storeRowsPerSecond;
  const claims = a.rows / m.rows_per_dispatch;
  const actions = m.temporal_actions_per_1m_rows * perM;
  const at = (perMillionRows: number) => (perMillionRows * storeRowsPerSecond) / 1e6;
  const idleActionsPerSecond = (a.functions * m.idle_actions_per_pass) / a.discoveryIntervalSeconds;
  const claimsPerSecond = storeRowsPerSecond / m.rows_per_dispatch;
  return [
    {
      what: `one namespace of ${fmt(a.rows)} rows: claims`,
      value: fmt(claims),
      formula: `rows ÷ rows_per_dispatch (${m.rows_per_dispatch})`,
    },
    {
      what: 'history events',
      value: fmt(m.history_events_per_1k_rows * k),
      formula: `history_events_per_1k_rows (${m.history_events_per_1k_rows}) × rows ÷ 1,000`,
    },
    {
      what: 'history payload bytes, integer ids',
      value: bytes(m.history_bytes_per_1k_rows * k),
      formula: `history_bytes_per_1k_rows (${m.history_bytes_per_1k_rows}) × rows ÷ 1,000`,
    },
    {
      what: 'history payload bytes, UUID ids',
      value: bytes(m.history_bytes_per_1k_rows_uuid * k),
      formula: `history_bytes_per_1k_rows_uuid (${m.history_bytes_per_1k_rows_uuid}) × rows ÷ 1,000`,
    },
    {
      what: 'Temporal Cloud actions',
      value: fmt(actions),
      formula: `temporal_actions_per_1m_rows (${m.temporal_actions_per_1m_rows}) × rows ÷ 1M`,
    },
    {
      what: 'Temporal Cloud cost of those actions',
      value: `$${fmt((actions / 1e6) * a.usdPerMillionActions, 2)}`,
      formula: `actions ÷ 1M × $${a.usdPerMillionActions}`,
    },
    {
      what: 'Temporal server CPU in all',
      value: `${fmt((m.temporal_server_cpu_s_per_1m_rows * perM) / 3600, 1)} core-hours`,
      formula: `temporal_server_cpu_s_per_1m_rows (${m.temporal_server_cpu_s_per_1m_rows}) × rows ÷ 1M ÷ 3,600`,
    },
    {
      what: 'PostgreSQL commits / rows written in all',
      value: `${fmt(m.postgres_commits_per_1k_rows * k)} / ${fmt(m.postgres_rows_written_per_1k_rows * k)}`,
      formula: `postgres_commits_per_1k_rows (${m.postgres_commits_per_1k_rows}), postgres_rows_written_per_1k_rows (${m.postgres_rows_written_per_1k_rows}) × rows ÷ 1,000`,
    },
    {
      what: `wall time at the store's per-namespace limit (${fmt(a.storeWritesPerSecond)} writes/s, ${bytes(a.storeBytesPerSecond)}/s, ${a.valueBytes} B per row)`,
      value: `${fmt(wallSeconds / 3600, 1)} h at ${fmt(storeRowsPerSecond)} rows/s`,
      formula: `rows ÷ min(writes/s, bytes/s ÷ value bytes)`,
    },
    {
      what: '… Temporal server cores busy at that rate',
      value: fmt(at(m.temporal_server_cpu_s_per_1m_rows), 2),
      formula: 'temporal_server_cpu_s_per_1m_rows × rows/s ÷ 1M',
    },
    {
      what: '… PostgreSQL commits/s at that rate',
      value: fmt((m.postgres_commits_per_1k_rows * storeRowsPerSecond) / 1000, 1),
      formula: 'postgres_commits_per_1k_rows × rows/s ÷ 1,000',
    },
    {
      what: '… orchestrator replicas (cores busy ÷ cores per replica)',
      value: `${fmt(Math.max(1, Math.ceil(at(m.orchestrator_cpu_s_per_1m_rows) / a.orchestratorCoresPerReplica)))} (${fmt(at(m.orchestrator_cpu_s_per_1m_rows), 2)} cores)`,
      formula: `ceil(orchestrator_cpu_s_per_1m_rows (${m.orchestrator_cpu_s_per_1m_rows}) × rows/s ÷ 1M ÷ ${a.orchestratorCoresPerReplica})`,
    },
    {
      what: "… worker SDK cores (the SDK's own work; add the handler's)",
      value: fmt(at(m.pull_worker_cpu_s_per_1m_rows), 2),
      formula: `pull_worker_cpu_s_per_1m_rows (${m.pull_worker_cpu_s_per_1m_rows}) × rows/s ÷ 1M`,
    },
    {
      what: "… claims/s on the Function's one workflow (one history shard)",
      value: fmt(claimsPerSecond, 1),
      formula: `rows/s ÷ rows_per_dispatch; measured on one shard: ${fmt(m.rows_per_s / m.rows_per_dispatch, 1)} claims/s (rows_per_s ${m.rows_per_s} ÷ rows_per_dispatch) on a 2-core box running everything`,
    },
    {
      what: `${fmt(a.functions)} Functions at rest (discovery every ${a.discoveryIntervalSeconds} s): actions/s`,
      value: fmt(idleActionsPerSecond, 1),
      formula: `functions × idle_actions_per_pass (${m.idle_actions_per_pass}) ÷ interval; Temporal Cloud's default is ${a.cloudActionsPerSecond}/s per namespace`,
    },
    {
      what: '… their actions and cost per month',
      value: `${fmt(idleActionsPerSecond * SECONDS_PER_MONTH)} = $${fmt(((idleActionsPerSecond * SECONDS_PER_MONTH) / 1e6) * a.usdPerMillionActions)}`,
      formula: `actions/s × 2,592,000 s × $${a.usdPerMillionActions} per 1M`,
    },
    {
      what: '… their history payload bytes per day',
      value: bytes(((a.functions * m.idle_history_bytes_per_pass) / a.discoveryIntervalSeconds) * 86_400),
      formula: `functions × idle_history_bytes_per_pass (${m.idle_history_bytes_per_pass}) ÷ interval × 86,400`,
    },
  ];
}

/** The last JSON line of a bench:function log (or a file holding only it). */
export function measuredFrom(text: string): MeasuredKeys {
  const line = text
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{') && l.includes('"rows_per_s"'));
  if (!line)
    throw new Error(
      'capacity-plan: no bench:function JSON line with rows_per_s found — run `npm run bench:function -- --temporal cluster > run.log` and pass run.log',
    );
  const keys = JSON.parse(line) as Record<string, unknown>;
  const required: (keyof MeasuredKeys)[] = [
    'rows_per_s',
    'rows_per_dispatch',
    'temporal_server_cpu_s_per_1m_rows',
    'orchestrator_cpu_s_per_1m_rows',
    'pull_worker_cpu_s_per_1m_rows',
    'postgres_commits_per_1k_rows',
    'postgres_rows_written_per_1k_rows',
    'history_events_per_1k_rows',
    'history_bytes_per_1k_rows',
    'history_bytes_per_1k_rows_uuid',
    'temporal_actions_per_1m_rows',
    'history_max_run_events',
    'idle_actions_per_pass',
    'idle_history_events_per_pass',
    'idle_history_bytes_per_pass',
  ];
  const missing = required.filter((key) => typeof keys[key] !== 'number');
  if (missing.length > 0)
    throw new Error(
      `capacity-plan: the run lacks ${missing.join(', ')} — the plan needs a --temporal cluster run of bench:function`,
    );
  return keys as unknown as MeasuredKeys;
}

async function main(): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const { arg } = await import('./harness.js');
  const file = process.argv.slice(2).find((a) => !a.startsWith('--') && !/^[\d.e+]+$/.test(a));
  if (!file) throw new Error('usage: npm run capacity-plan -- RUN.log [--rows N] [--functions N] …');
  const m = measuredFrom(readFileSync(file, 'utf8'));
  const a: PlanAssumptions = {
    ...DEFAULT_ASSUMPTIONS,
    rows: arg('rows', DEFAULT_ASSUMPTIONS.rows),
    functions: arg('functions', DEFAULT_ASSUMPTIONS.functions),
    discoveryIntervalSeconds: arg('discovery-interval-s', DEFAULT_ASSUMPTIONS.discoveryIntervalSeconds),
    valueBytes: arg('value-bytes', DEFAULT_ASSUMPTIONS.valueBytes),
    usdPerMillionActions: arg('usd-per-million-actions', DEFAULT_ASSUMPTIONS.usdPerMillionActions),
  };
  process.stdout.write(`measured (load average at the end ${m.load_avg_1m_end ?? '?'}): ${file}\n\n`);
  process.stdout.write('| what | value | formula |\n|---|---|---|\n');
  for (const line of capacityPlan(m, a))
    process.stdout.write(`| ${line.what} | ${line.value} | ${line.formula} |\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
