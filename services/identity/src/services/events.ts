import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  CardIssuedSchema,
  ClientChangedSchema,
  RolePermissionsChangedSchema,
  StaffRoleChangedSchema,
  StaffUserCreatedSchema,
  StaffUserStatusChangedSchema,
  TOPICS,
  buildEvent,
  type EventRecord,
} from '@vtv/events';

/**
 * The facts identity publishes (outbox, same transaction as the change). Opaque ids, region codes,
 * role ids and permission names only: never a name, ID number or phone.
 */
const SOURCE = '/vtv/identity';

export function cardIssued(e: {
  personId: string;
  regionCode: string;
  birthYear: number;
  at: Date;
}): EventRecord {
  return buildEvent({
    schema: CardIssuedSchema,
    topic: TOPICS.identityPerson.name,
    subject: e.personId,
    source: SOURCE,
    data: {
      personId: e.personId,
      regionCode: e.regionCode,
      birthYear: e.birthYear,
      issuedAt: timestampFromDate(e.at),
    },
  });
}

export function staffUserCreated(e: {
  staffUserId: string;
  regionCode: string;
  departmentId: string | null;
  roleIds: string[];
  actorId: string | null;
  at: Date;
}): EventRecord {
  return buildEvent({
    schema: StaffUserCreatedSchema,
    topic: TOPICS.identityStaff.name,
    subject: e.staffUserId,
    source: SOURCE,
    data: {
      staffUserId: e.staffUserId,
      regionCode: e.regionCode,
      departmentId: e.departmentId ?? '',
      roleIds: e.roleIds,
      actorId: e.actorId ?? '',
      createdAt: timestampFromDate(e.at),
    },
  });
}

export function staffUserStatusChanged(e: {
  staffUserId: string;
  regionCode: string;
  enabled: boolean;
  actorId: string | null;
  at: Date;
}): EventRecord {
  return buildEvent({
    schema: StaffUserStatusChangedSchema,
    topic: TOPICS.identityStaff.name,
    subject: e.staffUserId,
    source: SOURCE,
    data: {
      staffUserId: e.staffUserId,
      regionCode: e.regionCode,
      enabled: e.enabled,
      actorId: e.actorId ?? '',
      changedAt: timestampFromDate(e.at),
    },
  });
}

export function staffRoleChanged(e: {
  staffUserId: string;
  regionCode: string;
  roleIds: string[];
  added: string[];
  removed: string[];
  permissions: string[];
  actorId: string | null;
  at: Date;
}): EventRecord {
  return buildEvent({
    schema: StaffRoleChangedSchema,
    topic: TOPICS.identityStaff.name,
    subject: e.staffUserId,
    source: SOURCE,
    data: {
      staffUserId: e.staffUserId,
      regionCode: e.regionCode,
      roleIds: e.roleIds,
      addedRoleIds: e.added,
      removedRoleIds: e.removed,
      permissions: e.permissions,
      actorId: e.actorId ?? '',
      changedAt: timestampFromDate(e.at),
    },
  });
}

export function rolePermissionsChanged(e: {
  roleId: string;
  regionCode: string;
  permissions: string[];
  deleted: boolean;
  actorId: string | null;
  at: Date;
}): EventRecord {
  return buildEvent({
    schema: RolePermissionsChangedSchema,
    topic: TOPICS.identityStaff.name,
    subject: e.roleId,
    source: SOURCE,
    data: {
      roleId: e.roleId,
      regionCode: e.regionCode,
      permissions: e.permissions,
      deleted: e.deleted,
      actorId: e.actorId ?? '',
      changedAt: timestampFromDate(e.at),
    },
  });
}

export function clientChanged(e: {
  clientId: string;
  regionCode: string;
  permissions: string[];
  enabled: boolean;
  change: 'CREATED' | 'SECRET_ROTATED' | 'ENABLED' | 'DISABLED';
  actorId: string | null;
  at: Date;
}): EventRecord {
  return buildEvent({
    schema: ClientChangedSchema,
    topic: TOPICS.identityStaff.name,
    subject: e.clientId,
    source: SOURCE,
    data: {
      clientId: e.clientId,
      regionCode: e.regionCode,
      permissions: e.permissions,
      enabled: e.enabled,
      change: e.change,
      actorId: e.actorId ?? '',
      changedAt: timestampFromDate(e.at),
    },
  });
}
