import { SubsidyDisbursedSchema, on } from '@vtv/events';
import { isUuid } from '@vtv/kit';
import type { OutcomeService } from '../services/outcomes';

/** settlement's SubsidyDisbursed → the listed vouchers are settled (核销) and their codes die. */
export function onSubsidyDisbursed(outcomes: OutcomeService) {
  return on(SubsidyDisbursedSchema, async (e, { manager }) => {
    await outcomes.onDisbursed(manager, {
      disbursementId: e.disbursementId,
      applicationId: e.applicationId,
      voucherIds: [...new Set(e.voucherIds.filter(isUuid).map((id) => id.toLowerCase()))],
    });
  });
}
