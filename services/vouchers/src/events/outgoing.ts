import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  FunctionMode as PbFunctionMode,
  TOPICS,
  VoucherActorKind,
  VoucherBatchState,
  VoucherBatchStateChangedSchema,
  VoucherBusinessMode,
  VoucherIssuedSchema,
  VoucherState as PbVoucherState,
  VoucherStateChangedSchema,
  VoucherTemplateAudienceAddedSchema,
  VoucherTemplateClosedSchema,
  VoucherTemplatePublishedSchema,
  buildEvent,
  type EventRecord,
} from '@vtv/events';
import type {
  ActorKind,
  BatchRow,
  BatchState,
  BusinessMode,
  FunctionMode,
  TemplateRow,
  VoucherRow,
  VoucherState,
} from '../data/entities';
import type { TransitionedVoucher } from '../data/repositories';
import type { Actor } from '../services/access';

export const SOURCE = '/vtv/vouchers';

const STATE: Record<VoucherState, PbVoucherState> = {
  HELD: PbVoucherState.HELD,
  USED: PbVoucherState.USED,
  SETTLED: PbVoucherState.SETTLED,
  EXPIRED: PbVoucherState.EXPIRED,
  INVALIDATED: PbVoucherState.INVALIDATED,
};
const FUNCTION: Record<FunctionMode, PbFunctionMode> = {
  FACE_VALUE: PbFunctionMode.FACE_VALUE,
  DEDUCTION: PbFunctionMode.DEDUCTION,
};
const BUSINESS: Record<BusinessMode, VoucherBusinessMode> = {
  POPULAR: VoucherBusinessMode.POPULAR,
  UPGRADE: VoucherBusinessMode.UPGRADE,
};
const ACTOR: Record<ActorKind, VoucherActorKind> = {
  PERSON: VoucherActorKind.PERSON,
  OPERATOR: VoucherActorKind.OPERATOR,
  STAFF: VoucherActorKind.STAFF,
  SYSTEM: VoucherActorKind.SYSTEM,
};
const BATCH: Record<BatchState, VoucherBatchState> = {
  DRAFT: VoucherBatchState.DRAFT,
  PENDING_REVIEW: VoucherBatchState.PENDING_REVIEW,
  PENDING_FIRST_REVIEW: VoucherBatchState.PENDING_FIRST_REVIEW,
  PENDING_SECOND_REVIEW: VoucherBatchState.PENDING_SECOND_REVIEW,
  APPROVED: VoucherBatchState.APPROVED,
  ISSUED: VoucherBatchState.ISSUED,
  AWAITING_SUPPLEMENT: VoucherBatchState.AWAITING_SUPPLEMENT,
  INVALIDATED: VoucherBatchState.INVALIDATED,
};

/**
 * The events vouchers publishes: lifecycle facts on vouchers.voucher.v1 (keyed by voucher id), batch
 * facts on vouchers.batch.v1, template facts on vouchers.template.v1. Opaque ids only — never a code,
 * name or ID number.
 */
