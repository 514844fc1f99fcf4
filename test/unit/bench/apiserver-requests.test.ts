import { describe, expect, it } from 'vitest';
import { parseRequestCounts, requestsPerPass } from '../../../bench/apiserver-requests.js';

const metrics = (applyDeployments: number, getFunctions: number) =>
  [
    '# HELP apiserver_request_total [STABLE] Counter of apiserver requests',
    `apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} ${applyDeployments}`,
    `apiserver_request_total{code="201",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} 1`,
    `apiserver_request_total{code="200",component="apiserver",dry_run="",group="hevlayer.com",resource="functions",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 7`,
    `apiserver_request_total{code="200",component="apiserver",dry_run="",group="hevlayer.com",resource="functions",scope="resource",subresource="",verb="GET",version="v1alpha1"} ${getFunctions}`,
    'apiserver_request_duration_seconds_count{verb="GET"} 99',
  ].join('\n');

describe('apiserver request counts', () => {
  it('sums codes and scopes by verb and resource, with the subresource', () => {
    expect(Object.fromEntries(parseRequestCounts(metrics(10, 4)))).toEqual({
      'APPLY deployments': 11,
      'PATCH functions/status': 7,
      'GET functions': 4,
    });
  });

  it('gives the requests per pass between two readings, largest first, leaving out what did not move', () => {
    const before = parseRequestCounts(metrics(10, 4));
    const after = parseRequestCounts(metrics(30, 44));
    expect(Object.entries(requestsPerPass(before, after, 20))).toEqual([
      ['GET functions', 2],
      ['APPLY deployments', 1],
    ]);
    expect(requestsPerPass(before, after, 0)).toEqual({});
  });
});
