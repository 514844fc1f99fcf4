// A real Kubernetes control plane for tests and `layer dev up --kube`: etcd plus kube-apiserver
// on free loopback ports, RBAC on, a static admin token, and service-account tokens for any
// ClusterRole so a test can run the operator under exactly its own permissions. No scheduler,
// controller-manager or kubelet: objects are stored and validated, nothing runs (envtest-style);
// src/dev/controllers.ts adds those to a server started with `aggregation`.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { resolveKubeBinaries, ProvisionError, type Logger } from './binaries.js';
import { freePorts, httpsOk, waitFor } from './net.js';
import { FRONT_PROXY_CLIENT_CN, type AggregationPki } from './pki.js';
import { startProcess, type ManagedProcess } from './process.js';

export interface KubeApiServerOptions {
  log: Logger;
  /** Holds etcd data, certificates, tokens, logs and the kubeconfig. */
  stateDir: string;
  /** Keep running after this process exits (`layer dev up --kube`). */
  detached?: boolean;
  /** Skip fsync in etcd: much faster, loses data on a machine crash (fine for tests). */
  fastEtcd?: boolean;
  env?: NodeJS.ProcessEnv;
  /**
   * Turn on the aggregation layer with these certificates (requestheader client CA and the front
   * proxy's client certificate), so an APIService can send external.metrics.k8s.io to KEDA.
   */
  aggregation?: AggregationPki;
}

export interface KubeApiServer {
  serverUrl: string;
  adminToken: string;
  caData: string;
  /** A kubeconfig file with admin credentials (group system:masters). */
  kubeconfigPath: string;
  /** The apiserver's self-signed serving certificate (PEM file): the cluster's root CA. */
  caFile: string;
  /** Private key that signs service-account tokens (the controller-manager's token controller needs it). */
  serviceAccountKeyFile: string;
  pids: { etcd: number; apiserver: number };
  adminKubeConfig(): KubeConfig;
  stop(): Promise<void>;
}

export function kubeConfigFor(serverUrl: string, caData: string, user: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'layer-dev',
        server: serverUrl,
        caData: Buffer.from(caData).toString('base64'),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: user, token }],
    contexts: [{ name: 'layer-dev', cluster: 'layer-dev', user }],
    currentContext: 'layer-dev',
  });
  return kc;
}

function kubeconfigYaml(serverUrl: string, caData: string, user: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'layer-dev',
        cluster: { server: serverUrl, 'certificate-authority-data': Buffer.from(caData).toString('base64') },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'layer-dev', context: { cluster: 'layer-dev', user } }],
    'current-context': 'layer-dev',
  });
}

function ensureServiceAccountKeys(dir: string): { pub: string; key: string } {
  const pub = join(dir, 'sa.pub');
  const key = join(dir, 'sa.key');
  if (!existsSync(pub) || !existsSync(key)) {
    const pair = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    writeFileSync(pub, pair.publicKey);
    writeFileSync(key, pair.privateKey, { mode: 0o600 });
  }
  return { pub, key };
}

function ensureAdminToken(dir: string): { file: string; token: string } {
  const file = join(dir, 'tokens.csv');
  if (!existsSync(file)) {
    const token = randomBytes(24).toString('hex');
    writeFileSync(file, `${token},layer-admin,layer-admin,"system:masters"\n`, { mode: 0o600 });
  }
  const token = readFileSync(file, 'utf8').split(',')[0] ?? '';
  return { file, token };
}

async function httpGetOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return res.ok;
}

/** The apiserver flags of the aggregation layer (none without certificates). */
export function aggregationFlags(pki: AggregationPki | undefined): string[] {
  if (!pki) return [];
  return [
    `--requestheader-client-ca-file=${pki.ca.cert}`,
    `--requestheader-allowed-names=${FRONT_PROXY_CLIENT_CN}`,
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-username-headers=X-Remote-User',
    `--proxy-client-cert-file=${pki.proxyClient.cert}`,
    `--proxy-client-key-file=${pki.proxyClient.key}`,
  ];
}

