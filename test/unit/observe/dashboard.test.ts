// The Grafana dashboard queries only metrics the code exports (the names come from the metrics
// registry modules, not a copied list), and the chart ships the same dashboard.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportedMetricNames } from '../../../src/observe/metrics.js';

const root = join(import.meta.dirname, '..', '..', '..');
const DASHBOARD = join(root, 'deploy', 'grafana', 'layer-dashboard.json');
const CHART_COPY = join(root, 'deploy', 'helm', 'layer', 'files', 'layer-dashboard.json');

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { definition?: string }[] };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');

/** Metric names in a PromQL expression: identifiers of our prefixes (labels and functions are not). */
function metricNamesIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...withoutStrings.matchAll(/\b((?:layer|temporal|process|nodejs)_[a-zA-Z0-9_:]*)/g)].map(
    (m) => m[1]!,
  );
}

describe('Grafana dashboard', () => {
  it('every panel has a query, and every query names only exported metrics', async () => {
    const exported = await exportedMetricNames();
    expect(panels.length).toBeGreaterThanOrEqual(20);
    const unknown: string[] = [];
    for (const p of panels) {
      expect(p.targets?.length ?? 0, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        const names = metricNamesIn(t.expr);
        expect(names.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        unknown.push(...names.filter((n) => !exported.has(n)).map((n) => `${p.title}: ${n}`));
      }
    }
    for (const v of dashboard.templating.list)
      if (v.definition) unknown.push(...metricNamesIn(v.definition).filter((n) => !exported.has(n)));
    expect(unknown).toEqual([]);
  });

  it('the extraction sees a misspelt name (the check above can fail)', async () => {
    const exported = await exportedMetricNames();
    const names = metricNamesIn(
      'sum by (le) (rate(layer_function_batch_duraton_seconds_bucket{name="layer_x"}[5m]))',
    );
    expect(names).toEqual(['layer_function_batch_duraton_seconds_bucket']);
    expect(exported.has(names[0]!)).toBe(false);
  });

  it('the Helm chart ships the same dashboard (files/ links to it, as it links the RBAC)', () => {
    expect(readlinkSync(CHART_COPY)).toBe('../../../grafana/layer-dashboard.json');
    expect(readFileSync(CHART_COPY, 'utf8')).toBe(readFileSync(DASHBOARD, 'utf8'));
  });
});
