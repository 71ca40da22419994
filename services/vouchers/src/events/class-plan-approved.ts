import { ClassPlanApprovedSchema, on } from '@vtv/events';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { AwaitingClassRow } from '../data/entities';
import type { AwaitingClassRepository } from '../data/repositories';

/** training's ClassPlanApproved → the class appears in the awaiting-issuance list (待发券). */
export function onClassPlanApproved(awaiting: AwaitingClassRepository) {
  return on(ClassPlanApprovedSchema, async (e, { manager, event }) => {
    await awaiting.upsert(
      manager,
      Object.assign(new AwaitingClassRow(), {
        classId: e.classId,
        institutionId: e.institutionId,
        regionCode: e.regionCode,
        name: e.name,
        occupation: e.occupation,
        trainingType: e.trainingType,
        headcount: e.headcount,
        rosterPersonIds: e.rosterPersonIds,
        startDate: e.startDate,
        endDate: e.endDate,
        approvedAt: e.approvedAt ? timestampDate(e.approvedAt) : new Date(event.time),
        issuedAt: null,
      }),
    );
  });
}
