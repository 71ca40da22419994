import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import type { EventRecord } from '@vtv/events';
import { isRegionCode, isUuid } from '@vtv/kit';

/** The event's own timestamp field, else its ce_time. */
export function occurredAt(ts: Timestamp | undefined, event: EventRecord): Date {
  if (ts && (ts.seconds !== 0n || ts.nanos !== 0)) return timestampDate(ts);
  return new Date(event.time);
}

/** Person ids are identity's UUIDs; anything else is not a person we can keep an archive for. */
export function personIdOf(value: string): string | null {
  return isUuid(value) ? value.toLowerCase() : null;
}

export function regionOf(value: string): string | null {
  return isRegionCode(value) ? value : null;
}

/** Empty proto strings become null. */
export function opt(value: string): string | null {
  const v = value.trim();
  return v === '' ? null : v;
}