export async function startKubeApiServer(opts: KubeApiServerOptions): Promise<KubeApiServer> {
  const env = opts.env ?? process.env;
  const bins = await resolveKubeBinaries(opts.log, env);
  const dir = opts.stateDir;
  const certDir = join(dir, 'certs');
  mkdirSync(certDir, { recursive: true });
  const sa = ensureServiceAccountKeys(dir);
  const admin = ensureAdminToken(dir);
  const [etcdPort = 0, peerPort = 0, apiPort = 0] = await freePorts(3);
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const started: ManagedProcess[] = [];
  const stopAll = async () => {
    for (const p of started.reverse()) await p.stop();
  };
  try {
    const etcd = startProcess({
      name: 'etcd',
      command: bins.etcd.path,
      args: [
        '--name=layer-dev',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=layer-dev=${peerUrl}`,
        '--log-level=warn',
        ...(opts.fastEtcd ? ['--unsafe-no-fsync=true'] : []),
      ],
      logFile: join(dir, 'etcd.log'),
      env,
      detached: opts.detached,
    });
    started.push(etcd);
    await waitFor('etcd', () => httpGetOk(`${etcdUrl}/health`), {
      timeoutMs: 60_000,
      isAlive: etcd.exitReason,
    });

    const apiserver = startProcess({
      name: 'kube-apiserver',
      command: bins.apiserver.path,
      args: [
        `--etcd-servers=${etcdUrl}`,
        `--cert-dir=${certDir}`,
        `--secure-port=${apiPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        '--service-cluster-ip-range=10.0.0.0/24',
        '--allow-privileged=true',
        '--authorization-mode=RBAC',
        `--token-auth-file=${admin.file}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${sa.pub}`,
        `--service-account-signing-key-file=${sa.key}`,
        // Nothing here creates pods, and flow control only slows a single-user test server.
        '--disable-admission-plugins=ServiceAccount',
        '--enable-priority-and-fairness=false',
        ...aggregationFlags(opts.aggregation),
        '--v=0',
      ],
      logFile: join(dir, 'kube-apiserver.log'),
      env,
      detached: opts.detached,
    });
    started.push(apiserver);
    const serverUrl = `https://127.0.0.1:${apiPort}`;
    const certFile = join(certDir, 'apiserver.crt');
    await waitFor('kube-apiserver certificate', async () => existsSync(certFile), {
      timeoutMs: 60_000,
      isAlive: apiserver.exitReason,
    });
    const caData = readFileSync(certFile, 'utf8');
    await waitFor(
      'kube-apiserver',
      () => httpsOk(`${serverUrl}/readyz`, { token: admin.token, ca: caData }),
      {
        timeoutMs: 120_000,
        intervalMs: 250,
        isAlive: apiserver.exitReason,
      },
    );
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml(serverUrl, caData, 'layer-admin', admin.token), {
      mode: 0o600,
    });
    opts.log(`kube-apiserver ready at ${serverUrl} (kubeconfig ${kubeconfigPath})`);
    return {
      serverUrl,
      adminToken: admin.token,
      caData,
      kubeconfigPath,
      caFile: certFile,
      serviceAccountKeyFile: sa.key,
      pids: { etcd: etcd.pid, apiserver: apiserver.pid },
      adminKubeConfig: () => kubeConfigFor(serverUrl, caData, 'layer-admin', admin.token),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err instanceof ProvisionError ? err : new ProvisionError('kube-apiserver', (err as Error).message);
  }
}

export interface MintedCredentials {
  kubeConfig: KubeConfig;
  /** system:serviceaccount:<namespace>:<name> */
  username: string;
  token: string;
}

/**
 * A ServiceAccount bound to `clusterRole` (which must exist), with a fresh token from the
 * TokenRequest API: a KubeConfig that has exactly that role's permissions, as the operator's
 * own ServiceAccount has in a real cluster.
 */
export async function mintServiceAccountCredentials(
  admin: KubeConfig,
  {
    name,
    namespace,
    clusterRole,
    expirationSeconds = 3600,
  }: { name: string; namespace: string; clusterRole: string; expirationSeconds?: number },
): Promise<MintedCredentials> {
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } }).catch(ignoreConflict);
  await core
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name } } })
    .catch(ignoreConflict);
  await rbac
    .createClusterRoleBinding({
      body: {
        metadata: { name: `${namespace}-${name}-${clusterRole}`.slice(0, 253) },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      },
    })
    .catch(ignoreConflict);
  const tokenRequest = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds } },
  });
  const token = tokenRequest.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('admin KubeConfig has no current cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token }],
    contexts: [{ name, cluster: cluster.name, user: name }],
    currentContext: name,
  });
  return { kubeConfig: kc, username: `system:serviceaccount:${namespace}:${name}`, token };
}

function ignoreConflict(err: unknown): void {
  const code = (err as { code?: number }).code;
  if (code !== 409) throw err;
}
