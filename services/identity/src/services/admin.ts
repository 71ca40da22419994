import { enqueue } from '@vtv/events';
import {
  DomainError,
  ErrorCode,
  Permission,
  inRegion,
  isPermission,
  isRegionCode,
  maskIdNumber,
  maskName,
  maskPhone,
  parsePage,
  regionPrefix,
  requireIdNumber,
  requirePhone,
  toConnection,
  uuidv7,
  type Caller,
  type Connection,
  type PageArgs,
} from '@vtv/kit';
import type { DepartmentRow, RoleRow, StaffUserRow } from '../data/entities';
import type { Repositories, Store } from '../data/repositories';
import type { Vault } from '../security/vault';
import { audit, AuditAction, type Actor } from './audit';
import { rolePermissionsChanged, staffRoleChanged, staffUserCreated, staffUserStatusChanged } from './events';
import { requireName } from './people';
import { effectivePermissions, rolePermissions } from './permissions';
import { actingRegion, notFound, selfAndAncestors, staffScopeFor, uuidOrNull, within } from './scope';

export const AdminError = {
  UNKNOWN_PERMISSION: 'UNKNOWN_PERMISSION',
  PERMISSION_NOT_HELD: 'PERMISSION_NOT_HELD',
  ROLE_BUILT_IN: 'ROLE_BUILT_IN',
  ROLE_IN_USE: 'ROLE_IN_USE',
  DEPARTMENT_IN_USE: 'DEPARTMENT_IN_USE',
  SELF_ADMINISTRATION: 'SELF_ADMINISTRATION',
} as const;

export interface MaskedStaff {
  maskedName: string;
  maskedIdNumber: string;
  maskedPhone: string | null;
}

export interface CreateStaffUserInput {
  regionCode: string;
  departmentId?: string | null;
  name: string;
  idNumber: string;
  phone?: string | null;
  roleIds?: string[] | null;
}

export interface StaffQuery extends PageArgs {
  regionCode?: string | null;
  departmentId?: string | null;
  enabled?: boolean | null;
}

function requireAny(caller: Caller, permissions: string[]): string {
  if (caller.kind === 'anonymous' || !caller.id)
    throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Sign in first');
  if (caller.kind !== 'staff' || !permissions.some((p) => caller.permissions.includes(p))) {
    throw new DomainError(ErrorCode.FORBIDDEN, `Missing permission ${permissions.join(' or ')}`);
  }
  return actingRegion(caller);
}

function requireLabel(raw: unknown, field: string, max: number): string {
  const v = typeof raw === 'string' ? raw.normalize('NFKC').trim() : '';
  if (v.length < 1 || Array.from(v).length > max) {
    throw new DomainError(ErrorCode.BAD_USER_INPUT, `${field} must be 1-${max} characters`, field);
  }
  return v;
}

/** Permissions named in input: known, deduplicated, sorted. */
function requirePermissions(raw: unknown, field = 'permissions'): string[] {
  if (!Array.isArray(raw) || raw.length > 100) {
    throw new DomainError(ErrorCode.BAD_USER_INPUT, 'permissions must be a list', field);
  }
  const unknown = raw.filter((p) => typeof p !== 'string' || !isPermission(p));
  if (unknown.length) {
    throw new DomainError(
      AdminError.UNKNOWN_PERMISSION,
      `Not in the permission catalogue: ${unknown.slice(0, 5).map(String).join(', ')}`,
      field,
    );
  }
  return [...new Set(raw as string[])].sort();
}

/** Nobody grants what they do not hold themselves. */
function assertHeld(caller: Caller, permissions: string[], field: string): void {
  const missing = permissions.filter((p) => !caller.permissions.includes(p));
  if (missing.length) {
    throw new DomainError(
      AdminError.PERMISSION_NOT_HELD,
      `You cannot grant permissions you do not hold: ${missing.slice(0, 5).join(', ')}`,
      field,
    );
  }
}

