import { ALL_PERMISSIONS, isPermission } from '@vtv/kit';
import type { RoleRow } from '../data/entities';

/** A role's effective permissions: a system role holds the whole catalogue. */
export function rolePermissions(role: RoleRow): string[] {
  return role.system ? [...ALL_PERMISSIONS] : role.permissions.filter(isPermission);
}

/** The union of the roles' permissions, sorted. */
export function effectivePermissions(roles: RoleRow[]): string[] {
  return [...new Set(roles.flatMap(rolePermissions))].sort();
}
