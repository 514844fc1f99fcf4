// InfraRules: the cluster-scoped policy for Layer-managed runtime infrastructure
// (infrarules-crd.md). Exactly one object, InfraRules/default.
import { z } from 'zod';
import { API_VERSION, INFRA_RULES_NAME } from './group.js';
import {
  conditionsSchema,
  DNS_LABEL_RE,
  nodeSelectorSchema,
  objectMetaSchema,
  observedGenerationSchema,
  resourceRequirementsSchema,
  tolerationSchema,
  refineIssue,
} from './common.js';

export const computePoolSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(63)
      .regex(DNS_LABEL_RE, 'must be lowercase letters, digits and -')
      .describe('Pool name, referenced by spec.scaling.pool on Pipeline and Function resources.'),
    kind: z
      .string()
      .min(1)
      .max(63)
      .describe(
        'Pool class label such as cpu or gpu. gpu pools request nvidia.com/gpu "1" and tolerate the NVIDIA taint.',
      ),
    gpuType: z
      .string()
      .max(128)
      .optional()
      .describe('Optional descriptive GPU type (SKU hint) for GPU pools.'),
    nodeSelector: nodeSelectorSchema.optional().describe('Applied to worker pods that choose the pool.'),
    tolerations: z
      .array(tolerationSchema)
      .max(32)
      .optional()
      .describe('Applied to worker pods that choose the pool.'),
    resources: resourceRequirementsSchema.optional().describe('Container resources applied to worker pods.'),
    maxReplicasPerWorkload: z
      .int()
      .min(1)
      .max(1000)
      .describe('Hard ceiling on replicas.max for one Pipeline or Function on this pool.'),
    costPerHour: z
      .number()
      .min(0)
      .max(1_000_000)
      .optional()
      .describe(
        'Optional hint: what one worker replica on this pool costs per hour (your currency). Function plans (status.plan, layer function plan) multiply their worker-hours by it.',
      ),
  })
  .describe('A class of worker capacity workloads choose with spec.scaling.pool.');
export type ComputePool = z.infer<typeof computePoolSchema>;

const documentCacheSchema = z
  .strictObject({
    capGiB: z.int().min(1).describe('Cache capacity in GiB.'),
    replicationFactor: z.int().min(1).max(8).default(1).describe('Copies of each cached document.'),
    scaling: z
      .strictObject({
        mode: z
          .enum(['autoscale', 'fixed', 'disabled'])
          .default('autoscale')
          .describe('autoscale between nodes.min and nodes.max, fixed at nodes.min, or disabled.'),
        nodes: z
          .strictObject({
            min: z.int().min(0).default(1).describe('Fewest cache nodes.'),
            max: z.int().min(1).default(3).describe('Most cache nodes.'),
          })
          .meta({
            'x-kubernetes-validations': [
              { rule: 'self.min <= self.max', message: 'nodes.min must be <= nodes.max' },
            ],
          })
          .superRefine((n, ctx) => {
            if (n.min > n.max)
              refineIssue(ctx, ['min'], 'must be <= nodes.max', 'lower nodes.min or raise nodes.max');
          })
          .prefault({ min: 1, max: 3 }) // full values: the apiserver checks defaults against CEL
          .describe('Node count bounds.'),
      })
      .prefault({})
      .describe('How the cache scales.'),
  })
  .describe('Declared envelope of the operator-owned document cache (capacity, replication, node count).');

export const infraRulesSpecSchema = z
  .strictObject({
    computePools: z
      .array(computePoolSchema)
      .max(64)
      .default([])
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
      .superRefine((pools, ctx) => {
        const seen = new Set<string>();
        pools.forEach((p, i) => {
          if (seen.has(p.name))
            refineIssue(ctx, [i, 'name'], `duplicate pool name ${p.name}`, 'give every pool a unique name');
          seen.add(p.name);
        });
      })
      .describe('Compute pools Pipelines and Functions choose from.'),
    documentCache: documentCacheSchema.optional(),
  })
  .describe('Cluster-wide compute pools and document cache rules.');

export const infraRulesStatusSchema = z
  .strictObject({
    observedGeneration: observedGenerationSchema.optional(),
    conditions: conditionsSchema.optional(),
    pools: z.array(z.string()).max(64).optional().describe('Names of the pools the operator accepted.'),
  })
  .describe('Observed state, written by the operator.');

export const infraRulesSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('InfraRules'),
  metadata: objectMetaSchema.superRefine((m, ctx) => {
    if (m.name !== INFRA_RULES_NAME) {
      refineIssue(
        ctx,
        ['name'],
        `InfraRules must be named ${INFRA_RULES_NAME}`,
        `rename it to ${INFRA_RULES_NAME} (the only InfraRules the operator reads)`,
      );
    }
    if (m.namespace !== undefined) {
      refineIssue(ctx, ['namespace'], 'InfraRules is cluster-scoped', 'remove metadata.namespace');
    }
  }),
  spec: infraRulesSpecSchema,
  status: infraRulesStatusSchema.optional(),
});
export type InfraRules = z.infer<typeof infraRulesSchema>;
