import {
  badInput,
  inRegion,
  isRegionCode,
  isUuid,
  parsePage,
  regionPrefix,
  toConnection,
  type Caller,
  type Connection,
  type PageArgs,
} from '@vtv/kit';
import type { SubsidyApplicationRow } from '../data/entities';
import type { SubsidyApplicationRepository } from '../data/repositories';

export const SETTLEMENT_READ = 'settlement:read';

/** The region a caller may read applications in: staff holding settlement:read, else nothing. */
export function readScope(caller: Caller): string | null {
  if (caller.kind !== 'staff' || !caller.permissions.includes(SETTLEMENT_READ)) return null;
  return caller.regionCode && isRegionCode(caller.regionCode) ? caller.regionCode : null;
}

export class SubsidyApplicationService {
  constructor(private readonly applications: SubsidyApplicationRepository) {}

  /**
   * Staff holding settlement:read whose region contains the application's.
   * "Not yours" is indistinguishable from "does not exist": both are null.
   */
  async visibleTo(caller: Caller, id: string): Promise<SubsidyApplicationRow | null> {
    const scope = readScope(caller);
    if (!scope || !isUuid(id)) return null;
    const application = await this.applications.byId(id);
    return application && inRegion(scope, application.regionCode) ? application : null;
  }

  /** A training class's applications the caller may see (empty for everyone else). */
  async forClass(caller: Caller, classId: string): Promise<SubsidyApplicationRow[]> {
    const scope = readScope(caller);
    if (!scope || !isUuid(classId)) return [];
    return this.applications.byClass(classId, regionPrefix(scope));
  }

  /** An institution's applications the caller may see, one page at a time in creation order. */
  async forInstitution(
    caller: Caller,
    institutionId: string,
    args: PageArgs,
  ): Promise<Connection<SubsidyApplicationRow>> {
    const { limit, afterKey } = parsePage(args);
    if (afterKey !== null && !isUuid(afterKey)) throw badInput('after', 'Invalid cursor');
    const scope = readScope(caller);
    if (!scope || !isUuid(institutionId)) return toConnection<SubsidyApplicationRow>([], limit, (a) => a.id);
    const rows = await this.applications.pageByInstitution(
      institutionId,
      regionPrefix(scope),
      afterKey,
      limit,
    );
    return toConnection(rows, limit, (a) => a.id);
  }
}
