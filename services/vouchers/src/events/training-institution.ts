import { timestampDate } from '@bufbuild/protobuf/wkt';
import { InstitutionActivationChangedSchema, OperatorMembershipChangedSchema, on } from '@vtv/events';
import type { ProjectionService } from '../services/projections';

/** training's InstitutionActivationChanged (关联部端): only active institutions may take vouchers. */
export function onInstitutionActivationChanged(projections: ProjectionService) {
  return on(InstitutionActivationChangedSchema, async (e, { manager, event }) => {
    await projections.institutionActivation(manager, {
      institutionId: e.institutionId,
      regionCode: e.regionCode,
      active: e.active,
      changedAt: e.changedAt ? timestampDate(e.changedAt) : new Date(event.time),
    });
  });
}

/** training's OperatorMembershipChanged: only enabled operators (经办人) may scan. */
export function onOperatorMembershipChanged(projections: ProjectionService) {
  return on(OperatorMembershipChangedSchema, async (e, { manager, event }) => {
    await projections.operatorMembership(manager, {
      institutionId: e.institutionId,
      personId: e.operatorPersonId,
      enabled: e.enabled,
      main: e.main,
      changedAt: e.changedAt ? timestampDate(e.changedAt) : new Date(event.time),
    });
  });
}
