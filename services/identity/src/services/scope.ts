import {
  DomainError,
  ErrorCode,
  inRegion,
  isUuid,
  parentRegion,
  requirePermission,
  type Caller,
} from '@vtv/kit';

/**
 * The region a staff member or machine client acts in: they see and manage only its subtree (a province
 * its cities, a city its districts and counties). Anything outside looks exactly like something missing.
 */
export function actingRegion(caller: Caller): string {
  if (caller.kind !== 'staff' && caller.kind !== 'client') {
    throw new DomainError(ErrorCode.FORBIDDEN, 'Only staff and integrators can do this');
  }
  if (!caller.regionCode) throw new DomainError(ErrorCode.FORBIDDEN, 'The caller has no region');
  return caller.regionCode;
}

/** requirePermission + actingRegion. */
export function scopeFor(caller: Caller, permission: string): string {
  requirePermission(caller, permission);
  return actingRegion(caller);
}

/** Administration is for people: a machine client never administers, whatever it holds. */
export function staffScopeFor(caller: Caller, permission: string): string {
  requirePermission(caller, permission);
  if (caller.kind !== 'staff') throw new DomainError(ErrorCode.FORBIDDEN, 'Only staff can administer');
  return actingRegion(caller);
}

export function within(scope: string, regionCode: string | null | undefined): boolean {
  return !!regionCode && inRegion(scope, regionCode);
}

/** The region itself and every region above it, nearest first. */
export function selfAndAncestors(code: string): string[] {
  const out = [code];
  for (let p = parentRegion(code); p; p = parentRegion(p)) out.push(p);
  return out;
}

export const notFound = (what: string, field?: string) =>
  new DomainError(ErrorCode.NOT_FOUND, `${what} not found`, field);

/** Ids from the graph are UUIDs; anything else simply does not exist. */
export function uuidOrNull(id: unknown): string | null {
  return typeof id === 'string' && isUuid(id) ? id.toLowerCase() : null;
}
