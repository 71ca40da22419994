import { timestampDate } from '@bufbuild/protobuf/wkt';
import { CompletionRecordedSchema, EnrollmentCreatedSchema, on } from '@vtv/events';
import type { OutcomeService } from '../services/outcomes';
import type { RedemptionService } from '../services/redemption';

/** training's EnrollmentCreated → a matching held voucher is used automatically (报名自动用券). */
export function onEnrollmentCreated(redemption: RedemptionService) {
  return on(EnrollmentCreatedSchema, async (e, { manager, event }) => {
    await redemption.onEnrollment(manager, {
      enrollmentId: e.enrollmentId,
      classId: e.classId,
      institutionId: e.institutionId,
      personId: e.personId,
      regionCode: e.regionCode,
      trainingType: e.trainingType,
      occupation: e.occupation,
      online: e.online,
      enrolledAt: e.enrolledAt ? timestampDate(e.enrolledAt) : new Date(event.time),
    });
  });
}

/** training's CompletionRecorded with passed = false → the used voucher is invalidated (Art. 30). */
export function onCompletionRecorded(outcomes: OutcomeService) {
  return on(CompletionRecordedSchema, async (e, { manager }) => {
    if (e.passed) return;
    await outcomes.onCompletionFailed(manager, {
      personId: e.personId,
      classId: e.classId,
      enrollmentId: e.enrollmentId,
      reviewerId: e.reviewerId,
    });
  });
}