function diff(before: string[], after: string[]) {
  return {
    added: after.filter((x) => !before.includes(x)),
    removed: before.filter((x) => !after.includes(x)),
  };
}

/**
 * System administration (系统设置及管理) of a region's bureau: departments (机构管理), roles as named
 * permission sets (角色管理), staff users bound to a region, a department and roles (用户管理), and their
 * status. Hierarchy: an administrator manages their region and everything below it (a province its cities,
 * a city its districts and counties); whatever lies outside looks exactly like something that does not
 * exist. Every change is audited and published (no personal data in either).
 */
export class AdminService {
  private readonly maskedCache = new WeakMap<StaffUserRow, MaskedStaff>();

  constructor(
    private readonly store: Store,
    private readonly vault: Vault,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private async regionInScope(
    r: Repositories,
    scope: string,
    raw: unknown,
    field = 'regionCode',
  ): Promise<string> {
    const code = typeof raw === 'string' ? raw : '';
    if (!isRegionCode(code) || !inRegion(scope, code) || !(await r.regions.byCode(code))) {
      throw notFound('Region', field);
    }
    return code;
  }

  // ------------------------------------------------------------------ departments (机构管理)

  async createDepartment(caller: Caller, input: { regionCode: string; name: string }, actor: Actor) {
    const scope = staffScopeFor(caller, Permission.ADMIN_DEPARTMENTS_WRITE);
    const name = requireLabel(input.name, 'name', 50);
    return this.store.transaction(async (r) => {
      const regionCode = await this.regionInScope(r, scope, input.regionCode);
      const dept = await r.departments.insert({ id: uuidv7(), regionCode, name });
      await audit(r, actor, AuditAction.DEPARTMENT_CREATED, { type: 'DEPARTMENT', id: dept.id, regionCode });
      return dept;
    });
  }

  async updateDepartment(caller: Caller, input: { id: string; name: string }, actor: Actor) {
    const scope = staffScopeFor(caller, Permission.ADMIN_DEPARTMENTS_WRITE);
    const name = requireLabel(input.name, 'name', 50);
    const id = uuidOrNull(input.id);
    return this.store.transaction(async (r) => {
      const dept = id ? await r.departments.byId(id) : null;
      if (!dept || !within(scope, dept.regionCode)) throw notFound('Department', 'id');
      const updated = await r.departments.rename(dept.id, name);
      await audit(r, actor, AuditAction.DEPARTMENT_UPDATED, {
        type: 'DEPARTMENT',
        id: dept.id,
        regionCode: dept.regionCode,
      });
      return updated;
    });
  }

  async deleteDepartment(caller: Caller, rawId: string, actor: Actor): Promise<string> {
    const scope = staffScopeFor(caller, Permission.ADMIN_DEPARTMENTS_WRITE);
    const id = uuidOrNull(rawId);
    return this.store.transaction(async (r) => {
      const dept = id ? await r.departments.byId(id) : null;
      if (!dept || !within(scope, dept.regionCode)) throw notFound('Department', 'id');
      if (await r.departments.hasMembers(dept.id)) {
        throw new DomainError(
          AdminError.DEPARTMENT_IN_USE,
          'Move the department’s users elsewhere first',
          'id',
        );
      }
      await r.departments.delete(dept.id);
      await audit(r, actor, AuditAction.DEPARTMENT_DELETED, {
        type: 'DEPARTMENT',
        id: dept.id,
        regionCode: dept.regionCode,
      });
      return dept.id;
    });
  }

  async department(caller: Caller, rawId: string): Promise<DepartmentRow | null> {
    const scope = caller.kind === 'staff' && caller.regionCode ? caller.regionCode : null;
    const id = uuidOrNull(rawId);
    if (!scope || !id) return null;
    const dept = await this.store.read.departments.byId(id);
    return dept && within(scope, dept.regionCode) ? dept : null;
  }

  async departments(caller: Caller, q: PageArgs & { regionCode?: string | null }) {
    const scope = requireAny(caller, [
      Permission.ADMIN_DEPARTMENTS_WRITE,
      Permission.ADMIN_USERS_READ,
      Permission.ADMIN_USERS_WRITE,
    ]);
    const { limit, afterKey } = parsePage(q);
    const root = q.regionCode ?? scope;
    if (!isRegionCode(root) || !inRegion(scope, root))
      return toConnection<DepartmentRow>([], limit, (d) => d.id);
    const rows = await this.store.read.departments.list(regionPrefix(root), { afterId: afterKey, limit });
    return toConnection(rows, limit, (d) => d.id);
  }

  // ------------------------------------------------------------------ roles (角色管理)

  /** Visible: built-in roles, roles of one's own region and the regions above it, and those below. */
  private roleVisible(scope: string, role: RoleRow): boolean {
    return (
      role.system || within(scope, role.regionCode) || selfAndAncestors(scope).includes(role.regionCode!)
    );
  }

  private async manageableRole(
    r: Repositories,
    scope: string,
    rawId: unknown,
    field = 'id',
  ): Promise<RoleRow> {
    const id = uuidOrNull(rawId);
    const role = id ? await r.roles.lock(id) : null;
    if (!role || !this.roleVisible(scope, role)) throw notFound('Role', field);
    if (role.system)
      throw new DomainError(AdminError.ROLE_BUILT_IN, 'Built-in roles cannot be changed', field);
    if (!within(scope, role.regionCode)) throw notFound('Role', field);
    return role;
  }

  async createRole(
    caller: Caller,
    input: { regionCode: string; name: string; description?: string | null; permissions: string[] },
    actor: Actor,
  ): Promise<RoleRow> {
    const scope = staffScopeFor(caller, Permission.ADMIN_ROLES_WRITE);
    const name = requireLabel(input.name, 'name', 50);
    const description = input.description == null ? '' : requireLabel(input.description, 'description', 200);
    const permissions = requirePermissions(input.permissions);
    assertHeld(caller, permissions, 'permissions');
    const now = this.clock();
    return this.store.transaction(async (r) => {
      const regionCode = await this.regionInScope(r, scope, input.regionCode);
      const role = await r.roles.insert({ id: uuidv7(), regionCode, name, description, permissions });
      await audit(
        r,
        actor,
        AuditAction.ROLE_CREATED,
        { type: 'ROLE', id: role.id, regionCode },
        { name, permissions },
      );
      await enqueue(r.manager, [
        rolePermissionsChanged({
          roleId: role.id,
          regionCode,
          permissions,
          deleted: false,
          actorId: caller.id!,
          at: now,
        }),
      ]);
      return role;
    });
  }

  async updateRole(
    caller: Caller,
    input: { id: string; name?: string | null; description?: string | null; permissions?: string[] | null },
    actor: Actor,
  ): Promise<RoleRow> {
    const scope = staffScopeFor(caller, Permission.ADMIN_ROLES_WRITE);
    const name = input.name == null ? null : requireLabel(input.name, 'name', 50);
    const description =
      input.description == null ? null : requireLabel(input.description, 'description', 200);
    const permissions = input.permissions == null ? null : requirePermissions(input.permissions);
    const now = this.clock();
    return this.store.transaction(async (r) => {
      const role = await this.manageableRole(r, scope, input.id);
      const next = {
        name: name ?? role.name,
        description: description ?? role.description,
        permissions: permissions ?? role.permissions,
      };
      const { added, removed } = diff(role.permissions, next.permissions);
      assertHeld(caller, added, 'permissions');
      const updated = await r.roles.update(role.id, next);
      await audit(
        r,
        actor,
        AuditAction.ROLE_UPDATED,
        { type: 'ROLE', id: role.id, regionCode: role.regionCode },
        {
          ...(name !== null && name !== role.name ? { name: { from: role.name, to: name } } : {}),
          addedPermissions: added,
          removedPermissions: removed,
        },
      );
      if (added.length || removed.length) {
        await enqueue(r.manager, [
          rolePermissionsChanged({
            roleId: role.id,
            regionCode: role.regionCode!,
            permissions: next.permissions,
            deleted: false,
            actorId: caller.id!,
            at: now,
          }),
        ]);
      }
      return updated;
    });
  }

  async deleteRole(caller: Caller, rawId: string, actor: Actor): Promise<string> {
    const scope = staffScopeFor(caller, Permission.ADMIN_ROLES_WRITE);
    const now = this.clock();
    return this.store.transaction(async (r) => {
      const role = await this.manageableRole(r, scope, rawId);
      if (await r.roles.hasMembers(role.id)) {
        throw new DomainError(
          AdminError.ROLE_IN_USE,
          'Remove the role from its users first (取消授权)',
          'id',
        );
      }
      await r.roles.delete(role.id);
      await audit(
        r,
        actor,
        AuditAction.ROLE_DELETED,
        { type: 'ROLE', id: role.id, regionCode: role.regionCode },
        {
          name: role.name,
          permissions: role.permissions,
        },
      );
      await enqueue(r.manager, [
        rolePermissionsChanged({
          roleId: role.id,
          regionCode: role.regionCode!,
          permissions: [],
          deleted: true,
          actorId: caller.id!,
          at: now,
        }),
      ]);
      return role.id;
    });
  }

  async role(caller: Caller, rawId: string): Promise<RoleRow | null> {
    const scope = caller.kind === 'staff' && caller.regionCode ? caller.regionCode : null;
    const id = uuidOrNull(rawId);
    if (!scope || !id) return null;
    const role = await this.store.read.roles.byId(id);
    return role && this.roleVisible(scope, role) ? role : null;
  }

  async roles(caller: Caller, q: PageArgs): Promise<Connection<RoleRow>> {
    const scope = requireAny(caller, [
      Permission.ADMIN_ROLES_WRITE,
      Permission.ADMIN_USERS_READ,
      Permission.ADMIN_USERS_WRITE,
    ]);
    const { limit, afterKey } = parsePage(q);
    const rows = await this.store.read.roles.listVisible(
      selfAndAncestors(scope).slice(1),
      regionPrefix(scope),
      {
        afterId: afterKey,
        limit,
      },
    );
    return toConnection(rows, limit, (r) => r.id);
  }

  /** A role's members inside the caller's subtree (分配用户 list). */
  async roleMembers(caller: Caller, role: RoleRow, q: PageArgs): Promise<Connection<StaffUserRow>> {
    const scope = requireAny(caller, [
      Permission.ADMIN_ROLES_WRITE,
      Permission.ADMIN_USERS_READ,
      Permission.ADMIN_USERS_WRITE,
    ]);
    const { limit, afterKey } = parsePage(q);
    const ids = await this.store.read.roles.memberIds(role.id, regionPrefix(scope), {
      afterId: afterKey,
      limit,
    });
    const users = await this.store.read.staff.byIds(ids);
    return toConnection(users, limit, (u) => u.id);
  }

  rolePermissions(role: RoleRow): string[] {
    return rolePermissions(role);
  }

  // ------------------------------------------------------------------ staff users (用户管理)

  /** Roles one may give to a user of `regionCode`: visible there and holding nothing the granter lacks. */
  private async assignableRoles(
    r: Repositories,
    caller: Caller,
    scope: string,
    regionCode: string,
    raw: unknown,
  ) {
    if (!Array.isArray(raw) || raw.length > 50) {
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'roleIds must be a list of at most 50', 'roleIds');
    }
    const ids = [...new Set(raw.map(uuidOrNull))];
    if (ids.includes(null)) throw notFound('Role', 'roleIds');
    const roles = await r.roles.byIds(ids as string[]);
    if (roles.length !== ids.length) throw notFound('Role', 'roleIds');
    for (const role of roles) {
      if (!this.roleVisible(scope, role)) throw notFound('Role', 'roleIds');
      if (!role.system && !inRegion(role.regionCode!, regionCode)) {
        throw new DomainError(
          ErrorCode.BAD_USER_INPUT,
          `Role ${role.name} belongs to another region and cannot be given to this user`,
          'roleIds',
        );
      }
    }
    return roles;
  }