export const voucherEvents = {
  issued(v: VoucherRow, actor: Actor): EventRecord {
    return buildEvent(
      {
        schema: VoucherIssuedSchema,
        topic: TOPICS.vouchersVoucher.name,
        subject: v.id,
        source: SOURCE,
        data: {
          voucherId: v.id,
          holderPersonId: v.holderPersonId,
          regionCode: v.regionCode,
          functionMode: FUNCTION[v.functionMode],
          faceValueFen: BigInt(v.faceValueFen ?? 0),
          trainingType: v.trainingType,
          occupation: v.occupation ?? '',
          classId: v.classId ?? '',
          batchId: v.batchId ?? '',
          templateId: v.templateId ?? '',
          claimed: v.kind === 'GENERAL',
          validUntil: timestampFromDate(v.validUntil),
          issuedAt: timestampFromDate(v.issuedAt),
          institutionId: v.institutionId ?? '',
          validFrom: timestampFromDate(v.validFrom),
          businessMode: v.businessMode ? BUSINESS[v.businessMode] : VoucherBusinessMode.UNSPECIFIED,
          actorId: actor.id,
        },
      },
      v.issuedAt,
    );
  },

  stateChanged(v: TransitionedVoucher, actor: Actor, reason: string | null, at: Date): EventRecord {
    return buildEvent(
      {
        schema: VoucherStateChangedSchema,
        topic: TOPICS.vouchersVoucher.name,
        subject: v.id,
        source: SOURCE,
        data: {
          voucherId: v.id,
          holderPersonId: v.holderPersonId,
          regionCode: v.regionCode,
          fromState: STATE[v.fromState],
          toState: STATE[v.state],
          institutionId: v.usedInstitutionId ?? v.institutionId ?? '',
          classId: v.usedClassId ?? v.classId ?? '',
          enrollmentId: v.usedEnrollmentId ?? '',
          actorId: actor.id,
          reason: reason ?? '',
          faceValueFen: BigInt(v.faceValueFen ?? 0),
          functionMode: FUNCTION[v.functionMode],
          trainingType: v.trainingType,
          changedAt: timestampFromDate(at),
          batchId: v.batchId ?? '',
          templateId: v.templateId ?? '',
          disbursementId: v.disbursementId ?? '',
          occupation: v.occupation ?? '',
          actorKind: ACTOR[actor.kind],
        },
      },
      at,
    );
  },

  batchStateChanged(
    b: BatchRow,
    from: BatchState | null,
    actor: Actor,
    reason: string | null,
    at: Date,
  ): EventRecord {
    return buildEvent(
      {
        schema: VoucherBatchStateChangedSchema,
        topic: TOPICS.vouchersBatch.name,
        subject: b.id,
        source: SOURCE,
        data: {
          batchId: b.id,
          classId: b.classId,
          institutionId: b.institutionId,
          regionCode: b.regionCode,
          fromState: from ? BATCH[from] : VoucherBatchState.UNSPECIFIED,
          toState: BATCH[b.state],
          actorId: actor.id,
          reason: reason ?? '',
          quantity: b.quantity,
          issuedCount: b.issuedCount,
          functionMode: FUNCTION[b.functionMode],
          faceValueFen: BigInt(b.faceValueFen ?? 0),
          trainingType: b.trainingType,
          changedAt: timestampFromDate(at),
        },
      },
      at,
    );
  },

  templatePublished(t: TemplateRow, actor: Actor): EventRecord {
    return buildEvent(
      {
        schema: VoucherTemplatePublishedSchema,
        topic: TOPICS.vouchersTemplate.name,
        subject: t.id,
        source: SOURCE,
        data: {
          templateId: t.id,
          regionCode: t.regionCode,
          name: t.name,
          functionMode: FUNCTION[t.functionMode],
          faceValueFen: BigInt(t.faceValueFen ?? 0),
          trainingType: t.trainingType,
          occupation: t.occupation ?? '',
          quantity: t.quantity,
          claimStartsAt: timestampFromDate(t.claimStartsAt),
          claimEndsAt: timestampFromDate(t.claimEndsAt),
          eligibleRegionCode: t.eligibleRegionCode,
          minAge: t.minAge ?? 0,
          maxAge: t.maxAge ?? 0,
          targetGroups: t.targetGroups,
          audienceOnly: t.audienceOnly,
          businessMode: t.businessMode ? BUSINESS[t.businessMode] : VoucherBusinessMode.UNSPECIFIED,
          actorId: actor.id,
          publishedAt: timestampFromDate(t.createdAt),
        },
      },
      t.createdAt,
    );
  },

  templateAudienceAdded(t: TemplateRow, personIds: string[], at: Date): EventRecord {
    return buildEvent(
      {
        schema: VoucherTemplateAudienceAddedSchema,
        topic: TOPICS.vouchersTemplate.name,
        subject: t.id,
        source: SOURCE,
        data: { templateId: t.id, regionCode: t.regionCode, personIds, addedAt: timestampFromDate(at) },
      },
      at,
    );
  },

  templateClosed(t: TemplateRow, actor: Actor, reason: string, at: Date): EventRecord {
    return buildEvent(
      {
        schema: VoucherTemplateClosedSchema,
        topic: TOPICS.vouchersTemplate.name,
        subject: t.id,
        source: SOURCE,
        data: {
          templateId: t.id,
          regionCode: t.regionCode,
          actorId: actor.id,
          reason,
          closedAt: timestampFromDate(at),
        },
      },
      at,
    );
  },
};
