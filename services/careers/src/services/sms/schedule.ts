import { DAY_MS, MINUTE_MS, chinaMinuteOfDay, chinaStartOfToday } from '../dates';

/** A daily window, in minutes after midnight China Standard Time; may wrap midnight (22:00–08:00). */
export interface QuietHours {
  startMinute: number;
  endMinute: number;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** "22:00-08:00" → the window; "none" or "" → null (no quiet hours); anything else → undefined. */
export function parseQuietHours(value: string): QuietHours | null | undefined {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'none' || v === 'off') return null;
  const [from, to, ...rest] = v.split('-');
  if (rest.length || !from || !to) return undefined;
  const a = HHMM.exec(from.trim());
  const b = HHMM.exec(to.trim());
  if (!a || !b) return undefined;
  const startMinute = Number(a[1]) * 60 + Number(a[2]);
  const endMinute = Number(b[1]) * 60 + Number(b[2]);
  if (startMinute === endMinute) return undefined;
  return { startMinute, endMinute };
}

function inWindow(minute: number, q: QuietHours): boolean {
  return q.startMinute < q.endMinute
    ? minute >= q.startMinute && minute < q.endMinute
    : minute >= q.startMinute || minute < q.endMinute;
}

/** When `now` falls in the quiet hours, the instant they end; otherwise null. */
export function quietUntil(now: Date, q: QuietHours | null): Date | null {
  if (!q || !inWindow(chinaMinuteOfDay(now), q)) return null;
  let end = chinaStartOfToday(now).getTime() + q.endMinute * MINUTE_MS;
  if (end <= now.getTime()) end += DAY_MS;
  return new Date(end);
}

/** The first moment of the next China calendar day, moved past the quiet hours if they cover it. */
export function nextDayOpening(now: Date, q: QuietHours | null): Date {
  const midnight = new Date(chinaStartOfToday(now).getTime() + DAY_MS);
  return quietUntil(midnight, q) ?? midnight;
}

/** Exponential backoff: base, 2·base, 4·base … capped at max. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
}
