// Condition types and reasons the reconcile workflow writes beyond the planner's (src/api/
// conditions.ts). They are public API like those: stable CamelCase words. They live here until
// they are folded into src/api/conditions.ts (one list of reasons for the whole API).
import type { Condition } from '../api/common.js';
import { setCondition } from './plan-status.js';

export const OperatorConditionType = {
  /** The object passed the operator's schema (zod), beyond what the CRD admits. */
  SpecValid: 'SpecValid',
  /** False when the pass could not apply the planned objects (the message quotes the apiserver). */
  Applied: 'Applied',
  /** Workloads, negative polarity: True while the engine is degraded or the worker fails. */
  Degraded: 'Degraded',
  /** The workload's Temporal workflow runs the current spec (or is paused as asked). */
  WorkflowReady: 'WorkflowReady',
  /** Function indexSelector resolved to Turbopuffer namespaces through Index labels. */
  TargetsResolved: 'TargetsResolved',
  /** VectorStore: the credential Secret and key exist. */
  CredentialResolved: 'CredentialResolved',
  /** VectorStore: a cheap call to the upstream store succeeded with the credential. */
  EndpointReachable: 'EndpointReachable',
  /** VectorStore in keys mode: the worker bearer's Secret and key exist (workers and KEDA send it). */
  WorkerKeyResolved: 'WorkerKeyResolved',
  /** Index: backend.storeRef names an existing VectorStore. */
  StoreResolved: 'StoreResolved',
  /** Index: no other Index claims the same Turbopuffer namespace. */
  NamespaceUnique: 'NamespaceUnique',
  /** InfraRules: documentCache is valid (reported with its envelope). */
  DocumentCacheValid: 'DocumentCacheValid',
} as const;
export type OperatorConditionType = (typeof OperatorConditionType)[keyof typeof OperatorConditionType];

export const OperatorReason = {
  Valid: 'Valid',
  /** The CRD admitted the object but the operator's schema refuses it; the message quotes why. */
  SchemaInvalid: 'SchemaInvalid',
  WorkflowRunning: 'WorkflowRunning',
  WorkflowPaused: 'WorkflowPaused',
  /** The workflow was not started or updated because the plan is blocked. */
  WorkflowNotStarted: 'WorkflowNotStarted',
  /**
   * The engine could not be asked (Temporal refused or timed out, or the workload's workflow did
   * not answer its status query — no orchestrator worker polls its task queue). Degraded.
   */
  EngineUnavailable: 'EngineUnavailable',
  /** The engine refused the spec (e.g. a value outside the engine's limits). */
  EngineRejectedSpec: 'EngineRejectedSpec',
  /** Server-side apply of the planned objects failed after retries. */
  ApplyFailed: 'ApplyFailed',
  NotDegraded: 'NotDegraded',
  TargetsFound: 'TargetsFound',
  NoMatchingIndexes: 'NoMatchingIndexes',
  ExplicitTargets: 'ExplicitTargets',
  SecretFound: 'SecretFound',
  SecretNotFound: 'SecretNotFound',
  SecretKeyMissing: 'SecretKeyMissing',
  Reachable: 'Reachable',
  Unreachable: 'Unreachable',
  CredentialRejected: 'CredentialRejected',
  NotChecked: 'NotChecked',
  StoreFound: 'StoreFound',
  StoreNotFound: 'StoreNotFound',
  DefaultStore: 'DefaultStore',
  Unique: 'Unique',
  DuplicateNamespace: 'DuplicateNamespace',
  /** SpecValid False: an older Function writes this output attribute in a shared store namespace (ADR 0070). */
  OutputConflict: 'OutputConflict',
  CacheValid: 'CacheValid',
  NoDocumentCache: 'NoDocumentCache',
  /** Summary reasons. */
  Ready: 'Ready',
  NotReady: 'NotReady',
} as const;
export type OperatorReason = (typeof OperatorReason)[keyof typeof OperatorReason];

/** A condition without its timestamp and generation (added by {@link mergeConditions}). */
export interface ConditionInput {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** metav1 caps messages at 32768 chars; ours are much shorter, but a quoted zod error may not be. */
const MAX_MESSAGE = 4096;

/**
 * Merge desired conditions into the previous list with SetStatusCondition semantics
 * (lastTransitionTime moves only when status flips), stamping observedGeneration.
 */
export function mergeConditions(
  previous: readonly Condition[],
  desired: readonly ConditionInput[],
  now: string,
  generation: number | undefined,
): Condition[] {
  let out = [...previous];
  for (const d of desired) {
    out = setCondition(out, {
      ...d,
      message: d.message.length > MAX_MESSAGE ? `${d.message.slice(0, MAX_MESSAGE - 1)}…` : d.message,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      lastTransitionTime: now,
    });
  }
  return out;
}

/** Ready summary from the other conditions: True only when none is False. */
export function readySummary(conditions: readonly ConditionInput[], readyMessage: string): ConditionInput {
  const bad = conditions.find((c) => c.status === 'False');
  if (bad) return { type: 'Ready', status: 'False', reason: bad.reason, message: bad.message };
  const unknown = conditions.find((c) => c.status === 'Unknown');
  if (unknown) return { type: 'Ready', status: 'Unknown', reason: unknown.reason, message: unknown.message };
  return { type: 'Ready', status: 'True', reason: OperatorReason.Ready, message: readyMessage };
}

/** An Event to record for a status write: what a person should see in `kubectl describe`. */
export interface StatusEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Conditions whose changes are worth an Event (the others are details of these). */
const EVENTFUL = ['Ready', 'Degraded', 'SpecValid'];

/**
 * Events for the transitions between two condition lists, as controllers record them with an
 * event recorder: Ready and Degraded flips, and refusals (SpecValid False). Nothing for an
 * unchanged status, so a resync never floods the event stream.
 */
export function statusEvents(
  previous: readonly { type: string; status: string; reason: string }[],
  next: readonly { type: string; status: string; reason: string; message: string }[],
): StatusEvent[] {
  const out: StatusEvent[] = [];
  for (const type of EVENTFUL) {
    const now = next.find((c) => c.type === type);
    if (!now) continue;
    const before = previous.find((c) => c.type === type);
    if (before && before.status === now.status && before.reason === now.reason) continue;
    // A first Degraded=False or SpecValid=True is the normal case, not news.
    if (
      !before &&
      ((type === 'Degraded' && now.status === 'False') || (type === 'SpecValid' && now.status === 'True'))
    )
      continue;
    const bad =
      (type === 'Ready' && now.status === 'False') ||
      (type === 'Degraded' && now.status === 'True') ||
      (type === 'SpecValid' && now.status === 'False');
    out.push({
      type: bad ? 'Warning' : 'Normal',
      reason: now.reason,
      message: `${type}=${now.status}: ${now.message}`.slice(0, 1024),
    });
  }
  return out;
}