  private async staffInScope(r: Repositories, scope: string, rawId: unknown, field = 'id', lock = false) {
    const id = uuidOrNull(rawId);
    const user = id ? await (lock ? r.staff.lock(id) : r.staff.byId(id)) : null;
    if (!user || !within(scope, user.regionCode)) throw notFound('Staff user', field);
    return user;
  }

  private async departmentFor(r: Repositories, raw: unknown, regionCode: string): Promise<string | null> {
    if (raw == null) return null;
    const id = uuidOrNull(raw);
    const dept = id ? await r.departments.byId(id) : null;
    // A department belongs to one bureau: a user of another region cannot be in it.
    if (!dept || dept.regionCode !== regionCode) throw notFound('Department', 'departmentId');
    return dept.id;
  }

  async createStaffUser(caller: Caller, input: CreateStaffUserInput, actor: Actor): Promise<StaffUserRow> {
    const scope = staffScopeFor(caller, Permission.ADMIN_USERS_WRITE);
    const name = requireName(input.name, 'name');
    const idNumber = requireIdNumber(input.idNumber, 'idNumber', this.clock());
    const phone = input.phone == null || input.phone === '' ? null : requirePhone(input.phone, 'phone');
    const now = this.clock();
    return this.store.transaction(async (r) => {
      const regionCode = await this.regionInScope(r, scope, input.regionCode);
      const departmentId = await this.departmentFor(r, input.departmentId, regionCode);
      const roles = await this.assignableRoles(r, caller, scope, regionCode, input.roleIds ?? []);
      assertHeld(caller, effectivePermissions(roles), 'roleIds');
      const id = uuidv7();
      const user = await r.staff.insert({
        id,
        regionCode,
        departmentId,
        ...this.vault.sealStaff(id, { idNumber: idNumber.value, name, phone }),
        idBlindIndex: this.vault.blindIndex(idNumber.value),
        createdBy: caller.id ?? null,
      });
      const roleIds = roles.map((x) => x.id).sort();
      await r.roles.setForUser(id, roleIds, caller.id ?? null);
      await audit(
        r,
        actor,
        AuditAction.STAFF_USER_CREATED,
        { type: 'STAFF_USER', id, regionCode },
        {
          departmentId,
          roleIds,
        },
      );
      await enqueue(r.manager, [
        staffUserCreated({
          staffUserId: id,
          regionCode,
          departmentId,
          roleIds,
          actorId: caller.id ?? null,
          at: now,
        }),
      ]);
      return user;
    });
  }

