import {
  isUuid,
  parsePage,
  regionPrefix,
  requirePermission,
  toConnection,
  type Caller,
  type PageArgs,
} from '@vtv/kit';
import type { AwaitingClassRepository } from '../data/repositories';

export const VOUCHERS_ISSUE = 'vouchers:issue';

export class IssuanceService {
  constructor(private readonly awaiting: AwaitingClassRepository) {}

  async awaitingInRegion(caller: Caller, args: PageArgs) {
    requirePermission(caller, VOUCHERS_ISSUE);
    const { limit, afterKey } = parsePage(args);
    const rows = await this.awaiting.pageInRegion(
      regionPrefix(caller.regionCode ?? '000000'),
      limit,
      afterKey,
    );
    return toConnection(rows, limit, (r) => r.classId);
  }

  async isAwaiting(classId: string): Promise<boolean> {
    if (!isUuid(classId)) return false;
    const row = await this.awaiting.byClassId(classId);
    return !!row && row.issuedAt === null;
  }
}
