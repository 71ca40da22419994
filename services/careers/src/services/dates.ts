/** Calendar dates on the wire are YYYY-MM-DD; "today" is the date in China Standard Time (UTC+8, no DST). */
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

const CHINA_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** Today's date in China (Asia/Shanghai), YYYY-MM-DD. */
export function chinaToday(now: Date = new Date()): string {
  return CHINA_DATE.format(now);
}

/** True for a YYYY-MM-DD string naming a day that exists (no 2025-02-30). */
export function isCalendarDate(value: string): boolean {
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  return (
    year >= 1900 && d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day
  );
}

/** The instant a China calendar day (YYYY-MM-DD) begins. */
export function chinaDayStart(date: string): Date {
  return new Date(Date.parse(`${date}T00:00:00Z`) - CHINA_OFFSET_MS);
}

/** The instant today (in China) began. */
export function chinaStartOfToday(now: Date): Date {
  return chinaDayStart(chinaToday(now));
}

/** Minutes since midnight, China Standard Time. */
export function chinaMinuteOfDay(now: Date): number {
  return Math.floor(((now.getTime() + CHINA_OFFSET_MS) % DAY_MS) / 60_000);
}

/** A date `days` after a YYYY-MM-DD date. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export const MINUTE_MS = 60_000;
export { DAY_MS };
