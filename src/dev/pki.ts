// Certificates for the aggregation layer of the local cluster: one CA (the apiserver's
// requestheader client CA, and the CA the apiserver trusts for the KEDA metrics API server), the
// apiserver's front-proxy client certificate, and one certificate KEDA uses for serving
// external.metrics.k8s.io and for the mTLS gRPC link between its operator and metrics server.
// Made with the `openssl` CLI: Node has no certificate builder, and openssl is on every machine
// of the project's kind. Files are reused when present.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ProvisionError } from './binaries.js';

const exec = promisify(execFile);

export interface CertPair {
  cert: string;
  key: string;
}

export interface AggregationPki {
  /** CA certificate + key (PEM files). */
  ca: CertPair;
  /** The apiserver's --proxy-client-cert-file / --proxy-client-key-file (CN front-proxy-client). */
  proxyClient: CertPair;
  /** Folder with ca.crt, tls.crt, tls.key as KEDA expects them (serving and gRPC mTLS). */
  kedaCertDir: string;
}

/** CN the apiserver's proxy client certificate carries (--requestheader-allowed-names). */
export const FRONT_PROXY_CLIENT_CN = 'front-proxy-client';

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await exec('openssl', args, { cwd, timeout: 60_000 });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT')
      throw new ProvisionError('pki', 'the openssl CLI is not on PATH (apt-get install -y openssl)');
    throw new ProvisionError('pki', `openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

async function issue(dir: string, name: string, ca: CertPair, cn: string, sans: string[]): Promise<CertPair> {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  if (existsSync(pair.cert) && existsSync(pair.key)) return pair;
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
    ].join('\n') + '\n',
  );
  const csr = join(dir, `${name}.csr`);
  await openssl(
    ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', pair.key, '-subj', `/CN=${cn}`, '-out', csr],
    dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-CAcreateserial',
      '-days',
      '3650',
      '-extfile',
      ext,
      '-out',
      pair.cert,
    ],
    dir,
  );
  return pair;
}

/** Creates (or reuses) the aggregation-layer certificates under `dir`. */
export async function ensureAggregationPki(dir: string): Promise<AggregationPki> {
  mkdirSync(dir, { recursive: true });
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  if (!existsSync(ca.cert) || !existsSync(ca.key)) {
    await openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        ca.key,
        '-out',
        ca.cert,
        '-days',
        '3650',
        '-subj',
        '/CN=layer-dev-aggregation-ca',
      ],
      dir,
    );
  }
  const proxyClient = await issue(dir, 'front-proxy-client', ca, FRONT_PROXY_CLIENT_CN, []);
  const kedaCertDir = join(dir, 'keda');
  mkdirSync(kedaCertDir, { recursive: true });
  const keda = await issue(dir, 'keda', ca, 'keda-metrics-apiserver', [
    'DNS:localhost',
    'IP:127.0.0.1',
    'DNS:keda-operator.keda.svc',
    'DNS:keda-operator.keda.svc.cluster.local',
    'DNS:keda-metrics-apiserver.keda.svc',
  ]);
  // KEDA reads these three names from one folder (pkg/metricsservice/utils/tls.go).
  copyFileSync(ca.cert, join(kedaCertDir, 'ca.crt'));
  copyFileSync(keda.cert, join(kedaCertDir, 'tls.crt'));
  copyFileSync(keda.key, join(kedaCertDir, 'tls.key'));
  return { ca, proxyClient, kedaCertDir };
}
