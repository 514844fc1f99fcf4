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
  }
}

export function temporalAddress(): string {
  return inject('temporalAddress');
}

export function temporalNamespace(): string {
  return inject('temporalNamespace');
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
