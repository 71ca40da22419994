import {
  DomainError,
  ErrorCode,
  inRegion,
  isRegionCode,
  notFound,
  requirePermission,
  type Caller,
} from '@vtv/kit';
import type { ActorKind } from '../data/entities';

export interface Actor {
  kind: ActorKind;
  id: string;
}

/** This service acting on its own (AUTO flow, expiry sweep). */
export const SYSTEM: Actor = Object.freeze({ kind: 'SYSTEM', id: 'vouchers' });

/**
 * Staff holding `permission`; returns the root of the region subtree they act in. Machine clients with
 * the permission and a region act the same way.
 */
export function staffRegion(caller: Caller, permission: string): string {
  requirePermission(caller, permission);
  if (
    (caller.kind !== 'staff' && caller.kind !== 'client') ||
    !caller.regionCode ||
    !isRegionCode(caller.regionCode)
  )
    throw new DomainError(ErrorCode.FORBIDDEN, 'Only regional staff may do this');
  return caller.regionCode;
}

/** "Not yours" looks exactly like "does not exist". */
export function requireInRegion(root: string, regionCode: string, what: string): void {
  if (!inRegion(root, regionCode)) throw notFound(what);
}

/** True when the caller is staff with `permission` whose subtree contains `regionCode`. */
export function staffSees(caller: Caller, permission: string, regionCode: string): boolean {
  return (
    (caller.kind === 'staff' || caller.kind === 'client') &&
    caller.permissions.includes(permission) &&
    !!caller.regionCode &&
    isRegionCode(caller.regionCode) &&
    inRegion(caller.regionCode, regionCode)
  );
}

export function staffActor(caller: Caller): Actor {
  return { kind: 'STAFF', id: caller.id ?? 'unknown' };
}

export function requirePerson(caller: Caller): string {
  if (caller.kind === 'anonymous' || !caller.id)
    throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Sign in first');
  if (caller.kind !== 'person') throw new DomainError(ErrorCode.FORBIDDEN, 'Only a person can do this');
  return caller.id;
}
