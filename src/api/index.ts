// Public surface of the hevlayer.com/v1alpha1 API: schemas, types, defaults, condition
// constants, parsing and CRD generation. Import from here rather than from the files.
export {
  API_VERSION,
  GROUP,
  VERSION,
  KINDS,
  INFRA_RULES_NAME,
  OPERATOR_FIELD_MANAGER,
  type LayerKind,
} from './group.js';
export {
  conditionSchema,
  conditionsSchema,
  labelSelectorSchema,
  objectMetaSchema,
  quantitySchema,
  resourceRequirementsSchema,
  secretKeyRefSchema,
  tolerationSchema,
  type Condition,
  type LabelSelector,
  type ObjectMeta,
  type Quantity,
  type ResourceRequirements,
  type SecretKeyRef,
  type Toleration,
} from './common.js';
export { ConditionReason, ConditionType } from './conditions.js';
export {
  SCALING_DEFAULTS,
  WORKER_DEFAULTS,
  scalingSchema,
  workerSchema,
  workloadStatusSchema,
  type ManagedObject,
  type Scaling,
  type ScalingMode,
  type Worker,
  type WorkloadStatus,
} from './workload.js';
export {
  FUNCTION_DEFAULTS,
  functionSchema,
  functionSpecSchema,
  type FunctionSpec,
  type LayerFunction,
} from './function.js';
export { pipelineSchema, pipelineSpecSchema, type LayerPipeline, type PipelineSpec } from './pipeline.js';
export {
  computePoolSchema,
  infraRulesSchema,
  infraRulesSpecSchema,
  type ComputePool,
  type InfraRules,
} from './infra-rules.js';
export {
  DEFAULT_STORE_URL,
  DEFAULT_WORKER_SECRET_KEY,
  inboundAuthSchema,
  vectorStoreSchema,
  vectorStoreSpecSchema,
  type InboundAuth,
  type InboundAuthMode,
  type VectorStore,
} from './vector-store.js';
export { indexSchema, indexSpecSchema, type LayerIndex } from './index-resource.js';
export {
  NODE_ROLE_LABEL,
  NVIDIA_GPU_RESOURCE,
  NVIDIA_TOLERATION,
  STOCK_POOL,
  helmDefaultComputePools,
  helmDefaultInfraRules,
} from './defaults.js';
export {
  ResourceValidationError,
  formatPath,
  isWorkload,
  parseKind,
  parseResource,
  parseResourceOrThrow,
  resourceSchemas,
  type FieldIssue,
  type LayerResource,
  type ParseResult,
  type Workload,
} from './parse.js';
export {
  CrdSchemaError,
  structural,
  structuralViolations,
  toCrdSchema,
  type JsonSchemaProps,
} from './crd-schema.js';
export {
  KIND_DEFINITIONS,
  buildAllCrds,
  buildCrd,
  crdFileName,
  crdYaml,
  pluralOf,
  type PrinterColumn,
} from './crds.js';
