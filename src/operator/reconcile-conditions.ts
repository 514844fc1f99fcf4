// How a pass's conditions become the status's: merged with the stored ones (metav1 rules), the
// Ready summary, and the Events for transitions. The types and reasons are src/api/conditions.ts.
import { ConditionReason } from '../api/conditions.js';
import type { Condition } from '../api/common.js';
import { setCondition } from './plan-status.js';

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
  return { type: 'Ready', status: 'True', reason: ConditionReason.Ready, message: readyMessage };
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
