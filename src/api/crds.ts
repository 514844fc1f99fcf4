// CustomResourceDefinition manifests for the five kinds, built from the zod schemas. The YAML in
// deploy/crds/ is this module's output (`npm run gen:crds`) and is never edited by hand.
import type { z } from 'zod';
import { stringify } from 'yaml';
import { GROUP, INFRA_RULES_NAME, VERSION, type LayerKind } from './group.js';
import { toCrdSchema, type JsonSchemaProps } from './crd-schema.js';
import { functionSpecSchema, functionStatusSchema } from './function.js';
import { indexSpecSchema, indexStatusSchema } from './index-resource.js';
import { infraRulesSpecSchema, infraRulesStatusSchema } from './infra-rules.js';
import { pipelineSpecSchema, pipelineStatusSchema } from './pipeline.js';
import { vectorStoreSpecSchema, vectorStoreStatusSchema } from './vector-store.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

interface KindDefinition {
  kind: LayerKind;
  plural: string;
  scope: 'Namespaced' | 'Cluster';
  description: string;
  spec: z.ZodType;
  specRequired: boolean;
  status: z.ZodType;
  columns: PrinterColumn[];
  rootValidations?: { rule: string; message: string }[];
}

const readyColumns: PrinterColumn[] = [
  {
    name: 'Ready',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
    description: 'Ready condition status.',
  },
  {
    name: 'Reason',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
    description: 'Why the object is (not) ready.',
    priority: 1,
  },
];
const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

const workloadColumns: PrinterColumn[] = [
  ...readyColumns,
  {
    name: 'Phase',
    type: 'string',
    jsonPath: '.status.phase',
    description: "The workflow's phase: running, paused, degraded, ….",
  },
  {
    name: 'Pending',
    type: 'integer',
    jsonPath: '.status.pendingRows',
    description: 'Rows (Functions) or items (Pipelines) still to do, as last seen.',
  },
  {
    name: 'Pool',
    type: 'string',
    jsonPath: '.status.pool',
    description: 'Compute pool the workload resolved to.',
  },
  {
    name: 'Mode',
    type: 'string',
    jsonPath: '.spec.scaling.mode',
    description: 'autoscale, fixed or disabled.',
    priority: 1,
  },
  {
    name: 'Min',
    type: 'integer',
    jsonPath: '.spec.scaling.replicas.min',
    description: 'Lowest replica count.',
    priority: 1,
  },
  {
    name: 'Max',
    type: 'integer',
    jsonPath: '.spec.scaling.replicas.max',
    description: 'Highest replica count.',
    priority: 1,
  },
  { name: 'Paused', type: 'boolean', jsonPath: '.spec.paused', priority: 1 },
  { name: 'Image', type: 'string', jsonPath: '.spec.worker.image', priority: 1 },
  ageColumn,
];

