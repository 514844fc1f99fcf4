// Connection options from Temporal settings: the SDK turns TLS on whenever an API key is set, so
// TEMPORAL_TLS=false (settings without tls) must say `tls: false` explicitly. Found when the
// observe test ran `layer operator` with an API key against the plain dev server.
import { describe, expect, it } from 'vitest';
import { nativeConnectionOptions } from '../../../packages/worker/src/temporal-connection.js';

describe('nativeConnectionOptions', () => {
  it.each([
    [{ address: 'a:1', namespace: 'n' }, { address: 'a:1' }],
    [
      { address: 'a:1', namespace: 'n', apiKey: 'k' },
      { address: 'a:1', apiKey: 'k', tls: false },
    ],
    [
      { address: 'a:1', namespace: 'n', apiKey: 'k', tls: {} },
      { address: 'a:1', apiKey: 'k', tls: {} },
    ],
    [
      { address: 'a:1', namespace: 'n', tls: { serverName: 'temporal.example' } },
      { address: 'a:1', tls: { serverNameOverride: 'temporal.example' } },
    ],
  ])('%j connects with %j', (settings, options) => {
    expect(nativeConnectionOptions(settings)).toEqual(options);
  });
});
