// The API group, version and kinds of the hev layer CRDs. Every kind lives in one group and one
// version; changing either is a breaking change for every installed cluster.

export const GROUP = 'hevlayer.com';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

/** The five kinds the operator reconciles. */
export const KINDS = ['VectorStore', 'Index', 'InfraRules', 'Pipeline', 'Function'] as const;
export type LayerKind = (typeof KINDS)[number];

/** The one InfraRules object the operator reads (InfraRules is cluster-scoped). */
export const INFRA_RULES_NAME = 'default';

/** Field manager the operator uses for server-side apply of the objects it plans. */
export const OPERATOR_FIELD_MANAGER = 'layer-operator';
