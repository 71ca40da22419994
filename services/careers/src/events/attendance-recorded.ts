import { AttendanceRecordedSchema, CheckInMethod, on } from '@vtv/events';
import type { Logger } from '@vtv/kit';
import type { ArchiveRepository } from '../data/archive-repository';
import { percent } from '../services/summaries';
import { occurredAt, personIdOf } from './helpers';

const METHOD: Record<number, string> = {
  [CheckInMethod.LOCATION]: '位置签到',
  [CheckInMethod.CLASS_QR]: '扫码签到',
  [CheckInMethod.OPERATOR_SCAN]: '机构扫码签到',
};

/** training's AttendanceRecorded (打卡签到) → an ATTENDANCE archive entry. Only the outcome is kept. */
export function onAttendanceRecorded(archive: ArchiveRepository, logger: Logger) {
  return on(AttendanceRecordedSchema, async (e, { manager, event }) => {
    const personId = personIdOf(e.personId);
    if (!personId) {
      logger.warn({ eventId: event.id }, 'AttendanceRecorded without a person id; skipped');
      return;
    }
    const enrollment = await archive.knownEnrollment(manager, e.enrollmentId);
    const cls = await archive.knownClass(manager, e.classId);
    const how = METHOD[e.method] ?? '签到';
    await archive.add(manager, [
      {
        personId,
        type: 'ATTENDANCE',
        occurredAt: occurredAt(e.checkedInAt, event),
        regionCode: enrollment?.regionCode ?? cls?.regionCode ?? null,
        occupation: enrollment?.occupation ?? cls?.occupation ?? null,
        trainingType: enrollment?.trainingType ?? cls?.trainingType ?? null,
        classId: e.classId,
        institutionId: enrollment?.institutionId ?? cls?.institutionId ?? null,
        enrollmentId: e.enrollmentId,
        attendanceRateBp: e.attendanceRateBp,
        summary: `培训签到：${cls?.name ?? enrollment?.occupation ?? '培训课程'}（${how}），累计出勤率 ${percent(e.attendanceRateBp)}`,
        sourceEventId: event.id,
      },
    ]);
  });
}
