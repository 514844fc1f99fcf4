// What integration tests use to reach the real servers the global setup started once per run
// (test/helpers/global-setup.ts). Tests never start their own Temporal or kube-apiserver.
import { inject } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    temporalUiUrl: string;
    temporalCliPath: string;
    kubeconfigPath: string;
    kubeAdminToken: string;
    kubeServerUrl: string;
    s3Endpoint: string;
    s3AccessKeyId: string;
    s3SecretAccessKey: string;
    s3Region: string;
  }
}

/** Set by a test file that runs on its own Temporal (test/helpers/temporal-cluster.ts). */
let override: { address: string; namespace: string } | undefined;

/**
 * Points every helper of this test file (the Function and Pipeline harnesses read
 * temporalAddress()/temporalNamespace()) at another Temporal, e.g. the local cluster; undefined
 * goes back to the run's dev server. Each test file runs in its own process, so no other file sees it.
 */
export function useTemporal(target: { address: string; namespace: string } | undefined): void {
  override = target;
}

export function temporalAddress(): string {
  return override?.address ?? inject('temporalAddress');
}

export function temporalNamespace(): string {
  return override?.namespace ?? inject('temporalNamespace');
}

/** Admin credentials on the test kube-apiserver. */
export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(inject('kubeconfigPath'));
  return kc;
}

export function kubeconfigPath(): string {
  return inject('kubeconfigPath');
}

/** The real S3-compatible server (MinIO) of this run: endpoint and credentials. */
export function s3Server(): {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
} {
  return {
    endpoint: inject('s3Endpoint'),
    accessKeyId: inject('s3AccessKeyId'),
    secretAccessKey: inject('s3SecretAccessKey'),
    region: inject('s3Region'),
  };
}
