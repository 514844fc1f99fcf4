// Building blocks shared by the five kinds: Kubernetes core shapes (quantities, tolerations,
// label selectors, Secret references), metav1.Condition, object metadata and open JSON.
//
// Rules for every schema in src/api (they keep the generated CRD structural, reference §5.3):
// - objects are `z.strictObject` so a typo in a file fails `layer render` with its path (the CRD
//   converter drops `additionalProperties: false`; the apiserver prunes unknown fields instead);
// - no unions except int-or-string quantities, no tuples, no recursion, no schema ids;
// - every field has `.describe()` so `kubectl explain` helps;
// - nested defaults use `.prefault(...)` so zod and the apiserver both fill inner defaults; when the
//   object carries a CEL rule the prefault spells out every defaulted field, because the apiserver
//   checks a default against CEL as written (a bare {} fails with "no such key").
import { z } from 'zod';

/** RFC 1123 DNS label: namespaces, Service names, pool names. */
export const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 DNS subdomain: names of most Kubernetes objects, including our CRs. */
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kubernetes quantity (`500m`, `1Gi`, `2`); the same pattern controller-gen emits. */
const QUANTITY_RE =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

/** A resource quantity: a string such as `500m` / `512Mi`, or a whole number. */
export const quantitySchema = z
  .union([z.string().regex(QUANTITY_RE, 'must be a Kubernetes quantity such as 500m, 512Mi or 2'), z.int()])
  .meta({ 'x-kubernetes-int-or-string': true });
export type Quantity = z.infer<typeof quantitySchema>;

const resourceListSchema = z.record(z.string(), quantitySchema);

export const resourceRequirementsSchema = z
  .strictObject({
    requests: resourceListSchema
      .optional()
      .describe(
        'Minimum resources the scheduler reserves, by resource name (cpu, memory, nvidia.com/gpu, ...).',
      ),
    limits: resourceListSchema
      .optional()
      .describe('Maximum resources the container may use, by resource name.'),
  })
  .describe('Container resources (core/v1 ResourceRequirements: requests and limits).');

export const tolerationSchema = z
  .strictObject({
    key: z
      .string()
      .optional()
      .describe('Taint key the toleration applies to; empty with operator Exists matches all.'),
    operator: z.enum(['Exists', 'Equal']).optional().describe('Exists or Equal (default Equal).'),
    value: z.string().optional().describe('Taint value to match when operator is Equal.'),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .optional()
      .describe('Taint effect to match; empty matches all effects.'),
    tolerationSeconds: z
      .int()
      .optional()
      .describe('How long a NoExecute taint is tolerated before eviction.'),
  })
  .describe('A core/v1 Toleration.');
export type Toleration = z.infer<typeof tolerationSchema>;

export const nodeSelectorSchema = z
  .record(z.string(), z.string())
  .describe('Node labels a pod must match to be scheduled (core/v1 PodSpec.nodeSelector).');

export const secretKeyRefSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .describe('Name of a Secret in the same namespace as the object that refers to it.'),
    key: z.string().min(1).describe('Key inside the Secret.'),
  })
  .describe('A key in a Secret. Credentials are only ever referenced, never written into a resource.');
export type SecretKeyRef = z.infer<typeof secretKeyRefSchema>;

export const labelSelectorSchema = z
  .strictObject({
    matchLabels: z
      .record(z.string(), z.string())
      .optional()
      .describe('Labels that must all be present with these values.'),
    matchExpressions: z
      .array(
        z.strictObject({
          key: z.string().min(1).describe('Label key.'),
          operator: z
            .enum(['In', 'NotIn', 'Exists', 'DoesNotExist'])
            .describe('How the key relates to values.'),
          values: z
            .array(z.string())
            .optional()
            .describe('Values for In and NotIn; empty for Exists and DoesNotExist.'),
        }),
      )
      .optional()
      .describe('Set-based requirements; all must hold.'),
  })
  .describe('A metav1 LabelSelector.');
export type LabelSelector = z.infer<typeof labelSelectorSchema>;

/**
 * Open JSON object kept exactly as written (CRD: `x-kubernetes-preserve-unknown-fields`).
 * Used for `sourceRef` and `worker.podSpec`, whose shape belongs to someone else.
 */
export function openObject() {
  return z.record(z.string(), z.unknown());
}

/** Any JSON value kept exactly as written (arrays, strings, nulls...); used for `filter`. */
export function openValue() {
  return z.unknown().meta({ 'x-kubernetes-preserve-unknown-fields': true });
}

// ---------------------------------------------------------------------------------------------
// Status

const CONDITION_TYPE_RE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;
const CONDITION_REASON_RE = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/** metav1.Condition, with the apimachinery validation rules. */
export const conditionSchema = z
  .strictObject({
    type: z.string().max(316).regex(CONDITION_TYPE_RE).describe('Condition type in CamelCase, e.g. Ready.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('metadata.generation the condition was computed from.'),
    lastTransitionTime: z.iso
      .datetime({ offset: true })
      .describe('When status last changed (RFC 3339); unchanged when only reason or message change.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(CONDITION_REASON_RE)
      .describe('One CamelCase word a program can switch on; see the reason constants in the API.'),
    message: z.string().max(32768).describe('Human-readable detail, possibly empty.'),
  })
  .describe('A metav1.Condition.');
export type Condition = z.infer<typeof conditionSchema>;

export const conditionsSchema = z
  .array(conditionSchema)
  .max(16)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
  .describe('Latest observations of the object, one per condition type; Ready summarises them.');

export const observedGenerationSchema = z
  .int()
  .min(0)
  .describe(
    'metadata.generation the operator last acted on; status is current when it equals metadata.generation.',
  );

// ---------------------------------------------------------------------------------------------
// Metadata: only what we read is typed; everything else (managedFields, finalizers...) passes.

export const objectMetaSchema = z.looseObject({
  name: z
    .string()
    .min(1)
    .max(253)
    .regex(DNS_SUBDOMAIN_RE, 'must be lowercase letters, digits, - and . (a DNS subdomain)'),
  namespace: z.string().regex(DNS_LABEL_RE, 'must be a DNS label').max(63).optional(),
  uid: z.string().optional(),
  generation: z.int().optional(),
  resourceVersion: z.string().optional(),
  creationTimestamp: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/**
 * Report a cross-field rule from a superRefine, with the fix `parseResource` shows next to it.
 * The hint travels in the issue's params so error formatting stays in one place.
 */
export function refineIssue(
  ctx: {
    addIssue: (issue: {
      code: 'custom';
      path: PropertyKey[];
      message: string;
      params: { hint: string };
    }) => void;
  },
  path: PropertyKey[],
  message: string,
  hint: string,
): void {
  ctx.addIssue({ code: 'custom', path, message, params: { hint } });
}