/** What differs per kind; everything else about the CRDs is shared. */
export const KIND_DEFINITIONS: readonly KindDefinition[] = [
  {
    kind: 'VectorStore',
    plural: 'vectorstores',
    scope: 'Namespaced',
    description:
      'An upstream vector store the gateway fronts: endpoint, credential reference and inbound auth policy.',
    spec: vectorStoreSpecSchema,
    specRequired: true,
    status: vectorStoreStatusSchema,
    columns: [
      { name: 'Region', type: 'string', jsonPath: '.spec.endpoint.region' },
      { name: 'Auth', type: 'string', jsonPath: '.spec.inboundAuth.mode', description: 'Inbound auth mode.' },
      ...readyColumns,
      { name: 'Endpoint', type: 'string', jsonPath: '.spec.endpoint.url', priority: 1 },
      ageColumn,
    ],
  },
  {
    kind: 'Index',
    plural: 'indexes',
    scope: 'Namespaced',
    description:
      'One Turbopuffer namespace the gateway manages, with its store routing and snapshot/scan policy.',
    spec: indexSpecSchema,
    specRequired: false,
    status: indexStatusSchema,
    columns: [
      {
        name: 'Namespace',
        type: 'string',
        jsonPath: '.spec.namespace',
        description: 'Turbopuffer namespace (empty: the name).',
      },
      {
        name: 'Store',
        type: 'string',
        jsonPath: '.spec.backend.storeRef.name',
        description: 'VectorStore (empty: default).',
      },
      ...readyColumns,
      ageColumn,
    ],
  },
  {
    kind: 'InfraRules',
    plural: 'infrarules',
    scope: 'Cluster',
    description:
      'Cluster-wide compute pools and document cache rules. Exactly one object exists: InfraRules/default.',
    spec: infraRulesSpecSchema,
    specRequired: true,
    status: infraRulesStatusSchema,
    columns: [
      {
        name: 'Pools',
        type: 'string',
        jsonPath: '.spec.computePools[*].name',
        description: 'Compute pool names.',
      },
      ...readyColumns,
      ageColumn,
    ],
    // CEL can read metadata.name at the root of a CRD schema (the apiserver exposes name and
    // generateName there), so the "only default" rule lives in the schema, not in a webhook.
    rootValidations: [
      {
        rule: `self.metadata.name == '${INFRA_RULES_NAME}'`,
        message: `InfraRules must be named ${INFRA_RULES_NAME}`,
      },
    ],
  },
  {
    kind: 'Pipeline',
    plural: 'pipelines',
    scope: 'Namespaced',
    description: 'Worker-owned indexing work whose row count can change (ingestion, chunking, fan-out).',
    spec: pipelineSpecSchema,
    specRequired: true,
    status: pipelineStatusSchema,
    columns: workloadColumns,
  },
  {
    kind: 'Function',
    plural: 'functions',
    scope: 'Namespaced',
    description: 'Row-preserving compute over an Index: a worker derives one attribute per row.',
    spec: functionSpecSchema,
    specRequired: true,
    status: functionStatusSchema,
    columns: workloadColumns,
  },
];

/** Plural resource name of a kind (for REST paths and the CRD name). */
export function pluralOf(kind: LayerKind): string {
  const def = KIND_DEFINITIONS.find((d) => d.kind === kind);
  if (def === undefined) throw new Error(`unknown kind ${kind}`);
  return def.plural;
}

/** The CRD manifest for one kind, as a plain object ready to serialise. */
function buildCrd(def: KindDefinition): JsonSchemaProps {
  const openAPIV3Schema: JsonSchemaProps = {
    type: 'object',
    description: def.description,
    properties: {
      apiVersion: { type: 'string', description: 'API version of this object: hevlayer.com/v1alpha1.' },
      kind: { type: 'string', description: `Kind of this object: ${def.kind}.` },
      metadata: { type: 'object' },
      spec: toCrdSchema(def.spec),
      status: toCrdSchema(def.status),
    },
    ...(def.specRequired ? { required: ['spec'] } : {}),
    ...(def.rootValidations ? { 'x-kubernetes-validations': def.rootValidations } : {}),
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'hev-layer', 'app.kubernetes.io/managed-by': 'layer-gen-crds' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.kind.toLowerCase(),
        categories: ['layer'],
      },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.columns,
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}

/** All five CRDs, in a stable order. */
export function buildAllCrds(): JsonSchemaProps[] {
  return KIND_DEFINITIONS.map(buildCrd);
}

/** File name of a CRD in deploy/crds/ (kubebuilder's `<group>_<plural>.yaml`). */
export function crdFileName(crd: JsonSchemaProps): string {
  const spec = crd.spec as { group: string; names: { plural: string } };
  return `${spec.group}_${spec.names.plural}.yaml`;
}

/** Header on every generated file, so nobody edits one by hand. */
const GENERATED_HEADER =
  '# Generated by `npm run gen:crds` from src/api (zod schemas). Do not edit by hand.\n';

/** The YAML text of one CRD file in deploy/crds/. */
export function crdYaml(crd: JsonSchemaProps): string {
  return GENERATED_HEADER + stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false });
}
