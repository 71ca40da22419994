import {
  badInput,
  isUuid,
  parsePage,
  regionPrefix,
  toConnection,
  type Caller,
  type Connection,
  type PageArgs,
} from '@vtv/kit';
import type { VoucherKind, VoucherRow, VoucherState, VoucherTransitionRow } from '../data/entities';
import { WALLET_SECTIONS, type WalletSection } from '../domain/lifecycle';
import { VOUCHERS_READ } from '../permissions';
import { staffRegion, staffSees } from './access';
import type { Deps } from './context';
import { optionalUuid } from './input';

export interface RecordFilter {
  state?: VoucherState | null;
  kind?: VoucherKind | null;
  batchId?: string | null;
  templateId?: string | null;
  holderPersonId?: string | null;
  institutionId?: string | null;
}

/** Reading vouchers: the holder's wallet (我的卡券) and staff records (培训券记录管理). */
export class WalletService {
  constructor(private readonly deps: Deps) {}

  /** The holder, or staff holding vouchers:read in its region; anyone else sees nothing. */
  async get(caller: Caller, id: string): Promise<VoucherRow | null> {
    if (!isUuid(id)) return null;
    const v = await this.deps.repos.vouchers.byId(id);
    return v && this.visible(caller, v) ? v : null;
  }

  visible(caller: Caller, v: VoucherRow): boolean {
    if (caller.kind === 'person' && caller.id === v.holderPersonId) return true;
    return staffSees(caller, VOUCHERS_READ, v.regionCode);
  }

  /** A person's vouchers, for that person only (an empty list for anyone else); optionally one wallet section. */
  async holderVouchers(
    caller: Caller,
    personId: string,
    section?: WalletSection | null,
  ): Promise<VoucherRow[]> {
    if (caller.kind !== 'person' || caller.id !== personId) return [];
    return this.deps.repos.vouchers.byHolder(personId, section ? WALLET_SECTIONS[section] : null);
  }

  async wallet(caller: Caller, personId: string): Promise<Record<WalletSection, VoucherRow[]>> {
    const all = await this.holderVouchers(caller, personId);
    const pick = (s: WalletSection) => all.filter((v) => WALLET_SECTIONS[s].includes(v.state));
    return { HELD: pick('HELD'), USED: pick('USED'), NO_LONGER_VALID: pick('NO_LONGER_VALID') };
  }

  async records(caller: Caller, filter: RecordFilter, args: PageArgs): Promise<Connection<VoucherRow>> {
    const root = staffRegion(caller, VOUCHERS_READ);
    const { limit, afterKey } = parsePage(args);
    if (afterKey !== null && !isUuid(afterKey)) throw badInput('after', 'Invalid cursor');
    const rows = await this.deps.repos.vouchers.pageInRegion(
      regionPrefix(root),
      {
        state: filter.state,
        kind: filter.kind,
        batchId: optionalUuid('batchId', filter.batchId),
        templateId: optionalUuid('templateId', filter.templateId),
        holderPersonId: optionalUuid('holderPersonId', filter.holderPersonId),
        institutionId: optionalUuid('institutionId', filter.institutionId),
      },
      limit,
      afterKey,
    );
    return toConnection(rows, limit, (v) => v.id);
  }

  /** The voucher's transitions, for whoever may see the voucher. */
  history(v: VoucherRow): Promise<VoucherTransitionRow[]> {
    return this.deps.repos.vouchers.history(v.id);
  }
}