  async updateStaffUser(
    caller: Caller,
    input: { id: string; departmentId?: string | null; name?: string | null; phone?: string | null },
    actor: Actor,
  ): Promise<StaffUserRow> {
    const scope = staffScopeFor(caller, Permission.ADMIN_USERS_WRITE);
    const name = input.name == null ? null : requireName(input.name, 'name');
    const phone = input.phone == null || input.phone === '' ? null : requirePhone(input.phone, 'phone');
    return this.store.transaction(async (r) => {
      const user = await this.staffInScope(r, scope, input.id, 'id', true);
      const current = this.vault.openStaff(user);
      const departmentId =
        input.departmentId === undefined
          ? user.departmentId
          : await this.departmentFor(r, input.departmentId, user.regionCode);
      const updated = await r.staff.update(user.id, {
        departmentId,
        ...this.vault.sealStaff(user.id, {
          idNumber: current.idNumber,
          name: name ?? current.name,
          phone: input.phone === undefined ? current.phone : phone,
        }),
      });
      await audit(
        r,
        actor,
        AuditAction.STAFF_USER_UPDATED,
        { type: 'STAFF_USER', id: user.id, regionCode: user.regionCode },
        {
          departmentChanged: departmentId !== user.departmentId,
          nameChanged: name !== null && name !== current.name,
          phoneChanged: input.phone !== undefined && phone !== current.phone,
        },
      );
      return updated;
    });
  }

