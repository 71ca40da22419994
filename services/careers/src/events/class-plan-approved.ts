import { ClassPlanApprovedSchema, on } from '@vtv/events';
import type { Logger } from '@vtv/kit';
import type { ArchiveRepository } from '../data/archive-repository';
import { parseLevel } from '../services/levels';
import { occupationWithLevel } from '../services/summaries';
import { occurredAt, opt, personIdOf } from './helpers';

/** training's ClassPlanApproved → the class is remembered; each rostered person's archive notes it. */
export function onClassPlanApproved(archive: ArchiveRepository, logger: Logger) {
  return on(ClassPlanApprovedSchema, async (e, { manager, event }) => {
    const level = parseLevel(e.level);
    await archive.upsertClass(manager, {
      classId: e.classId,
      institutionId: e.institutionId,
      regionCode: e.regionCode,
      name: e.name,
      occupation: e.occupation,
      trainingType: e.trainingType,
      level,
      startDate: opt(e.startDate),
      endDate: opt(e.endDate),
    });
    const at = occurredAt(e.approvedAt, event);
    const people = e.rosterPersonIds.map(personIdOf);
    if (people.some((p) => p === null))
      logger.warn(
        { eventId: event.id, classId: e.classId },
        'roster holds ids that are not person ids; skipped',
      );
    const dates = e.startDate && e.endDate ? `，${e.startDate} 至 ${e.endDate}` : '';
    await archive.add(
      manager,
      people
        .filter((p): p is string => p !== null)
        .map((personId) => ({
          personId,
          type: 'TRAINING_PLANNED' as const,
          occurredAt: at,
          regionCode: e.regionCode,
          occupation: e.occupation,
          trainingType: e.trainingType,
          level,
          classId: e.classId,
          institutionId: e.institutionId,
          summary: `列入开班名单：${e.name}（${occupationWithLevel(e.occupation, level)}，${e.trainingType}${dates}）`,
          sourceEventId: event.id,
        })),
    );
  });
}
