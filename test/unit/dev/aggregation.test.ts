// The aggregation wiring of the local cluster (docs/adr/0084): the apiserver trusts the front
// proxy's certificate, and reaches KEDA's metrics server on loopback through an ExternalName
// Service, since Endpoints refuse 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { externalMetricsApiObjects, EXTERNAL_METRICS_API_SERVICE } from '../../../src/dev/controllers.js';
import { aggregationFlags } from '../../../src/dev/kube-apiserver.js';
import { FRONT_PROXY_CLIENT_CN } from '../../../src/dev/pki.js';

describe('aggregation layer', () => {
  it('apiserver flags: requestheader CA, allowed name and the proxy client pair; none without certificates', () => {
    const pki = {
      ca: { cert: '/p/ca.crt', key: '/p/ca.key' },
      proxyClient: { cert: '/p/fp.crt', key: '/p/fp.key' },
      kedaCertDir: '/p/keda',
    };
    expect(aggregationFlags(pki)).toEqual(
      expect.arrayContaining([
        '--requestheader-client-ca-file=/p/ca.crt',
        `--requestheader-allowed-names=${FRONT_PROXY_CLIENT_CN}`,
        '--proxy-client-cert-file=/p/fp.crt',
        '--proxy-client-key-file=/p/fp.key',
      ]),
    );
    expect(aggregationFlags(undefined)).toEqual([]);
  });

  it('the APIService points at an ExternalName localhost Service on the metrics server port, with the CA', () => {
    const [service, apiService] = externalMetricsApiObjects(6443, 'PEM') as [
      { spec: Record<string, unknown> },
      { metadata: { name: string }; spec: Record<string, unknown> },
    ];
    expect(service.spec).toEqual({ type: 'ExternalName', externalName: 'localhost' });
    expect(apiService.metadata.name).toBe(EXTERNAL_METRICS_API_SERVICE);
    expect(apiService.spec).toMatchObject({
      group: 'external.metrics.k8s.io',
      version: 'v1beta1',
      caBundle: Buffer.from('PEM').toString('base64'),
      service: { name: 'keda-metrics-apiserver', namespace: 'keda', port: 6443 },
    });
  });
});