  /** 配置角色: replaces a user's roles. */
  async setStaffUserRoles(caller: Caller, input: { userId: string; roleIds: string[] }, actor: Actor) {
    const scope = staffScopeFor(caller, Permission.ADMIN_USERS_WRITE);
    return this.store.transaction(async (r) => {
      const user = await this.staffInScope(r, scope, input.userId, 'userId', true);
      const roles = await this.assignableRoles(r, caller, scope, user.regionCode, input.roleIds);
      await this.applyRoles(r, caller, actor, user, roles);
      return user;
    });
  }

  /** 分配用户 / 取消授权: gives a role to one user or takes it away, from the role's side. */
  async setRoleAssignment(
    caller: Caller,
    input: { roleId: string; userId: string; assigned: boolean },
    actor: Actor,
  ): Promise<StaffUserRow> {
    const scope = staffScopeFor(caller, Permission.ADMIN_USERS_WRITE);
    return this.store.transaction(async (r) => {
      const user = await this.staffInScope(r, scope, input.userId, 'userId', true);
      const roleId = uuidOrNull(input.roleId);
      const role = roleId ? await r.roles.byId(roleId) : null;
      if (!role || !this.roleVisible(scope, role)) throw notFound('Role', 'roleId');
      const current = await r.roles.ofUser(user.id);
      const others = current.filter((x) => x.id !== role.id);
      const wanted = input.assigned ? [...others.map((x) => x.id), role.id] : others.map((x) => x.id);
      const roles = await this.assignableRoles(r, caller, scope, user.regionCode, wanted);
      await this.applyRoles(r, caller, actor, user, roles);
      return user;
    });
  }

