import { VoucherState, VoucherStateChangedSchema, on } from '@vtv/events';
import type { Logger } from '@vtv/kit';
import type { ArchiveRepository } from '../data/archive-repository';
import type { ArchiveEntryType } from '../data/entities';
import { yuan } from '../services/summaries';
import { occurredAt, opt, personIdOf, regionOf } from './helpers';

const ENTRY: Partial<Record<VoucherState, { type: ArchiveEntryType; text: string }>> = {
  [VoucherState.USED]: { type: 'VOUCHER_USED', text: '使用职业培训券' },
  [VoucherState.SETTLED]: { type: 'VOUCHER_SETTLED', text: '职业培训券已结算核销' },
  [VoucherState.EXPIRED]: { type: 'VOUCHER_EXPIRED', text: '职业培训券已过期' },
  [VoucherState.INVALIDATED]: { type: 'VOUCHER_INVALIDATED', text: '职业培训券已作废' },
};

/**
 * vouchers' VoucherStateChanged → an archive entry for used, settled, expired and invalidated. The
 * free-text reason is not copied (it is staff prose, not the person's record).
 */
export function onVoucherStateChanged(archive: ArchiveRepository, logger: Logger) {
  return on(VoucherStateChangedSchema, async (e, { manager, event }) => {
    const entry = ENTRY[e.toState];
    if (!entry) return;
    const personId = personIdOf(e.holderPersonId);
    if (!personId) {
      logger.warn({ eventId: event.id }, 'VoucherStateChanged without a person id; skipped');
      return;
    }
    const classId = opt(e.classId);
    const cls = classId ? await archive.knownClass(manager, classId) : null;
    const where = entry.type === 'VOUCHER_USED' && cls ? `：${cls.name}` : '';
    const value = Number(e.faceValueFen) > 0 ? `（面值 ${yuan(Number(e.faceValueFen))}）` : '';
    await archive.add(manager, [
      {
        personId,
        type: entry.type,
        occurredAt: occurredAt(e.changedAt, event),
        regionCode: regionOf(e.regionCode),
        occupation: cls?.occupation ?? null,
        trainingType: opt(e.trainingType),
        classId,
        institutionId: opt(e.institutionId),
        enrollmentId: opt(e.enrollmentId),
        voucherId: e.voucherId,
        faceValueFen: Number(e.faceValueFen),
        summary: `${entry.text}${where}${value}`,
        sourceEventId: event.id,
      },
    ]);
  });
}
