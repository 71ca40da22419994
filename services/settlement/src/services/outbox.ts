import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  ApplicationState,
  SubsidyApplicationStateChangedSchema,
  SubsidyDisbursedSchema,
  TOPICS,
  buildEvent,
  enqueue,
} from '@vtv/events';
import type { EntityManager } from '@vtv/kit';
import type { DisbursementRow, SubsidyApplicationRow, SubsidyApplicationState } from '../data/entities';

const SOURCE = '/vtv/settlement';

const STATE: Record<SubsidyApplicationState, ApplicationState> = {
  DRAFT: ApplicationState.DRAFT,
  SUBMITTED: ApplicationState.SUBMITTED,
  FIRST_APPROVED: ApplicationState.FIRST_APPROVED,
  APPROVED: ApplicationState.APPROVED,
  REJECTED: ApplicationState.REJECTED,
  PAID: ApplicationState.PAID,
};

/** Writes SubsidyApplicationStateChanged to the outbox, in the transition's transaction. */
export async function publishTransition(
  m: EntityManager,
  app: SubsidyApplicationRow,
  from: SubsidyApplicationState,
  to: SubsidyApplicationState,
  actorId: string,
  reason = '',
): Promise<void> {
  await enqueue(m, [
    buildEvent({
      schema: SubsidyApplicationStateChangedSchema,
      topic: TOPICS.settlementApplication.name,
      subject: app.id,
      source: SOURCE,
      data: {
        applicationId: app.id,
        institutionId: app.institutionId,
        classId: app.classId,
        regionCode: app.regionCode,
        fromState: STATE[from],
        toState: STATE[to],
        actorId,
        reason,
        lineCount: app.lineCount,
        claimedAmountFen: app.totalAmountFen,
        approvedAmountFen: app.approvedAmountFen ?? 0n,
        approvedLineCount: app.approvedLineCount ?? 0,
        changedAt: timestampFromDate(new Date()),
      },
    }),
  ]);
}

/** Writes SubsidyDisbursed (the vouchers to settle) to the outbox, in the payment's transaction. */
export async function publishDisbursed(
  m: EntityManager,
  app: SubsidyApplicationRow,
  d: DisbursementRow,
  voucherIds: string[],
): Promise<void> {
  await enqueue(m, [
    buildEvent({
      schema: SubsidyDisbursedSchema,
      topic: TOPICS.settlementDisbursement.name,
      subject: app.id,
      source: SOURCE,
      data: {
        disbursementId: d.id,
        applicationId: app.id,
        institutionId: app.institutionId,
        classId: app.classId,
        regionCode: app.regionCode,
        amountFen: d.amountFen,
        voucherIds,
        paidAt: timestampFromDate(d.paidAt),
        paymentReference: d.paymentReference,
        budgetRegionCode: d.budgetRegionCode ?? '',
        disbursedBy: d.disbursedBy ?? '',
      },
    }),
  ]);
}
