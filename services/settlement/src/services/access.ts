import {
  DomainError,
  ErrorCode,
  badInput,
  inRegion,
  isRegionCode,
  parentRegion,
  type Caller,
} from '@vtv/kit';
import { SETTLEMENT_DISBURSE, SETTLEMENT_READ, SETTLEMENT_REVIEW } from '../permissions';

/** Permissions that let staff see applications (reviewers and payers must see what they act on). */
const READERS = [SETTLEMENT_READ, SETTLEMENT_REVIEW, SETTLEMENT_DISBURSE];

/** The region subtree a staff caller holding one of `permissions` acts in; null for anyone else. */
export function staffScope(caller: Caller, permissions: string[] = READERS): string | null {
  if (caller.kind !== 'staff' || !caller.id) return null;
  if (!permissions.some((p) => caller.permissions.includes(p))) return null;
  return caller.regionCode && isRegionCode(caller.regionCode) ? caller.regionCode : null;
}

/** Staff holding `permission` with a valid region; FORBIDDEN (or UNAUTHENTICATED) otherwise. */
export function requireStaff(caller: Caller, permission: string): { id: string; region: string } {
  if (caller.kind === 'anonymous' || !caller.id)
    throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Sign in first');
  if (caller.kind !== 'staff' || !caller.permissions.includes(permission))
    throw new DomainError(ErrorCode.FORBIDDEN, `Missing permission ${permission}`);
  if (!caller.regionCode || !isRegionCode(caller.regionCode))
    throw new DomainError(ErrorCode.FORBIDDEN, 'Staff without a region cannot act');
  return { id: caller.id, region: caller.regionCode };
}

/** A person (the institution operator) signed in. */
export function requirePerson(caller: Caller): string {
  if (caller.kind === 'anonymous' || !caller.id)
    throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Sign in first');
  if (caller.kind !== 'person')
    throw new DomainError(ErrorCode.FORBIDDEN, 'Only an institution operator (经办人) can do this');
  return caller.id;
}

/** A region argument inside the caller's subtree. */
export function requireRegionArg(scope: string, regionCode: string, field = 'regionCode'): string {
  if (!isRegionCode(regionCode)) throw badInput(field, 'regionCode must be a GB/T 2260 code of 6 digits');
  if (!inRegion(scope, regionCode))
    throw new DomainError(ErrorCode.FORBIDDEN, 'The region is outside your region', field);
  return regionCode;
}

/** The region and its ancestors, nearest first: 420102 → [420102, 420100, 420000]. */
export function regionChain(regionCode: string): string[] {
  const chain: string[] = [];
  for (let c: string | null = regionCode; c !== null; c = parentRegion(c)) chain.push(c);
  return chain;
}
