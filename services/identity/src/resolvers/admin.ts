import { PERMISSION_CATALOGUE, mutationPayload, type PageArgs } from '@vtv/kit';
import type { AuditRow, ClientRow, DepartmentRow, RoleRow, StaffUserRow } from '../data/entities';
import type { AuditQuery } from '../services/audit';
import type { CreateStaffUserInput, StaffQuery } from '../services/admin';
import { actor, iso, type Ctx } from './context';

type Input<T> = { input: T };

export const adminResolvers = {
  Query: {
    permissionCatalogue: () => PERMISSION_CATALOGUE,
    currentStaffUser: (_: unknown, __: unknown, ctx: Ctx) => ctx.admin.currentStaffUser(ctx.caller),
    departments: (_: unknown, args: PageArgs & { regionCode?: string | null }, ctx: Ctx) =>
      ctx.admin.departments(ctx.caller, args),
    department: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.admin.department(ctx.caller, id),
    roles: (_: unknown, args: PageArgs, ctx: Ctx) => ctx.admin.roles(ctx.caller, args),
    role: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.admin.role(ctx.caller, id),
    staffUsers: (_: unknown, args: StaffQuery, ctx: Ctx) => ctx.admin.staffUsers(ctx.caller, args),
    staffUser: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.admin.staffUser(ctx.caller, id),
    clients: (_: unknown, args: PageArgs, ctx: Ctx) => ctx.clients.list(ctx.caller, args),
    client: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.clients.get(ctx.caller, id),
    auditLog: (_: unknown, args: AuditQuery, ctx: Ctx) => ctx.audit.list(ctx.caller, args),
  },
  Mutation: {
    createDepartment: (_: unknown, { input }: Input<{ regionCode: string; name: string }>, ctx: Ctx) =>
      mutationPayload(async () => ({
        department: await ctx.admin.createDepartment(ctx.caller, input, actor(ctx)),
      })),
    updateDepartment: (_: unknown, { input }: Input<{ id: string; name: string }>, ctx: Ctx) =>
      mutationPayload(async () => ({
        department: await ctx.admin.updateDepartment(ctx.caller, input, actor(ctx)),
      })),
    deleteDepartment: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      mutationPayload(async () => ({
        deletedId: await ctx.admin.deleteDepartment(ctx.caller, id, actor(ctx)),
      })),
    createRole: (
      _: unknown,
      {
        input,
      }: Input<{ regionCode: string; name: string; description?: string | null; permissions: string[] }>,
      ctx: Ctx,
    ) => mutationPayload(async () => ({ role: await ctx.admin.createRole(ctx.caller, input, actor(ctx)) })),
    updateRole: (
      _: unknown,
      {
        input,
      }: Input<{
        id: string;
        name?: string | null;
        description?: string | null;
        permissions?: string[] | null;
      }>,
      ctx: Ctx,
    ) => mutationPayload(async () => ({ role: await ctx.admin.updateRole(ctx.caller, input, actor(ctx)) })),
    deleteRole: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      mutationPayload(async () => ({ deletedId: await ctx.admin.deleteRole(ctx.caller, id, actor(ctx)) })),
    createStaffUser: (_: unknown, { input }: Input<CreateStaffUserInput>, ctx: Ctx) =>
      mutationPayload(async () => ({
        staffUser: await ctx.admin.createStaffUser(ctx.caller, input, actor(ctx)),
      })),
    updateStaffUser: (
      _: unknown,
      {
        input,
      }: Input<{ id: string; departmentId?: string | null; name?: string | null; phone?: string | null }>,
      ctx: Ctx,
    ) =>
      mutationPayload(async () => ({
        staffUser: await ctx.admin.updateStaffUser(ctx.caller, input, actor(ctx)),
      })),
    setStaffUserRoles: (_: unknown, { input }: Input<{ userId: string; roleIds: string[] }>, ctx: Ctx) =>
      mutationPayload(async () => ({
        staffUser: await ctx.admin.setStaffUserRoles(ctx.caller, input, actor(ctx)),
      })),
    setRoleAssignment: (
      _: unknown,
      { input }: Input<{ roleId: string; userId: string; assigned: boolean }>,
      ctx: Ctx,
    ) =>
      mutationPayload(async () => ({
        staffUser: await ctx.admin.setRoleAssignment(ctx.caller, input, actor(ctx)),
      })),
    setStaffUserEnabled: (_: unknown, { input }: Input<{ userId: string; enabled: boolean }>, ctx: Ctx) =>
      mutationPayload(async () => ({
        staffUser: await ctx.admin.setStaffUserEnabled(ctx.caller, input, actor(ctx)),
      })),
    createClient: (
      _: unknown,
      { input }: Input<{ name: string; regionCode: string; permissions: string[] }>,
      ctx: Ctx,
    ) => mutationPayload(() => ctx.clients.create(ctx.caller, input, actor(ctx))),
    rotateClientSecret: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      mutationPayload(() => ctx.clients.rotateSecret(ctx.caller, id, actor(ctx))),
    setClientEnabled: (_: unknown, { input }: Input<{ id: string; enabled: boolean }>, ctx: Ctx) =>
      mutationPayload(async () => ({ client: await ctx.clients.setEnabled(ctx.caller, input, actor(ctx)) })),
    reencryptPersonalData: (_: unknown, { batchSize }: { batchSize?: number | null }, ctx: Ctx) =>
      mutationPayload(() => ctx.reencryption.run(ctx.caller, batchSize, actor(ctx))),
  },
  Department: {
    region: (d: DepartmentRow, _: unknown, ctx: Ctx) => ctx.regions.get(d.regionCode),
    createdAt: (d: DepartmentRow) => iso(d.createdAt),
  },
  Role: {
    region: (r: RoleRow, _: unknown, ctx: Ctx) => (r.regionCode ? ctx.regions.get(r.regionCode) : null),
    builtIn: (r: RoleRow) => r.system,
    permissions: (r: RoleRow, _: unknown, ctx: Ctx) => ctx.admin.rolePermissions(r),
    members: (r: RoleRow, args: PageArgs, ctx: Ctx) => ctx.admin.roleMembers(ctx.caller, r, args),
  },
  StaffUser: {
    region: (u: StaffUserRow, _: unknown, ctx: Ctx) => ctx.regions.get(u.regionCode),
    department: (u: StaffUserRow, _: unknown, ctx: Ctx) => ctx.admin.departmentOf(u),
    maskedName: (u: StaffUserRow, _: unknown, ctx: Ctx) => ctx.admin.masked(u).maskedName,
    maskedIdNumber: (u: StaffUserRow, _: unknown, ctx: Ctx) => ctx.admin.masked(u).maskedIdNumber,
    maskedPhone: (u: StaffUserRow, _: unknown, ctx: Ctx) => ctx.admin.masked(u).maskedPhone,
    roles: (u: StaffUserRow, _: unknown, ctx: Ctx) => ctx.admin.rolesOf(u.id),
    permissions: async (u: StaffUserRow, _: unknown, ctx: Ctx) => ctx.admin.effectivePermissionsOf(u.id),
    createdAt: (u: StaffUserRow) => iso(u.createdAt),
  },
  MachineClient: {
    region: (c: ClientRow, _: unknown, ctx: Ctx) => ctx.regions.get(c.regionCode),
    createdAt: (c: ClientRow) => iso(c.createdAt),
    secretRotatedAt: (c: ClientRow) => iso(c.secretRotatedAt),
  },
  AuditRecord: {
    occurredAt: (a: AuditRow) => iso(a.occurredAt),
    details: (a: AuditRow) => JSON.stringify(a.details),
  },
};
