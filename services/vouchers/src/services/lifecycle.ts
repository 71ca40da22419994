import { enqueue, type EventRecord } from '@vtv/events';
import { DomainError, ErrorCode, uuidv7, type EntityManager } from '@vtv/kit';
import type { VoucherRow, VoucherState } from '../data/entities';
import type {
  NewTransition,
  TransitionSet,
  TransitionedVoucher,
  VoucherSelector,
} from '../data/repositories';
import { sourcesOf } from '../domain/lifecycle';
import { VoucherError } from '../errors';
import { voucherEvents } from '../events/outgoing';
import { SYSTEM, type Actor } from './access';
import type { Deps } from './context';

export interface TransitionRequest {
  to: VoucherState;
  actor: Actor;
  reason: string | null;
  at: Date;
  use?: TransitionSet['use'];
  settle?: TransitionSet['settle'];
}

/**
 * The only writer of voucher state. Each change runs through the repository's conditional UPDATE (only
 * from the states the transition table allows), and in the same transaction records the transition
 * (actor, time, reason) and writes VoucherStateChanged to the outbox.
 */
export class Lifecycle {
  constructor(private readonly deps: Deps) {}

  async apply(
    manager: EntityManager,
    selector: VoucherSelector,
    req: TransitionRequest,
  ): Promise<TransitionedVoucher[]> {
    const ended = req.to === 'EXPIRED' || req.to === 'INVALIDATED';
    const rows = await this.deps.repos.vouchers.transition(manager, selector, req.to, sourcesOf(req.to), {
      at: req.at,
      use: req.use,
      settle: req.settle,
      ...(ended ? { endReason: req.reason ?? req.to.toLowerCase() } : {}),
    });
    if (rows.length === 0) return rows;
    await this.deps.repos.vouchers.insertTransitions(
      manager,
      rows.map((v) => ({
        id: uuidv7(req.at.getTime()),
        voucher: v,
        fromState: v.fromState,
        toState: req.to,
        at: req.at,
        actorKind: req.actor.kind,
        actorId: req.actor.id,
        reason: req.reason,
        institutionId: v.usedInstitutionId ?? v.institutionId,
        classId: v.usedClassId ?? v.classId,
        enrollmentId: v.usedEnrollmentId,
        disbursementId: req.settle?.disbursementId ?? null,
      })),
    );
    await enqueue(
      manager,
      rows.map((v) => voucherEvents.stateChanged(v, req.actor, req.reason, req.at)),
    );
    return rows;
  }

  /** Records freshly inserted vouchers: the issue transition (→ HELD) and VoucherIssued, per voucher. */
  async recordIssued(
    manager: EntityManager,
    vouchers: VoucherRow[],
    actor: Actor,
    reason: string,
  ): Promise<void> {
    if (vouchers.length === 0) return;
    const records = vouchers.map((v) => Lifecycle.issueRecords(v, actor, reason));
    await this.deps.repos.vouchers.insertTransitions(
      manager,
      records.map((r) => r.transition),
    );
    await enqueue(
      manager,
      records.map((r) => r.event),
    );
  }

  /** What issuing a voucher records: its issue transition (→ HELD) and its VoucherIssued event. */
  static issueRecords(
    v: VoucherRow,
    actor: Actor,
    reason: string,
  ): { transition: NewTransition; event: EventRecord } {
    return {
      transition: {
        id: uuidv7(v.issuedAt.getTime()),
        voucher: v,
        fromState: null,
        toState: 'HELD',
        at: v.issuedAt,
        actorKind: actor.kind,
        actorId: actor.id,
        reason,
        institutionId: v.institutionId,
        classId: v.classId,
        enrollmentId: null,
        disbursementId: null,
      },
      event: voucherEvents.issued(v, actor),
    };
  }

  /** Why a voucher cannot be used now: the distinct error for its state and validity. */
  static unusable(v: VoucherRow, at: Date): DomainError {
    switch (v.state) {
      case 'USED':
        return new DomainError(VoucherError.VOUCHER_ALREADY_USED, 'This voucher has already been used');
      case 'SETTLED':
        return new DomainError(
          VoucherError.VOUCHER_SETTLED,
          'This voucher was used and settled; its code is dead',
        );
      case 'EXPIRED':
        return new DomainError(VoucherError.VOUCHER_EXPIRED, 'This voucher has expired');
      case 'INVALIDATED':
        return new DomainError(VoucherError.VOUCHER_INVALIDATED, 'This voucher has been invalidated');
      case 'HELD':
        if (v.validUntil.getTime() <= at.getTime())
          return new DomainError(VoucherError.VOUCHER_EXPIRED, 'This voucher has expired');
        if (v.validFrom.getTime() > at.getTime())
          return new DomainError(VoucherError.VOUCHER_NOT_YET_VALID, 'This voucher is not valid yet');
    }
    return new DomainError(ErrorCode.INVALID_STATE, 'This voucher cannot be used now');
  }

  /**
   * The expiry sweep (到期自动失效, Art. 16, 27, 29): one batch of held vouchers whose validity has
   * ended becomes EXPIRED. Replicas share the work (SKIP LOCKED). Returns how many it expired.
   */
  async expireDue(limit = 500): Promise<number> {
    const at = this.deps.now();
    const rows = await this.deps.ds.transaction((m) =>
      this.apply(
        m,
        { dueAt: at, limit },
        {
          to: 'EXPIRED',
          actor: SYSTEM,
          reason: 'validity ended unused (到期未使用)',
          at,
        },
      ),
    );
    return rows.length;
  }
}
