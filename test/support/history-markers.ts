/**
 * Reading the SDK's markers out of a workflow history: which local activities ran (one
 * `core_local_activity` marker each) and which `patched()` ids the run recorded.
 */
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The JSON a marker of the SDK carries under `detail`, when the event is a `name` marker. */
function markerData<T>(event: HistoryEvent, name: 'core_local_activity' | 'core_patch', detail: 'data' | 'patch-data'): T | null {
  const marker = event.markerRecordedEventAttributes;
  const data = marker?.markerName === name ? marker.details?.[detail]?.payloads?.[0]?.data : undefined;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as T) : null;
}

/** The activity type of a local activity's marker, or null for any other event. */
export const localActivityType = (e: HistoryEvent): string | null =>
  markerData<{ activity_type: string }>(e, 'core_local_activity', 'data')?.activity_type ?? null;

/** The patch ids a history recorded, in order. */
export const patchIds = (events: HistoryEvent[]): string[] =>
  events.map((e) => markerData<{ id: string }>(e, 'core_patch', 'patch-data')?.id).filter((id): id is string => Boolean(id));

/** The activity types the history scheduled on the server, in order. */
export const scheduledActivityTypes = (events: HistoryEvent[]): string[] =>
  events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name ?? '');
