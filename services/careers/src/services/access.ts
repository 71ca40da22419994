import {
  isRegionCode,
  isUuid,
  parsePage,
  toConnection,
  badInput,
  type Caller,
  type Connection,
  type PageArgs,
} from '@vtv/kit';
import type { AccessLogRepository, NewAccess } from '../data/access-log-repository';
import type { DataAccessRow } from '../data/entities';
import { CAREERS_READ } from '../permissions';

/** True when the caller is the person themself. */
export function isSelf(caller: Caller, personId: string): boolean {
  return caller.kind === 'person' && !!caller.id && caller.id === personId;
}

/** The region staff holding `permission` act in; null for everyone else. */
export function staffScope(caller: Caller, permission: string = CAREERS_READ): string | null {
  if (caller.kind !== 'staff' || !caller.id || !caller.permissions.includes(permission)) return null;
  return caller.regionCode && isRegionCode(caller.regionCode) ? caller.regionCode : null;
}

/** Who the log names for a caller. */
export function actorOf(caller: Caller): Pick<NewAccess, 'actorKind' | 'actorId' | 'actorRegion'> {
  return {
    actorKind: caller.kind === 'anonymous' ? 'service' : caller.kind,
    actorId: caller.id ?? 'anonymous',
    actorRegion: caller.regionCode && isRegionCode(caller.regionCode) ? caller.regionCode : null,
  };
}

export const AccessAction = {
  CERTIFICATES_VIEWED: 'CERTIFICATES_VIEWED',
  ARCHIVE_VIEWED: 'ARCHIVE_VIEWED',
  CERTIFICATE_IMPORTED: 'CERTIFICATE_IMPORTED',
  RECOMMENDATION_MADE: 'RECOMMENDATION_MADE',
  SMS_SENT: 'SMS_SENT',
} as const;
export type AccessAction = (typeof AccessAction)[keyof typeof AccessAction];

/** Decodes a newest-first keyset cursor over UUIDv7 ids. */
export function beforeIdOf(args: PageArgs, defaultSize = 20): { limit: number; beforeId: string | null } {
  const { limit, afterKey } = parsePage(args, defaultSize);
  if (afterKey !== null && !isUuid(afterKey)) throw badInput('after', 'Invalid cursor');
  return { limit, beforeId: afterKey };
}

/** The log of who saw or used a person's data (查询留痕), readable by the person only. */
export class AccessLogService {
  constructor(private readonly log: AccessLogRepository) {}

  /** Logs that staff (or a client) read some of a person's data. */
  async recordRead(
    caller: Caller,
    personIds: Iterable<string>,
    action: AccessAction,
    detail: string,
  ): Promise<void> {
    const actor = actorOf(caller);
    await this.log.add(
      [...new Set(personIds)].map((personId) => ({ personId, ...actor, action, purpose: null, detail })),
    );
  }

  /** The person's own log, newest first; null for anyone else. */
  async forPerson(
    caller: Caller,
    personId: string,
    args: PageArgs,
  ): Promise<Connection<DataAccessRow> | null> {
    if (!isSelf(caller, personId)) return null;
    const { limit, beforeId } = beforeIdOf(args);
    return toConnection(await this.log.page(personId, beforeId, limit), limit, (r) => r.id);
  }
}