  private async applyRoles(
    r: Repositories,
    caller: Caller,
    actor: Actor,
    user: StaffUserRow,
    roles: RoleRow[],
  ) {
    if (user.id === caller.id) {
      throw new DomainError(AdminError.SELF_ADMINISTRATION, 'Another administrator must change your roles');
    }
    const roleIds = roles.map((x) => x.id).sort();
    const before = (await r.roles.ofUser(user.id)).map((x) => x.id).sort();
    const { added, removed } = diff(before, roleIds);
    // Granting is bounded by what the granter holds; taking away is not.
    assertHeld(caller, effectivePermissions(roles.filter((x) => added.includes(x.id))), 'roleIds');
    if (!added.length && !removed.length) return;
    await r.roles.setForUser(user.id, roleIds, caller.id ?? null);
    const permissions = effectivePermissions(roles);
    await audit(
      r,
      actor,
      AuditAction.STAFF_ROLES_CHANGED,
      {
        type: 'STAFF_USER',
        id: user.id,
        regionCode: user.regionCode,
      },
      { before, after: roleIds, added, removed, permissions },
    );
    await enqueue(r.manager, [
      staffRoleChanged({
        staffUserId: user.id,
        regionCode: user.regionCode,
        roleIds,
        added,
        removed,
        permissions,
        actorId: caller.id ?? null,
        at: this.clock(),
      }),
    ]);
  }

