import { DomainError, ErrorCode, isUuid, notFound, type Caller, type EntityManager } from '@vtv/kit';
import { VOUCHERS_INVALIDATE } from '../permissions';
import { requireInRegion, staffActor, staffRegion } from './access';
import { audit, keyed, type Deps } from './context';
import { reason as reasonInput, uuid } from './input';
import type { Lifecycle } from './lifecycle';

/**
 * How vouchers end: administrative invalidation (设置失效), training failed at completion (Art. 30), and
 * settlement when the subsidy is paid (Art. 28).
 */
export class OutcomeService {
  constructor(
    private readonly deps: Deps,
    private readonly lifecycle: Lifecycle,
  ) {}

  /** 设置失效 for one voucher (held or used), with a reason; irreversible. */
  async invalidateVoucher(caller: Caller, id: string, why: string, key?: string): Promise<string> {
    const root = staffRegion(caller, VOUCHERS_INVALIDATE);
    const voucherId = uuid('id', id);
    const reason = reasonInput(why);
    const actor = staffActor(caller);
    const v = await this.deps.repos.vouchers.byId(voucherId);
    if (!v) throw notFound('Voucher');
    requireInRegion(root, v.regionCode, 'Voucher');
    return keyed(
      this.deps,
      { caller, key, operation: 'invalidateVoucher', input: { voucherId, reason } },
      async (m) => {
        const rows = await this.lifecycle.apply(
          m,
          { ids: [voucherId] },
          { to: 'INVALIDATED', actor, reason, at: this.deps.now() },
        );
        if (rows.length === 0) {
          const current = await this.deps.repos.vouchers.byId(voucherId, m);
          throw new DomainError(
            ErrorCode.INVALID_STATE,
            `A ${current?.state ?? v.state} voucher cannot be invalidated`,
          );
        }
        await audit(
          this.deps,
          m,
          actor,
          'voucher.invalidate',
          { type: 'voucher', id: voucherId, regionCode: v.regionCode },
          { reason },
        );
        return voucherId;
      },
    );
  }

  /** CompletionRecorded with passed = false: the trainee's used voucher for the class is invalidated. */
  async onCompletionFailed(
    m: EntityManager,
    e: { personId: string; classId: string; enrollmentId: string; reviewerId: string },
  ): Promise<number> {
    const ids = await this.deps.repos.vouchers.usedIds(m, e.personId, e.classId, e.enrollmentId);
    if (ids.length === 0) return 0;
    const rows = await this.lifecycle.apply(
      m,
      { ids },
      {
        to: 'INVALIDATED',
        actor: e.reviewerId ? { kind: 'STAFF', id: e.reviewerId } : { kind: 'SYSTEM', id: 'training' },
        reason: 'training failed at completion review (结业不合格)',
        at: this.deps.now(),
      },
    );
    return rows.length;
  }

  /**
   * SubsidyDisbursed: every listed voucher that is USED becomes SETTLED and its code dies. A voucher
   * already settled (a second payment event) is left as it is; one in any other state is reported.
   */
  async onDisbursed(
    m: EntityManager,
    e: { disbursementId: string; applicationId: string; voucherIds: string[] },
  ): Promise<number> {
    if (e.voucherIds.length === 0) return 0;
    if (!isUuid(e.disbursementId)) {
      this.deps.logger.warn(
        { applicationId: e.applicationId },
        'disbursement without a valid id; vouchers left as they are',
      );
      return 0;
    }
    const rows = await this.lifecycle.apply(
      m,
      { ids: e.voucherIds },
      {
        to: 'SETTLED',
        actor: { kind: 'SYSTEM', id: 'settlement' },
        reason: 'subsidy disbursed (补贴拨付, 核销)',
        at: this.deps.now(),
        settle: { disbursementId: e.disbursementId },
      },
    );
    if (rows.length < e.voucherIds.length) {
      this.deps.logger.warn(
        { disbursementId: e.disbursementId, listed: e.voucherIds.length, settled: rows.length },
        'some vouchers of a disbursement were not in USED (already settled, or anomalous)',
      );
    }
    return rows.length;
  }
}
