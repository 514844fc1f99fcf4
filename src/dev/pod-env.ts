// A container's environment as a kubelet builds it, from the pod spec and the Secrets and
// ConfigMaps it refers to: envFrom first (with its prefix), then env in order (a later name
// wins), `$(NAME)` references expanded against what came before, valueFrom secretKeyRef /
// configMapKeyRef / fieldRef resolved. Pure: lookups are passed in. The pod runner
// (src/dev/pod-runner.ts) starts worker processes with exactly this, so a rendered Deployment's
// wrong variable or missing Secret fails like it would on a node.
import type { V1Container, V1Pod } from '@kubernetes/client-node';

export interface EnvLookups {
  /** The Secret's decoded data, or undefined when it does not exist. */
  secret(namespace: string, name: string): Record<string, string> | undefined;
  configMap(namespace: string, name: string): Record<string, string> | undefined;
}

/** What a kubelet reports as CreateContainerConfigError: the environment cannot be built. */
export class PodEnvError extends Error {
  constructor(
    readonly pod: string,
    readonly container: string,
    message: string,
  ) {
    super(`pod ${pod} container ${container}: ${message}`);
    this.name = 'PodEnvError';
  }
}

/** Expands `$(NAME)` from `vars`; `$$(NAME)` is the escaped literal; unknown names stay as written. */
export function expandVars(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && name in vars ? vars[name]! : m;
  });
}

function fieldValue(pod: V1Pod, path: string): string {
  const meta = pod.metadata ?? {};
  switch (path) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? 'default';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    case 'status.hostIP':
      return pod.status?.hostIP ?? '';
  }
  const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
  if (label) return meta.labels?.[label[1]!] ?? '';
  const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(path);
  if (annotation) return meta.annotations?.[annotation[1]!] ?? '';
  throw new Error(`fieldRef ${path} is not supported`);
}

/** The environment of `container` in `pod`; throws PodEnvError naming the variable and the fix. */
export function containerEnvironment(
  pod: V1Pod,
  container: V1Container,
  lookups: EnvLookups,
): Record<string, string> {
  const ns = pod.metadata?.namespace ?? 'default';
  const podName = `${ns}/${pod.metadata?.name ?? '?'}`;
  const fail = (message: string) => new PodEnvError(podName, container.name, message);
  const vars: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.secretRef) {
      const data = lookups.secret(ns, from.secretRef.name ?? '');
      if (data === undefined) {
        if (from.secretRef.optional) continue;
        throw fail(`envFrom secretRef: secret "${from.secretRef.name}" not found in namespace ${ns}`);
      }
      for (const [k, v] of Object.entries(data)) vars[prefix + k] = v;
    }
    if (from.configMapRef) {
      const data = lookups.configMap(ns, from.configMapRef.name ?? '');
      if (data === undefined) {
        if (from.configMapRef.optional) continue;
        throw fail(
          `envFrom configMapRef: configmap "${from.configMapRef.name}" not found in namespace ${ns}`,
        );
      }
      for (const [k, v] of Object.entries(data)) vars[prefix + k] = v;
    }
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom === undefined) {
      vars[e.name] = expandVars(e.value ?? '', vars);
      continue;
    }
    const { secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef } = e.valueFrom;
    if (secretKeyRef) {
      const data = lookups.secret(ns, secretKeyRef.name ?? '');
      const value = data?.[secretKeyRef.key];
      if (value === undefined) {
        if (secretKeyRef.optional) continue;
        throw fail(
          data === undefined
            ? `env ${e.name}: secret "${secretKeyRef.name}" not found in namespace ${ns}`
            : `env ${e.name}: secret "${secretKeyRef.name}" has no key "${secretKeyRef.key}"`,
        );
      }
      vars[e.name] = value;
    } else if (configMapKeyRef) {
      const data = lookups.configMap(ns, configMapKeyRef.name ?? '');
      const value = data?.[configMapKeyRef.key];
      if (value === undefined) {
        if (configMapKeyRef.optional) continue;
        throw fail(
          `env ${e.name}: configmap "${configMapKeyRef.name}" key "${configMapKeyRef.key}" not found`,
        );
      }
      vars[e.name] = value;
    } else if (fieldRef) {
      vars[e.name] = fieldValue(pod, fieldRef.fieldPath);
    } else if (resourceFieldRef) {
      throw fail(`env ${e.name}: resourceFieldRef is not supported by the local pod runner`);
    }
  }
  return vars;
}
