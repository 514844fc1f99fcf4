// The hevlayer.com/v1alpha1 API as the commands, the operator and the tests read it: schemas,
// types, defaults, condition constants, parsing and CRD generation. Only names someone imports
// through this file are listed, so an unused one shows up as dead code (knip, issue 26).
export { GROUP, VERSION, OPERATOR_FIELD_MANAGER, type LayerKind } from './group.js';
export { ConditionReason, ConditionType } from './conditions.js';
export { scalingSchema } from './workload.js';
export { functionSchema, type LayerFunction } from './function.js';
export type { LayerPipeline } from './pipeline.js';
export type { InfraRules } from './infra-rules.js';
export { inboundAuthSchema, type VectorStore } from './vector-store.js';
export type { LayerIndex } from './index-resource.js';
export { helmDefaultComputePools, helmDefaultInfraRules } from './defaults.js';
export { parseKind, parseResource, type Workload } from './parse.js';
export {
  CrdSchemaError,
  structural,
  structuralViolations,
  toCrdSchema,
  type JsonSchemaProps,
} from './crd-schema.js';
export { KIND_DEFINITIONS, buildAllCrds, crdFileName, crdYaml } from './crds.js';