  /** 启用 / 停用. A disabled user cannot sign in; tokens already out expire within TOKEN_TTL_SECONDS. */
  async setStaffUserEnabled(caller: Caller, input: { userId: string; enabled: boolean }, actor: Actor) {
    const scope = staffScopeFor(caller, Permission.ADMIN_USERS_WRITE);
    if (typeof input.enabled !== 'boolean') {
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'enabled must be true or false', 'enabled');
    }
    return this.store.transaction(async (r) => {
      const user = await this.staffInScope(r, scope, input.userId, 'userId', true);
      if (user.id === caller.id) {
        throw new DomainError(
          AdminError.SELF_ADMINISTRATION,
          'You cannot enable or disable yourself',
          'userId',
        );
      }
      if (user.enabled === input.enabled) return user;
      const updated = await r.staff.setEnabled(user.id, input.enabled);
      await audit(
        r,
        actor,
        input.enabled ? AuditAction.STAFF_USER_ENABLED : AuditAction.STAFF_USER_DISABLED,
        { type: 'STAFF_USER', id: user.id, regionCode: user.regionCode },
      );
      await enqueue(r.manager, [
        staffUserStatusChanged({
          staffUserId: user.id,
          regionCode: user.regionCode,
          enabled: input.enabled,
          actorId: caller.id ?? null,
          at: this.clock(),
        }),
      ]);
      return updated;
    });
  }

  async staffUser(caller: Caller, rawId: string): Promise<StaffUserRow | null> {
    if (
      caller.kind !== 'staff' ||
      !caller.regionCode ||
      !(
        caller.permissions.includes(Permission.ADMIN_USERS_READ) ||
        caller.permissions.includes(Permission.ADMIN_USERS_WRITE)
      )
    ) {
      return null;
    }
    const id = uuidOrNull(rawId);
    const user = id ? await this.store.read.staff.byId(id) : null;
    return user && within(caller.regionCode, user.regionCode) ? user : null;
  }

  /** The signed-in staff member's own record. */
  async currentStaffUser(caller: Caller): Promise<StaffUserRow | null> {
    if (caller.kind !== 'staff' || !caller.id) return null;
    const id = uuidOrNull(caller.id);
    return id ? this.store.read.staff.byId(id) : null;
  }

  async staffUsers(caller: Caller, q: StaffQuery): Promise<Connection<StaffUserRow>> {
    const scope = requireAny(caller, [Permission.ADMIN_USERS_READ, Permission.ADMIN_USERS_WRITE]);
    const { limit, afterKey } = parsePage(q);
    const root = q.regionCode ?? scope;
    if (!isRegionCode(root) || !inRegion(scope, root))
      return toConnection<StaffUserRow>([], limit, (u) => u.id);
    const departmentId = q.departmentId == null ? null : uuidOrNull(q.departmentId);
    if (q.departmentId != null && !departmentId) return toConnection<StaffUserRow>([], limit, (u) => u.id);
    const rows = await this.store.read.staff.list(
      regionPrefix(root),
      { enabled: q.enabled, departmentId },
      { afterId: afterKey, limit },
    );
    return toConnection(rows, limit, (u) => u.id);
  }

  async effectivePermissionsOf(userId: string): Promise<string[]> {
    return effectivePermissions(await this.store.read.roles.ofUser(userId));
  }

  rolesOf(userId: string): Promise<RoleRow[]> {
    return this.store.read.roles.ofUser(userId);
  }

  async departmentOf(user: StaffUserRow): Promise<DepartmentRow | null> {
    return user.departmentId ? this.store.read.departments.byId(user.departmentId) : null;
  }

  masked(user: StaffUserRow): MaskedStaff {
    let m = this.maskedCache.get(user);
    if (!m) {
      const d = this.vault.openStaff(user);
      m = {
        maskedName: maskName(d.name),
        maskedIdNumber: maskIdNumber(d.idNumber),
        maskedPhone: d.phone === null ? null : maskPhone(d.phone),
      };
      this.maskedCache.set(user, m);
    }
    return m;
  }
}
