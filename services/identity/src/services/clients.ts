import { enqueue } from '@vtv/events';
import {
  DomainError,
  ErrorCode,
  PERMISSION_CATALOGUE,
  Permission,
  inRegion,
  isPermission,
  isRegionCode,
  parsePage,
  regionPrefix,
  toConnection,
  uuidv7,
  type Caller,
  type Connection,
  type PageArgs,
} from '@vtv/kit';
import type { ClientRow } from '../data/entities';
import type { Repositories, Store } from '../data/repositories';
import { hashSecret, newSecret } from '../security/secrets';
import { audit, AuditAction, type Actor } from './audit';
import { AdminError } from './admin';
import { clientChanged } from './events';
import { notFound, staffScopeFor, uuidOrNull, within } from './scope';

const STAFF_ONLY = new Set<string>(PERMISSION_CATALOGUE.filter((p) => p.staffOnly).map((p) => p.name));

export const CLIENT_PERMISSION_NOT_ALLOWED = 'CLIENT_PERMISSION_NOT_ALLOWED';

/**
 * Machine clients for integrators (provincial systems, the ministry platform, e-SSC issuance channels):
 * a client id and a secret (shown once, stored as a hash) exchanged for a client token that carries the
 * client's region and a subset of its permissions. Administration permissions are never for clients, and
 * nobody gives a client a permission they do not hold themselves.
 */
export class ClientService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private permissionsFor(caller: Caller, raw: unknown): string[] {
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > 50) {
      throw new DomainError(
        ErrorCode.BAD_USER_INPUT,
        'Give the client at least one permission',
        'permissions',
      );
    }
    const unknown = raw.filter((p) => typeof p !== 'string' || !isPermission(p));
    if (unknown.length) {
      throw new DomainError(
        AdminError.UNKNOWN_PERMISSION,
        `Not in the permission catalogue: ${unknown.slice(0, 5).map(String).join(', ')}`,
        'permissions',
      );
    }
    const perms = [...new Set(raw as string[])].sort();
    const forbidden = perms.filter((p) => STAFF_ONLY.has(p));
    if (forbidden.length) {
      throw new DomainError(
        CLIENT_PERMISSION_NOT_ALLOWED,
        `Administration permissions are for staff only: ${forbidden.join(', ')}`,
        'permissions',
      );
    }
    const missing = perms.filter((p) => !caller.permissions.includes(p));
    if (missing.length) {
      throw new DomainError(
        AdminError.PERMISSION_NOT_HELD,
        `You cannot grant permissions you do not hold: ${missing.join(', ')}`,
        'permissions',
      );
    }
    return perms;
  }

  private async inScope(r: Repositories, scope: string, rawId: unknown): Promise<ClientRow> {
    const id = uuidOrNull(rawId);
    const client = id ? await r.clients.byId(id) : null;
    if (!client || !within(scope, client.regionCode)) throw notFound('Client', 'id');
    return client;
  }

  async create(
    caller: Caller,
    input: { name: string; regionCode: string; permissions: string[] },
    actor: Actor,
  ): Promise<{ client: ClientRow; clientSecret: string }> {
    const scope = staffScopeFor(caller, Permission.ADMIN_CLIENTS_WRITE);
    const name = typeof input.name === 'string' ? input.name.normalize('NFKC').trim() : '';
    if (name.length < 1 || name.length > 100) {
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'name must be 1-100 characters', 'name');
    }
    const permissions = this.permissionsFor(caller, input.permissions);
    const clientSecret = newSecret('vtvcs_');
    const now = this.clock();
    const client = await this.store.transaction(async (r) => {
      const regionCode = typeof input.regionCode === 'string' ? input.regionCode : '';
      if (
        !isRegionCode(regionCode) ||
        !inRegion(scope, regionCode) ||
        !(await r.regions.byCode(regionCode))
      ) {
        throw notFound('Region', 'regionCode');
      }
      const row = await r.clients.insert({
        id: uuidv7(),
        name,
        regionCode,
        permissions,
        secretHash: hashSecret(clientSecret),
        createdBy: caller.id ?? null,
      });
      await audit(
        r,
        actor,
        AuditAction.CLIENT_CREATED,
        { type: 'CLIENT', id: row.id, regionCode },
        { name, permissions },
      );
      await enqueue(r.manager, [
        clientChanged({
          clientId: row.id,
          regionCode,
          permissions,
          enabled: true,
          change: 'CREATED',
          actorId: caller.id ?? null,
          at: now,
        }),
      ]);
      return row;
    });
    return { client, clientSecret };
  }

  async rotateSecret(
    caller: Caller,
    rawId: string,
    actor: Actor,
  ): Promise<{ client: ClientRow; clientSecret: string }> {
    const scope = staffScopeFor(caller, Permission.ADMIN_CLIENTS_WRITE);
    const clientSecret = newSecret('vtvcs_');
    const client = await this.store.transaction(async (r) => {
      const current = await this.inScope(r, scope, rawId);
      const row = await r.clients.setSecret(current.id, hashSecret(clientSecret));
      await audit(r, actor, AuditAction.CLIENT_SECRET_ROTATED, {
        type: 'CLIENT',
        id: row.id,
        regionCode: row.regionCode,
      });
      await enqueue(r.manager, [
        clientChanged({
          clientId: row.id,
          regionCode: row.regionCode,
          permissions: row.permissions,
          enabled: row.enabled,
          change: 'SECRET_ROTATED',
          actorId: caller.id ?? null,
          at: this.clock(),
        }),
      ]);
      return row;
    });
    return { client, clientSecret };
  }

  async setEnabled(
    caller: Caller,
    input: { id: string; enabled: boolean },
    actor: Actor,
  ): Promise<ClientRow> {
    const scope = staffScopeFor(caller, Permission.ADMIN_CLIENTS_WRITE);
    if (typeof input.enabled !== 'boolean') {
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'enabled must be true or false', 'enabled');
    }
    return this.store.transaction(async (r) => {
      const current = await this.inScope(r, scope, input.id);
      if (current.enabled === input.enabled) return current;
      const row = await r.clients.setEnabled(current.id, input.enabled);
      await audit(r, actor, input.enabled ? AuditAction.CLIENT_ENABLED : AuditAction.CLIENT_DISABLED, {
        type: 'CLIENT',
        id: row.id,
        regionCode: row.regionCode,
      });
      await enqueue(r.manager, [
        clientChanged({
          clientId: row.id,
          regionCode: row.regionCode,
          permissions: row.permissions,
          enabled: row.enabled,
          change: input.enabled ? 'ENABLED' : 'DISABLED',
          actorId: caller.id ?? null,
          at: this.clock(),
        }),
      ]);
      return row;
    });
  }

  async get(caller: Caller, rawId: string): Promise<ClientRow | null> {
    if (
      caller.kind !== 'staff' ||
      !caller.regionCode ||
      !caller.permissions.includes(Permission.ADMIN_CLIENTS_WRITE)
    ) {
      return null;
    }
    const id = uuidOrNull(rawId);
    const client = id ? await this.store.read.clients.byId(id) : null;
    return client && within(caller.regionCode, client.regionCode) ? client : null;
  }

  async list(caller: Caller, q: PageArgs): Promise<Connection<ClientRow>> {
    const scope = staffScopeFor(caller, Permission.ADMIN_CLIENTS_WRITE);
    const { limit, afterKey } = parsePage(q);
    const rows = await this.store.read.clients.list(regionPrefix(scope), { afterId: afterKey, limit });
    return toConnection(rows, limit, (c) => c.id);
  }
}
