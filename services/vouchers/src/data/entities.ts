import { Column, Entity, PrimaryColumn } from 'typeorm';

export type VoucherState = 'HELD' | 'USED' | 'SETTLED' | 'EXPIRED' | 'INVALIDATED';
export type VoucherKind = 'DIRECTED' | 'GENERAL';
export type FunctionMode = 'FACE_VALUE' | 'DEDUCTION';
export type BusinessMode = 'POPULAR' | 'UPGRADE';
export type UseChannel = 'QR' | 'CODE' | 'ONLINE' | 'ENROLLMENT';
export type ReviewMode = 'NONE' | 'SINGLE' | 'TWO_LEVEL';
export type IssuanceFlow = 'MANUAL' | 'AUTO';
export type ValidityEnd = 'CLASS_START_DATE' | 'CLASS_END_DATE';
export type BatchState =
  | 'DRAFT'
  | 'PENDING_REVIEW'
  | 'PENDING_FIRST_REVIEW'
  | 'PENDING_SECOND_REVIEW'
  | 'APPROVED'
  | 'ISSUED'
  | 'AWAITING_SUPPLEMENT'
  | 'INVALIDATED';
export type TemplateState = 'ACTIVE' | 'CLOSED';
export type TemplateValidity = 'FIXED_END' | 'DAYS_AFTER_CLAIM';
export type ActorKind = 'PERSON' | 'OPERATOR' | 'STAFF' | 'SYSTEM';

@Entity('vouchers')
export class VoucherRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'holder_person_id' }) holderPersonId!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('text') state!: VoucherState;
  @Column('text') kind!: VoucherKind;
  @Column('uuid', { name: 'batch_id', nullable: true }) batchId!: string | null;
  @Column('uuid', { name: 'template_id', nullable: true }) templateId!: string | null;
  /** Directed vouchers: the class they were issued for and its institution. */
  @Column('uuid', { name: 'class_id', nullable: true }) classId!: string | null;
  @Column('uuid', { name: 'institution_id', nullable: true }) institutionId!: string | null;
  @Column('text', { name: 'function_mode' }) functionMode!: FunctionMode;
  @Column('text', { name: 'business_mode', nullable: true }) businessMode!: BusinessMode | null;
  @Column('integer', { name: 'face_value_fen', nullable: true }) faceValueFen!: number | null;
  @Column('text', { name: 'training_type' }) trainingType!: string;
  @Column('text', { nullable: true }) occupation!: string | null;
  @Column('text', { name: 'certificate_level', nullable: true }) certificateLevel!: string | null;
  /** SHA-256 of the code; null once the code is dead (settled). */
  @Column('bytea', { name: 'code_digest', nullable: true, select: false }) codeDigest!: Buffer | null;
  @Column('text', { name: 'code_hint', nullable: true }) codeHint!: string | null;
  @Column('timestamptz', { name: 'issued_at' }) issuedAt!: Date;
  @Column('timestamptz', { name: 'valid_from' }) validFrom!: Date;
  /** Exclusive end of validity. */
  @Column('timestamptz', { name: 'valid_until' }) validUntil!: Date;
  @Column('timestamptz', { name: 'used_at', nullable: true }) usedAt!: Date | null;
  @Column('uuid', { name: 'used_institution_id', nullable: true }) usedInstitutionId!: string | null;
  @Column('uuid', { name: 'used_class_id', nullable: true }) usedClassId!: string | null;
  @Column('uuid', { name: 'used_enrollment_id', nullable: true }) usedEnrollmentId!: string | null;
  @Column('text', { name: 'used_by', nullable: true }) usedBy!: string | null;
  @Column('text', { name: 'used_channel', nullable: true }) usedChannel!: UseChannel | null;
  @Column('timestamptz', { name: 'settled_at', nullable: true }) settledAt!: Date | null;
  @Column('uuid', { name: 'disbursement_id', nullable: true }) disbursementId!: string | null;
  @Column('timestamptz', { name: 'ended_at', nullable: true }) endedAt!: Date | null;
  @Column('text', { name: 'end_reason', nullable: true }) endReason!: string | null;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

@Entity('voucher_transitions')
export class VoucherTransitionRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'voucher_id' }) voucherId!: string;
  @Column('text', { name: 'from_state', nullable: true }) fromState!: VoucherState | null;
  @Column('text', { name: 'to_state' }) toState!: VoucherState;
  @Column('timestamptz') at!: Date;
  @Column('text', { name: 'actor_kind' }) actorKind!: ActorKind;
  @Column('text', { name: 'actor_id' }) actorId!: string;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('uuid', { name: 'institution_id', nullable: true }) institutionId!: string | null;
  @Column('uuid', { name: 'class_id', nullable: true }) classId!: string | null;
  @Column('uuid', { name: 'enrollment_id', nullable: true }) enrollmentId!: string | null;
  @Column('uuid', { name: 'disbursement_id', nullable: true }) disbursementId!: string | null;
}

