import { inRegion, isUuid, type Caller } from '@vtv/kit';
import type { VoucherRow } from '../data/entities';
import type { VoucherRepository } from '../data/repositories';

export const VOUCHERS_READ = 'vouchers:read';

export class WalletService {
  constructor(private readonly vouchers: VoucherRepository) {}

  /** A person's vouchers, for that person only; anyone else sees an empty list. */
  async holderVouchers(caller: Caller, personId: string): Promise<VoucherRow[]> {
    if (caller.kind !== 'person' || caller.id !== personId) return [];
    return this.vouchers.byHolder(personId);
  }

  async get(caller: Caller, id: string): Promise<VoucherRow | null> {
    if (!isUuid(id)) return null;
    const v = await this.vouchers.byId(id);
    if (!v) return null;
    if (caller.kind === 'person' && caller.id === v.holderPersonId) return v;
    if (
      caller.kind === 'staff' &&
      caller.permissions.includes(VOUCHERS_READ) &&
      caller.regionCode &&
      inRegion(caller.regionCode, v.regionCode)
    ) {
      return v;
    }
    return null;
  }
}
