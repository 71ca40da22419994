import { timestampDate } from '@bufbuild/protobuf/wkt';
import { ClassPlanApprovedSchema, RosterChangedSchema, on } from '@vtv/events';
import type { BatchService } from '../services/batches';

/** training's ClassPlanApproved → the awaiting-issuance list (待发券), and the AUTO flow when the rule says so. */
export function onClassPlanApproved(batches: BatchService) {
  return on(ClassPlanApprovedSchema, async (e, { manager, event }) => {
    await batches.onClassApproved(manager, {
      classId: e.classId,
      institutionId: e.institutionId,
      regionCode: e.regionCode,
      name: e.name,
      occupation: e.occupation,
      trainingType: e.trainingType,
      level: e.level || null,
      headcount: e.headcount,
      rosterPersonIds: [...new Set(e.rosterPersonIds)],
      startDate: e.startDate,
      endDate: e.endDate,
      approvedAt: e.approvedAt ? timestampDate(e.approvedAt) : new Date(event.time),
    });
  });
}

/** training's RosterChanged → supplementary issuance (追加发券) after issuance; removed people's vouchers end. */
export function onRosterChanged(batches: BatchService) {
  return on(RosterChangedSchema, async (e, { manager, event }) => {
    await batches.onRosterChanged(manager, {
      classId: e.classId,
      added: [...new Set(e.addedPersonIds)],
      removed: [...new Set(e.removedPersonIds)],
      at: e.changedAt ? timestampDate(e.changedAt) : new Date(event.time),
      by: event.source,
    });
  });
}
