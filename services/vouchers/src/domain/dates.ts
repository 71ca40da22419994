/** Dates as the bureaus mean them: calendar days in China Standard Time (UTC+8, no daylight saving). */
const OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The calendar date (YYYY-MM-DD) in China at `at`. */
export function chinaDate(at: Date): string {
  return new Date(at.getTime() + OFFSET_MS).toISOString().slice(0, 10);
}

/** The instant a China calendar day starts. */
export function startOfChinaDay(date: string): Date {
  return new Date(Date.parse(`${date}T00:00:00.000Z`) - OFFSET_MS);
}

/** The exclusive end of a China calendar day: a voucher "valid until 2021-12-20" is usable all that day. */
export function endOfChinaDay(date: string): Date {
  return new Date(startOfChinaDay(date).getTime() + DAY_MS);
}

/** [start, end) of a calendar year in China. */
export function chinaYear(year: number): { start: Date; end: Date } {
  return { start: startOfChinaDay(`${year}-01-01`), end: startOfChinaDay(`${year + 1}-01-01`) };
}

export function chinaYearOf(at: Date): number {
  return Number(chinaDate(at).slice(0, 4));
}

export function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS);
}
