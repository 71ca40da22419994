import { timestampDate } from '@bufbuild/protobuf/wkt';
import { CardIssuedSchema, on } from '@vtv/events';
import type { ProjectionService } from '../services/projections';

/** identity's CardIssued → the e-SSC region and birth year general-voucher eligibility needs. */
export function onCardIssued(projections: ProjectionService) {
  return on(CardIssuedSchema, async (e, { manager, event }) => {
    await projections.personCard(manager, {
      personId: e.personId,
      regionCode: e.regionCode,
      birthYear: e.birthYear > 0 ? e.birthYear : null,
      at: e.issuedAt ? timestampDate(e.issuedAt) : new Date(event.time),
    });
  });
}
