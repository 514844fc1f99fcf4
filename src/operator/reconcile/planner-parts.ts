// Pieces every per-kind planner uses: parsing a raw CR, the SpecValid condition, the status draft
// of a status-only kind, and what an invalid or deleted object plans. Pure.
import { ConditionReason, ConditionType } from '../../api/conditions.js';
import { conditionSchema, type Condition } from '../../api/common.js';
import { parseKind } from '../../api/parse.js';
import { type ConditionInput } from '../reconcile-conditions.js';
import type { ObservedState, RawObject, ReconcilePlan, StatusDraft, StoreProbe } from '../reconcile-types.js';
import type { OperatorSettings } from '../settings.js';

export interface PlanReconcileInput {
  observed: ObservedState;
  /** VectorStore only: the outcome of the probe activity. */
  probe?: StoreProbe;
  settings: OperatorSettings;
}

export function statusOnly(
  obj: RawObject,
  conditions: ConditionInput[],
  readyMessage: string,
  fields: Record<string, unknown> = {},
): ReconcilePlan {
  return {
    outcome: 'applied',
    finalizer: 'none',
    apply: [],
    remove: [],
    engine: { action: 'none' },
    status: {
      previous: obj.status,
      uid: obj.metadata?.uid,
      generation: obj.metadata?.generation,
      previousConditions: validConditions(obj.status),
      conditions,
      readyMessage,
      fields,
    },
  };
}

export function nothing(outcome: 'gone' | 'deleting'): ReconcilePlan {
  return { outcome, finalizer: 'none', apply: [], remove: [], engine: { action: 'none' } };
}

export function invalidStatus(obj: RawObject, message: string, hint: string): StatusDraft {
  const full = hint ? `${message}. Fix: ${hint}` : message;
  return {
    previous: obj.status,
    uid: obj.metadata?.uid,
    generation: obj.metadata?.generation,
    previousConditions: validConditions(obj.status),
    conditions: [
      {
        type: ConditionType.SpecValid,
        status: 'False',
        reason: ConditionReason.SchemaInvalid,
        message: full,
      },
    ],
    readyMessage: '',
    fields: keepFields(obj.status),
  };
}

/** Status fields other than conditions/observedGeneration survive an invalid pass unchanged. */
function keepFields(status: Record<string, unknown> | undefined): Record<string, unknown> {
  const { conditions: _c, observedGeneration: _g, ...rest } = status ?? {};
  return rest;
}

export function valid(): ConditionInput {
  return {
    type: ConditionType.SpecValid,
    status: 'True',
    reason: ConditionReason.Valid,
    message: 'spec is valid',
  };
}

export function hintOf(err: { hint?: string }): string {
  return err.hint ?? '';
}

/** The object without the fields the operator's schema does not own (status is ours, and may lag). */
export function forParsing(obj: RawObject): Record<string, unknown> {
  const { status: _status, ...rest } = obj;
  return rest;
}

export function parseOptional(kind: 'InfraRules' | 'VectorStore', raw: RawObject | null | undefined) {
  if (!raw) return undefined;
  const r = parseKind(kind, forParsing(raw));
  return r.ok ? r.resource : undefined;
}

export function validConditions(status: Record<string, unknown> | undefined): Condition[] {
  const list = Array.isArray(status?.conditions) ? (status.conditions as unknown[]) : [];
  return list.flatMap((c) => {
    const p = conditionSchema.safeParse(c);
    return p.success ? [p.data] : [];
  });
}

/**
 * What a status-only kind plans before its spec is read: nothing for an object that is gone or
 * going, an invalid-spec status for one the schema refuses, else the parsed resource.
 */
export function parsedOrPlan<K extends 'InfraRules' | 'VectorStore' | 'Index'>(
  kind: K,
  observed: ObservedState,
): { plan: ReconcilePlan } | { obj: RawObject; resource: unknown } {
  const obj = observed.object;
  if (obj === null) return { plan: nothing('gone') };
  if (obj.metadata?.deletionTimestamp) return { plan: nothing('deleting') };
  const parsed = parseKind(kind, forParsing(obj));
  if (!parsed.ok)
    return {
      plan: {
        ...nothing('gone'),
        outcome: 'invalid',
        status: invalidStatus(obj, parsed.error.message, hintOf(parsed.error)),
      },
    };
  return { obj, resource: parsed.resource };
}