/** Vouchers' own projection of training's approved classes; awaiting issuance (待发券) while issued_at is null. */
@Entity('approved_classes')
export class ApprovedClassRow {
  @PrimaryColumn('uuid', { name: 'class_id' }) classId!: string;
  @Column('uuid', { name: 'institution_id' }) institutionId!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('text') name!: string;
  @Column('text') occupation!: string;
  @Column('text', { name: 'training_type' }) trainingType!: string;
  @Column('text', { nullable: true }) level!: string | null;
  @Column('integer') headcount!: number;
  @Column('uuid', { name: 'roster_person_ids', array: true }) rosterPersonIds!: string[];
  @Column('date', { name: 'start_date' }) startDate!: string;
  @Column('date', { name: 'end_date' }) endDate!: string;
  @Column('timestamptz', { name: 'approved_at' }) approvedAt!: Date;
  @Column('timestamptz', { name: 'issued_at', nullable: true }) issuedAt!: Date | null;
}

@Entity('issuance_rules')
export class IssuanceRuleRow {
  @PrimaryColumn('text', { name: 'region_code' }) regionCode!: string;
  @Column('text', { name: 'review_mode', nullable: true }) reviewMode!: ReviewMode | null;
  @Column('text', { nullable: true }) flow!: IssuanceFlow | null;
  @Column('text', { name: 'validity_end', nullable: true }) validityEnd!: ValidityEnd | null;
  @Column('text', { name: 'updated_by' }) updatedBy!: string;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

@Entity('face_value_rules')
export class FaceValueRuleRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('text', { name: 'training_type' }) trainingType!: string;
  @Column('text', { name: 'function_mode', nullable: true }) functionMode!: FunctionMode | null;
  @Column('text', { name: 'certificate_type', nullable: true }) certificateType!: string | null;
  @Column('text', { name: 'certificate_level', nullable: true }) certificateLevel!: string | null;
  @Column('integer', { name: 'subsidy_amount_fen', nullable: true }) subsidyAmountFen!: number | null;
  @Column('date', { name: 'valid_from', nullable: true }) validFrom!: string | null;
  @Column('date', { name: 'valid_to', nullable: true }) validTo!: string | null;
  @Column('boolean', { name: 'shortage_occupation', nullable: true }) shortageOccupation!: boolean | null;
  @Column('text', { nullable: true }) remark!: string | null;
  @Column('text', { name: 'eligible_population', nullable: true }) eligiblePopulation!: string | null;
  @Column('text', { name: 'updated_by' }) updatedBy!: string;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

@Entity('voucher_batches')
export class BatchRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'class_id' }) classId!: string;
  @Column('uuid', { name: 'institution_id' }) institutionId!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('text') name!: string;
  @Column('text') state!: BatchState;
  @Column('integer') quantity!: number;
  @Column('integer', { name: 'issued_count' }) issuedCount!: number;
  @Column('text', { name: 'function_mode' }) functionMode!: FunctionMode;
  @Column('text', { name: 'business_mode', nullable: true }) businessMode!: BusinessMode | null;
  @Column('integer', { name: 'face_value_fen', nullable: true }) faceValueFen!: number | null;
  @Column('text', { name: 'training_type' }) trainingType!: string;
  @Column('text') occupation!: string;
  @Column('text', { name: 'certificate_level', nullable: true }) certificateLevel!: string | null;
  @Column('text', { name: 'eligible_population', nullable: true }) eligiblePopulation!: string | null;
  @Column('text', { name: 'validity_end', nullable: true }) validityEnd!: ValidityEnd | null;
  @Column('timestamptz', { name: 'valid_until' }) validUntil!: Date;
  @Column('text', { name: 'review_mode' }) reviewMode!: ReviewMode;
  @Column('text') flow!: IssuanceFlow;
  @Column('text', { name: 'national_template_code', nullable: true }) nationalTemplateCode!: string | null;
  @Column('text', { name: 'national_template_name', nullable: true }) nationalTemplateName!: string | null;
  @Column('text', { name: 'first_reviewer_id', nullable: true }) firstReviewerId!: string | null;
  @Column('timestamptz', { name: 'first_reviewed_at', nullable: true }) firstReviewedAt!: Date | null;
  @Column('text', { name: 'second_reviewer_id', nullable: true }) secondReviewerId!: string | null;
  @Column('timestamptz', { name: 'second_reviewed_at', nullable: true }) secondReviewedAt!: Date | null;
  @Column('text', { name: 'rejection_reason', nullable: true }) rejectionReason!: string | null;
  @Column('text', { name: 'created_by' }) createdBy!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'issued_at', nullable: true }) issuedAt!: Date | null;
  @Column('timestamptz', { name: 'invalidated_at', nullable: true }) invalidatedAt!: Date | null;
  @Column('text', { name: 'invalidated_by', nullable: true }) invalidatedBy!: string | null;
  @Column('text', { name: 'invalidation_reason', nullable: true }) invalidationReason!: string | null;
}

