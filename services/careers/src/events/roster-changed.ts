import { RosterChangedSchema, on } from '@vtv/events';
import type { Logger } from '@vtv/kit';
import type { ArchiveRepository } from '../data/archive-repository';
import { occupationWithLevel } from '../services/summaries';
import type { SkillLevel } from '../data/entities';
import { occurredAt, personIdOf, regionOf } from './helpers';

/**
 * training's RosterChanged → people added to an approved class's roster get a TRAINING_PLANNED entry
 * (追加列入开班名单). Removals leave the archive as it was: it records what happened.
 */
export function onRosterChanged(archive: ArchiveRepository, logger: Logger) {
  return on(RosterChangedSchema, async (e, { manager, event }) => {
    const added = e.addedPersonIds.map(personIdOf).filter((p): p is string => p !== null);
    if (added.length < e.addedPersonIds.length)
      logger.warn(
        { eventId: event.id, classId: e.classId },
        'roster holds ids that are not person ids; skipped',
      );
    if (added.length === 0) return;
    const cls = await archive.knownClass(manager, e.classId);
    const what = cls
      ? `${cls.name}（${occupationWithLevel(cls.occupation, cls.level as SkillLevel | null)}，${cls.trainingType}）`
      : '培训班';
    await archive.add(
      manager,
      added.map((personId) => ({
        personId,
        type: 'TRAINING_PLANNED' as const,
        occurredAt: occurredAt(e.changedAt, event),
        regionCode: regionOf(e.regionCode) ?? cls?.regionCode ?? null,
        occupation: cls?.occupation ?? null,
        trainingType: cls?.trainingType ?? null,
        level: cls?.level ?? null,
        classId: e.classId,
        institutionId: e.institutionId || null,
        summary: `追加列入开班名单：${what}`,
        sourceEventId: event.id,
      })),
    );
  });
}
