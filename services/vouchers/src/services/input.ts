import { badInput, isCalendarDate, isRegionCode, isUuid } from '@vtv/kit';

/** Input checks shared by the services; each names the field it refuses. */
export function text(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string') throw badInput(field, `${field} is required`);
  const v = value.trim();
  if (v.length === 0 || v.length > max) throw badInput(field, `${field} must be 1-${max} characters`);
  return v;
}

export function optionalText(field: string, value: unknown, max: number): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' && value.trim() === '') return null;
  return text(field, value, max);
}

export function uuid(field: string, value: unknown): string {
  if (typeof value !== 'string' || !isUuid(value)) throw badInput(field, `${field} must be an id`);
  return value.toLowerCase();
}

export function optionalUuid(field: string, value: unknown): string | null {
  return value === null || value === undefined ? null : uuid(field, value);
}

export function regionCode(field: string, value: unknown): string {
  if (typeof value !== 'string' || !isRegionCode(value))
    throw badInput(field, `${field} must be a GB/T 2260 region code`);
  return value;
}

export function date(field: string, value: unknown): string {
  if (typeof value !== 'string' || !isCalendarDate(value))
    throw badInput(field, `${field} must be a real date written YYYY-MM-DD`);
  return value;
}

export function optionalDate(field: string, value: unknown): string | null {
  return value === null || value === undefined ? null : date(field, value);
}

export function instant(field: string, value: unknown): Date {
  const d = typeof value === 'string' && value.length <= 40 ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(String(value)))
    throw badInput(field, `${field} must be an ISO-8601 date-time`);
  return d;
}

/** Money in integer fen (分): positive, whole, at most ¥100,000 per voucher. */
export function fen(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > 10_000_000)
    throw badInput(field, `${field} must be a whole number of fen between 1 and 10000000`);
  return value;
}

export function optionalFen(field: string, value: unknown): number | null {
  return value === null || value === undefined ? null : fen(field, value);
}

export function int(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    throw badInput(field, `${field} must be a whole number between ${min} and ${max}`);
  return value;
}

export function optionalInt(field: string, value: unknown, min: number, max: number): number | null {
  return value === null || value === undefined ? null : int(field, value, min, max);
}

export function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw badInput(field, `${field} must be one of ${allowed.join(', ')}`);
  return value as T;
}

export function optionalOneOf<T extends string>(
  field: string,
  value: unknown,
  allowed: readonly T[],
): T | null {
  return value === null || value === undefined ? null : oneOf(field, value, allowed);
}

export function uuidList(field: string, value: unknown, max: number): string[] {
  if (!Array.isArray(value) || value.length > max)
    throw badInput(field, `${field} must be a list of at most ${max} ids`);
  return [...new Set(value.map((v) => uuid(field, v)))];
}

/** A reason for an irreversible or refusing decision (驳回 / 设置失效). */
export function reason(value: unknown): string {
  return text('reason', value, 500);
}
