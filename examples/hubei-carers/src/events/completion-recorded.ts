import { CompletionRecordedSchema, on } from '@vtv/events';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { ProgrammeRepository } from '../data/repositories';

/** training's CompletionRecorded: passing a designated class certifies a registered carer. */
export function onCompletionRecorded(repo: ProgrammeRepository) {
  return on(CompletionRecordedSchema, async (e, { manager, event }) => {
    if (!e.passed || !(await repo.isDesignated(manager, e.classId))) return;
    await repo.certify(
      manager,
      e.personId,
      e.recordedAt ? timestampDate(e.recordedAt) : new Date(event.time),
    );
  });
}
