import {
  Permission,
  parsePage,
  regionPrefix,
  requirePermission,
  scrubText,
  toConnection,
  uuidv7,
  type Caller,
  type Connection,
  type PageArgs,
} from '@vtv/kit';
import type { AuditRow } from '../data/entities';
import type { NewAuditEntry, Repositories, Store } from '../data/repositories';
import { actingRegion } from './scope';

/** What the audit log records. Documented in the schema's AuditAction enum. */
export const AuditAction = {
  CARD_ISSUED: 'CARD_ISSUED',
  ID_NUMBER_REVEALED: 'ID_NUMBER_REVEALED',
  PIN_SET: 'PIN_SET',
  PIN_LOCKED: 'PIN_LOCKED',
  PERSON_SIGNED_IN: 'PERSON_SIGNED_IN',
  STAFF_SIGNED_IN: 'STAFF_SIGNED_IN',
  CLIENT_SIGNED_IN: 'CLIENT_SIGNED_IN',
  STAFF_BOOTSTRAPPED: 'STAFF_BOOTSTRAPPED',
  STAFF_USER_CREATED: 'STAFF_USER_CREATED',
  STAFF_USER_UPDATED: 'STAFF_USER_UPDATED',
  STAFF_USER_ENABLED: 'STAFF_USER_ENABLED',
  STAFF_USER_DISABLED: 'STAFF_USER_DISABLED',
  STAFF_ROLES_CHANGED: 'STAFF_ROLES_CHANGED',
  ROLE_CREATED: 'ROLE_CREATED',
  ROLE_UPDATED: 'ROLE_UPDATED',
  ROLE_DELETED: 'ROLE_DELETED',
  DEPARTMENT_CREATED: 'DEPARTMENT_CREATED',
  DEPARTMENT_UPDATED: 'DEPARTMENT_UPDATED',
  DEPARTMENT_DELETED: 'DEPARTMENT_DELETED',
  CLIENT_CREATED: 'CLIENT_CREATED',
  CLIENT_ENABLED: 'CLIENT_ENABLED',
  CLIENT_DISABLED: 'CLIENT_DISABLED',
  CLIENT_SECRET_ROTATED: 'CLIENT_SECRET_ROTATED',
  PERSONAL_DATA_REENCRYPTED: 'PERSONAL_DATA_REENCRYPTED',
} as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

/** Who did it, as far as the request knows. */
export interface Actor {
  caller: Caller;
  requestId?: string;
  /** Set for the platform's own actions (e.g. `bootstrap`): recorded as actor kind `system`. */
  system?: string;
}

/** The actor of a request. */
export const actorOf = (ctx: { caller: Caller; requestId?: string }): Actor => ({
  caller: ctx.caller,
  requestId: ctx.requestId,
});

export interface AuditTarget {
  type: 'PERSON' | 'STAFF_USER' | 'ROLE' | 'DEPARTMENT' | 'CLIENT' | 'SYSTEM';
  id: string | null;
  /** The region whose authorised staff may read the record. */
  regionCode: string | null;
}

/**
 * Appends an audit record inside the caller's transaction, so the record exists exactly when the change
 * does. Details never hold names, ID numbers or phones (free text is scrubbed as a last line).
 */
export async function audit(
  r: Repositories,
  actor: Actor,
  action: AuditAction,
  target: AuditTarget,
  details: Record<string, unknown> = {},
): Promise<void> {
  const entry: NewAuditEntry = {
    id: uuidv7(),
    action,
    actorKind: actor.system ? 'system' : actor.caller.kind,
    actorId: actor.system ?? actor.caller.id ?? null,
    actorRegion: actor.caller.regionCode ?? null,
    targetType: target.type,
    targetId: target.id,
    regionCode: target.regionCode ?? actor.caller.regionCode ?? null,
    details: JSON.parse(
      JSON.stringify(details, (_k, v: unknown) => (typeof v === 'string' ? scrubText(v) : v)),
    ),
    requestId: actor.requestId ?? null,
  };
  await r.audit.append(entry);
}

export interface AuditQuery extends PageArgs {
  action?: string | null;
  targetId?: string | null;
}

/** Reading the log: staff holding audit:read, records of their own region subtree only. */
export class AuditService {
  constructor(private readonly store: Store) {}

  async list(caller: Caller, q: AuditQuery): Promise<Connection<AuditRow>> {
    requirePermission(caller, Permission.AUDIT_READ);
    const region = actingRegion(caller);
    const { limit, afterKey } = parsePage(q);
    const rows = await this.store.read.audit.list(
      regionPrefix(region),
      { action: q.action, targetId: q.targetId },
      { afterId: afterKey, limit },
    );
    return toConnection(rows, limit, (r) => r.id);
  }
}
