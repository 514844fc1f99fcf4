// The apiserver's own request counters (apiserver_request_total on its /metrics), so the fleet
// bench can say which calls a reconcile pass makes: the apiserver's CPU per pass follows them.
import { request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** verb resource[/subresource] → requests served so far. */
export type RequestCounts = Map<string, number>;

/** Reads apiserver_request_total once (the admin kubeconfig may read /metrics). */
export async function apiserverRequestCounts(kc: KubeConfig): Promise<RequestCounts> {
  const server = new URL(kc.getCurrentCluster()!.server);
  const opts: RequestOptions = {
    method: 'GET',
    hostname: server.hostname,
    port: server.port,
    path: '/metrics',
  };
  await kc.applyToHTTPSOptions(opts);
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(opts, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
  return parseRequestCounts(text);
}

/** Sums apiserver_request_total over codes and scopes, by verb and resource. */
export function parseRequestCounts(metrics: string): RequestCounts {
  const counts: RequestCounts = new Map();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!] as const),
    );
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const key = `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + value);
  }
  return counts;
}

/** Requests per pass between two readings, largest first (WATCH counts opened watches). */
export function requestsPerPass(
  before: RequestCounts,
  after: RequestCounts,
  passes: number,
): Record<string, number> {
  const out: [string, number][] = [];
  for (const [key, n] of after) {
    const d = n - (before.get(key) ?? 0);
    if (d > 0 && passes > 0) out.push([key, Math.round((d / passes) * 100) / 100]);
  }
  return Object.fromEntries(out.sort((a, b) => b[1] - a[1]));
}
