import { timestampDate } from '@bufbuild/protobuf/wkt';
import { FunctionMode, VoucherIssuedSchema, on } from '@vtv/events';
import type { Logger } from '@vtv/kit';
import type { ArchiveRepository } from '../data/archive-repository';
import { chinaToday } from '../services/dates';
import { yuan } from '../services/summaries';
import { occurredAt, opt, personIdOf, regionOf } from './helpers';

/** vouchers' VoucherIssued (发券/领券) → a VOUCHER_ISSUED archive entry. Never the voucher code. */
export function onVoucherIssued(archive: ArchiveRepository, logger: Logger) {
  return on(VoucherIssuedSchema, async (e, { manager, event }) => {
    const personId = personIdOf(e.holderPersonId);
    if (!personId) {
      logger.warn({ eventId: event.id }, 'VoucherIssued without a person id; skipped');
      return;
    }
    const value =
      e.functionMode === FunctionMode.DEDUCTION ? '抵用券' : `面值 ${yuan(Number(e.faceValueFen))}`;
    const until = e.validUntil ? `，有效期至 ${chinaToday(timestampDate(e.validUntil))}` : '';
    const what = [opt(e.occupation), opt(e.trainingType)].filter(Boolean).join('，') || '职业培训';
    await archive.add(manager, [
      {
        personId,
        type: 'VOUCHER_ISSUED',
        occurredAt: occurredAt(e.issuedAt, event),
        regionCode: regionOf(e.regionCode),
        occupation: opt(e.occupation),
        trainingType: opt(e.trainingType),
        classId: opt(e.classId),
        voucherId: e.voucherId,
        faceValueFen: Number(e.faceValueFen),
        summary: `${e.claimed ? '领取' : '获发'}职业培训券：${what}（${value}${until}）`,
        sourceEventId: event.id,
      },
    ]);
  });
}
