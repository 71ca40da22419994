import { badInput, isUuid, requireText } from '@vtv/kit';
import { coordinateProblem } from './geo';

/** Input checks shared by the services; each throws BAD_USER_INPUT naming the field. */
export function requireUuid(field: string, value: unknown): string {
  if (typeof value !== 'string' || !isUuid(value)) throw badInput(field, `${field} must be an id`);
  return value.toLowerCase();
}

export function uuidList(field: string, values: unknown, max: number): string[] {
  if (values == null) return [];
  if (!Array.isArray(values)) throw badInput(field, `${field} must be a list of ids`);
  if (values.length > max) throw badInput(field, `${field} may hold at most ${max} ids`);
  return [...new Set(values.map((v) => requireUuid(field, v)))];
}

export function optionalText(field: string, value: string | null | undefined, max: number): string | null {
  if (value == null) return null;
  const v = value.trim();
  if (v.length === 0) return null;
  if (v.length > max) throw badInput(field, `${field} must be at most ${max} characters`);
  return v;
}

export { requireText };

export function requireCoordinates(latitude: number, longitude: number, prefix = ''): void {
  const problem = coordinateProblem(latitude, longitude);
  if (problem) throw badInput(`${prefix}${problem.field}`, problem.message);
}

export function requireScore(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 5)
    throw badInput('score', 'score must be a whole number from 1 to 5');
  return value;
}

/** An instant written ISO-8601 with a time zone (2026-05-01T09:00:00+08:00). */
export function requireInstant(field: string, value: string): Date {
  if (
    typeof value !== 'string' ||
    value.length > 40 ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)
  ) {
    throw badInput(field, `${field} must be an ISO-8601 time with a zone, e.g. 2026-05-01T09:00:00+08:00`);
  }
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw badInput(field, `${field} is not a real time`);
  return at;
}
