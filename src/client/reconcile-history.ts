// Reading reconcile passes back out of a reconcile workflow's history (tests, bench:operator):
// since ADR 0129 a pass is a local activity, recorded as a marker; runs from before it scheduled
// the pass as an activity. Both count as one pass.
import type { temporal } from '@temporalio/proto';

/** The activity a reconcile pass runs (src/activities/kubernetes-activities.ts). */
export const RECONCILE_PASS_ACTIVITY = 'reconcilePass';

/** The marker Temporal's core SDK records for each completed local activity. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The activity type a local-activity marker was recorded for (its `data` detail is JSON). */
function localActivityType(e: HistoryEvent): string | undefined {
  const marker = e.markerRecordedEventAttributes;
  if (marker?.markerName !== LOCAL_ACTIVITY_MARKER) return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as {
      activity_type?: string;
      activityType?: string;
    };
    return parsed.activity_type ?? parsed.activityType;
  } catch {
    return undefined;
  }
}

/** Whether a history event records one reconcile pass (a local activity's marker, or a scheduled activity before ADR 0129). */
export function isReconcilePass(e: HistoryEvent): boolean {
  return (
    e.activityTaskScheduledEventAttributes?.activityType?.name === RECONCILE_PASS_ACTIVITY ||
    localActivityType(e) === RECONCILE_PASS_ACTIVITY
  );
}
