import { EnrollmentCreatedSchema, on } from '@vtv/events';
import type { Logger } from '@vtv/kit';
import type { ArchiveRepository } from '../data/archive-repository';
import { KnownEnrollmentRow } from '../data/entities';
import { occurredAt, personIdOf, regionOf } from './helpers';

/** training's EnrollmentCreated (报名) → an ENROLLED archive entry. */
export function onEnrollmentCreated(archive: ArchiveRepository, logger: Logger) {
  return on(EnrollmentCreatedSchema, async (e, { manager, event }) => {
    const personId = personIdOf(e.personId);
    const regionCode = regionOf(e.regionCode);
    if (!personId || !regionCode) {
      logger.warn({ eventId: event.id }, 'EnrollmentCreated without a person id or region; skipped');
      return;
    }
    const at = occurredAt(e.enrolledAt, event);
    await archive.addEnrollment(
      manager,
      Object.assign(new KnownEnrollmentRow(), {
        enrollmentId: e.enrollmentId,
        personId,
        classId: e.classId,
        institutionId: e.institutionId,
        regionCode,
        occupation: e.occupation,
        trainingType: e.trainingType,
        online: e.online,
        enrolledAt: at,
      }),
    );
    const cls = await archive.knownClass(manager, e.classId);
    await archive.add(manager, [
      {
        personId,
        type: 'ENROLLED',
        occurredAt: at,
        regionCode,
        occupation: e.occupation,
        trainingType: e.trainingType,
        level: cls?.level ?? null,
        classId: e.classId,
        institutionId: e.institutionId,
        enrollmentId: e.enrollmentId,
        summary: `报名培训：${cls?.name ?? e.occupation}（${e.trainingType}，${e.online ? '线上' : '线下'}）`,
        sourceEventId: event.id,
      },
    ]);
  });
}
