import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ASSUMPTIONS,
  capacityPlan,
  measuredFrom,
  type MeasuredKeys,
} from '../../../bench/capacity-plan.js';

const measured: MeasuredKeys = {
  rows_per_s: 10_000,
  rows_per_dispatch: 1000,
  temporal_server_cpu_s_per_1m_rows: 20,
  orchestrator_cpu_s_per_1m_rows: 16,
  pull_worker_cpu_s_per_1m_rows: 40,
  postgres_commits_per_1k_rows: 10,
  postgres_rows_written_per_1k_rows: 30,
  history_events_per_1k_rows: 6,
  history_bytes_per_1k_rows: 2000,
  history_bytes_per_1k_rows_uuid: 2048,
  temporal_actions_per_1m_rows: 2000,
  history_max_run_events: 3000,
  idle_actions_per_pass: 3,
  idle_history_events_per_pass: 10,
  idle_history_bytes_per_pass: 1000,
};

const value = (what: string) => capacityPlan(measured).find((l) => l.what.startsWith(what))?.value;

describe('the capacity plan from measured keys', () => {
  it.each([
    ['one namespace of 1.00 B rows: claims', '1.00 M'],
    ['history events', '6.00 M'],
    ['history payload bytes, integer ids', '1.9 GiB'],
    ['Temporal Cloud actions', '2.00 M'],
    ['Temporal Cloud cost of those actions', '$100'],
    // 32 MiB/s ÷ 4 KiB = 8,192 rows/s binds before 10k writes/s: 1e9 / 8192 s = 33.9 h.
    ['wall time at the store', '33.9 h at 8,192 rows/s'],
    ['… orchestrator replicas', '1 (0.13 cores)'],
    // 10,000 Functions × 3 actions ÷ 300 s.
    ['10,000 Functions at rest', '100'],
  ])('%s = %s', (what, expected) => {
    expect(value(what)).toBe(expected);
  });

  it('gives every line its formula', () => {
    for (const line of capacityPlan(measured, DEFAULT_ASSUMPTIONS)) expect(line.formula).not.toBe('');
  });

  it('reads the last JSON line of a run and names what a run lacks', () => {
    const log = `phase 1 …\n{"rows":1}\n${JSON.stringify(measured)}\n`;
    expect(measuredFrom(log).rows_per_dispatch).toBe(1000);
    const { idle_actions_per_pass: _, ...partial } = measured;
    expect(() => measuredFrom(JSON.stringify(partial))).toThrow(/idle_actions_per_pass/);
    expect(() => measuredFrom('no json here')).toThrow(/--temporal cluster/);
  });
});
