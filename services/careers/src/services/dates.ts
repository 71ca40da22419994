/** Calendar dates on the wire are YYYY-MM-DD; "today" is the date in China Standard Time. */
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

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
