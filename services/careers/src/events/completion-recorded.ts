import { CompletionRecordedSchema, on } from '@vtv/events';
import type { Logger } from '@vtv/kit';
import type { ArchiveRepository } from '../data/archive-repository';
import { CompletionRow } from '../data/entities';
import { parseLevel } from '../services/levels';
import type { RecommendationService } from '../services/recommendations';
import { occupationWithLevel, percent } from '../services/summaries';
import { occurredAt, personIdOf, regionOf } from './helpers';

/**
 * training's CompletionRecorded (结业审核) → a completion result (a qualification when passed), an
 * archive entry, and a recommendation refresh for a pass.
 */
export function onCompletionRecorded(
  archive: ArchiveRepository,
  recommendations: RecommendationService,
  logger: Logger,
) {
  return on(CompletionRecordedSchema, async (e, { manager, event }) => {
    const personId = personIdOf(e.personId);
    const regionCode = regionOf(e.regionCode);
    if (!personId || !regionCode) {
      logger.warn({ eventId: event.id }, 'CompletionRecorded without a person id or region; skipped');
      return;
    }
    const cls = await archive.knownClass(manager, e.classId);
    const level = parseLevel(e.level) ?? (cls?.level ? parseLevel(cls.level) : null);
    const occupation = e.occupation || cls?.occupation || '';
    const at = occurredAt(e.recordedAt, event);
    if (occupation) {
      await archive.upsertCompletion(
        manager,
        Object.assign(new CompletionRow(), {
          enrollmentId: e.enrollmentId,
          personId,
          classId: e.classId,
          regionCode,
          occupation,
          level,
          passed: e.passed,
          recordedAt: at,
        }),
      );
    }
    const what = `${cls?.name ?? '培训'}（${occupationWithLevel(occupation || '未注明工种', level)}）`;
    await archive.add(manager, [
      {
        personId,
        type: e.passed ? 'COMPLETION_PASSED' : 'COMPLETION_FAILED',
        occurredAt: at,
        regionCode,
        occupation: occupation || null,
        trainingType: cls?.trainingType ?? null,
        level,
        classId: e.classId,
        institutionId: e.institutionId,
        enrollmentId: e.enrollmentId,
        attendanceRateBp: e.attendanceRateBp,
        passed: e.passed,
        summary: `${e.passed ? '结业审核通过' : '结业审核未通过'}：${what}，出勤率 ${percent(e.attendanceRateBp)}`,
        sourceEventId: event.id,
      },
    ]);
    if (e.passed && occupation) await recommendations.refreshPerson(manager, personId);
  });
}
