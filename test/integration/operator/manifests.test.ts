// deploy/operator is what people install: every document applies to a real kube-apiserver as
// written (server-side, dry-run free), and the orchestrator pod runs non-root on a read-only
// root filesystem with no added capabilities.
import { readFileSync, readdirSync } from 'node:fs';
import {
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
  type V1Deployment,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { kubeConfig } from '../../helpers/servers.js';

const dir = new URL('../../../deploy/operator/', import.meta.url);
const documents = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((f) =>
    parseAllDocuments(readFileSync(new URL(f, dir), 'utf8')).map((d) => d.toJS() as KubernetesObject),
  )
  .filter((o) => o && o.kind);

describe('deploy/operator manifests', () => {
  it('apply unchanged to a real apiserver', async () => {
    const objects = KubernetesObjectApi.makeApiClient(kubeConfig());
    expect(documents.map((d) => d.kind)).toEqual(
      expect.arrayContaining([
        'Namespace',
        'ServiceAccount',
        'ClusterRole',
        'ClusterRoleBinding',
        'Deployment',
        'Service',
      ]),
    );
    for (const doc of documents) {
      await objects.patch(doc, undefined, undefined, 'manifests-test', true, PatchStrategy.ServerSideApply);
      const read = await objects.read({
        apiVersion: doc.apiVersion,
        kind: doc.kind,
        metadata: { name: doc.metadata!.name!, namespace: doc.metadata?.namespace },
      } as never);
      expect(read.metadata?.name).toBe(doc.metadata?.name);
    }
  });

  it('run the orchestrator non-root, read-only, with every capability dropped', () => {
    const deployment = documents.find((d) => d.kind === 'Deployment') as V1Deployment;
    const pod = deployment.spec!.template.spec!;
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    for (const c of pod.containers) {
      expect(c.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
      });
      expect(c.securityContext?.capabilities?.drop).toContain('ALL');
      expect(c.securityContext?.capabilities?.add ?? []).toEqual([]);
    }
  });
});
