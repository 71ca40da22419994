import { badInput } from './errors';

/** A real calendar date written YYYY-MM-DD (rejects 2021-02-30). */
export function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

export function requireText(field: string, value: string, max: number): string {
  const v = value.trim();
  if (v.length === 0 || v.length > max) throw badInput(field, `${field} must be 1-${max} characters`);
  return v;
}

export function requireDate(field: string, value: string): string {
  if (!isCalendarDate(value)) throw badInput(field, `${field} must be a real date written YYYY-MM-DD`);
  return value;
}