@Entity('voucher_batch_transitions')
export class BatchTransitionRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'batch_id' }) batchId!: string;
  @Column('text', { name: 'from_state', nullable: true }) fromState!: BatchState | null;
  @Column('text', { name: 'to_state' }) toState!: BatchState;
  @Column('text', { name: 'actor_id' }) actorId!: string;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('timestamptz') at!: Date;
}

@Entity('voucher_templates')
export class TemplateRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('text') name!: string;
  @Column('text') state!: TemplateState;
  @Column('text', { name: 'function_mode' }) functionMode!: FunctionMode;
  @Column('text', { name: 'business_mode', nullable: true }) businessMode!: BusinessMode | null;
  @Column('integer', { name: 'face_value_fen', nullable: true }) faceValueFen!: number | null;
  @Column('text', { name: 'training_type' }) trainingType!: string;
  @Column('text', { nullable: true }) occupation!: string | null;
  @Column('integer') quantity!: number;
  @Column('integer') claimed!: number;
  @Column('timestamptz', { name: 'claim_starts_at' }) claimStartsAt!: Date;
  @Column('timestamptz', { name: 'claim_ends_at' }) claimEndsAt!: Date;
  @Column('text', { name: 'validity_type' }) validityType!: TemplateValidity;
  @Column('timestamptz', { name: 'valid_until', nullable: true }) validUntil!: Date | null;
  @Column('integer', { name: 'valid_days', nullable: true }) validDays!: number | null;
  @Column('text', { name: 'eligible_region_code' }) eligibleRegionCode!: string;
  @Column('integer', { name: 'min_age', nullable: true }) minAge!: number | null;
  @Column('integer', { name: 'max_age', nullable: true }) maxAge!: number | null;
  @Column('text', { name: 'target_groups', array: true }) targetGroups!: string[];
  @Column('boolean', { name: 'audience_only' }) audienceOnly!: boolean;
  @Column('text', { name: 'created_by' }) createdBy!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'closed_at', nullable: true }) closedAt!: Date | null;
  @Column('text', { name: 'close_reason', nullable: true }) closeReason!: string | null;
}

@Entity('quota_targets')
export class QuotaTargetRow {
  @PrimaryColumn('integer') year!: number;
  @PrimaryColumn('text', { name: 'region_code' }) regionCode!: string;
  @Column('integer', { name: 'issued_target' }) issuedTarget!: number;
  @Column('integer', { name: 'used_target' }) usedTarget!: number;
  @Column('text') source!: string;
  @Column('text', { name: 'updated_by' }) updatedBy!: string;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

/** Projection of identity's CardIssued: what eligibility needs, nothing more. */
@Entity('people')
export class PersonRow {
  @PrimaryColumn('uuid', { name: 'person_id' }) personId!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('integer', { name: 'birth_year', nullable: true }) birthYear!: number | null;
}

/** Projection of training's InstitutionActivationChanged (关联部端). */
@Entity('institutions')
export class InstitutionRow {
  @PrimaryColumn('uuid', { name: 'institution_id' }) institutionId!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('boolean') active!: boolean;
  @Column('timestamptz', { name: 'changed_at' }) changedAt!: Date;
}

/** Projection of training's OperatorMembershipChanged (经办人). */
@Entity('operators')
export class OperatorRow {
  @PrimaryColumn('uuid', { name: 'institution_id' }) institutionId!: string;
  @PrimaryColumn('uuid', { name: 'person_id' }) personId!: string;
  @Column('boolean') enabled!: boolean;
  @Column('boolean') main!: boolean;
  @Column('timestamptz', { name: 'changed_at' }) changedAt!: Date;
}

/** Projection of training's EnrollmentCreated. */
@Entity('enrollments')
export class EnrollmentRow {
  @PrimaryColumn('uuid', { name: 'enrollment_id' }) enrollmentId!: string;
  @Column('uuid', { name: 'class_id' }) classId!: string;
  @Column('uuid', { name: 'institution_id' }) institutionId!: string;
  @Column('uuid', { name: 'person_id' }) personId!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('text', { name: 'training_type' }) trainingType!: string;
  @Column('text') occupation!: string;
  @Column('boolean') online!: boolean;
  @Column('timestamptz', { name: 'enrolled_at' }) enrolledAt!: Date;
}

export const ENTITIES = [
  VoucherRow,
  VoucherTransitionRow,
  ApprovedClassRow,
  IssuanceRuleRow,
  FaceValueRuleRow,
  BatchRow,
  BatchTransitionRow,
  TemplateRow,
  QuotaTargetRow,
  PersonRow,
  InstitutionRow,
  OperatorRow,
  EnrollmentRow,
];
