import { Column, CreateDateColumn, Entity, PrimaryColumn, type ValueTransformer } from 'typeorm';

/** bigint fen columns come back from pg as strings; amounts stay far below 2^53, so a number is exact. */
export const fen: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | null) => {
    if (v === null) return null;
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new Error(`fen amount out of range: ${v}`);
    return n;
  },
};

export const CERTIFICATE_KINDS = ['TRAINING', 'VOCATIONAL_QUALIFICATION', 'SKILL_LEVEL'] as const;
export type CertificateKind = (typeof CERTIFICATE_KINDS)[number];
export const SKILL_LEVELS = ['LEVEL_5', 'LEVEL_4', 'LEVEL_3', 'LEVEL_2', 'LEVEL_1'] as const;
export type SkillLevel = (typeof SKILL_LEVELS)[number];
export type CertificateSource = 'GRAPH' | 'EVENT';

@Entity('certificates')
export class CertificateRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'holder_person_id' }) holderPersonId!: string;
  @Column('char', { name: 'region_code', length: 6 }) regionCode!: string;
  @Column('text') kind!: CertificateKind;
  @Column('text') occupation!: string;
  @Column('text', { nullable: true }) level!: SkillLevel | null;
  @Column('text') issuer!: string;
  @Column('text') number!: string;
  /** YYYY-MM-DD. */
  @Column('date', { name: 'issued_on' }) issuedOn!: string;
  /** GRAPH (importCertificate) or EVENT (CertificateImported). */
  @Column('text') source!: CertificateSource;
  /** Client or staff id of the importer. */
  @Column('text', { name: 'imported_by', nullable: true }) importedBy!: string | null;
  @Column('text', { name: 'import_event_id', nullable: true }) importEventId!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity('job_postings')
export class JobPostingRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('text') title!: string;
  @Column('text') employer!: string;
  @Column('text') occupation!: string;
  @Column('text', { name: 'required_certificate_kind', nullable: true })
  requiredCertificateKind!: CertificateKind | null;
  @Column('text', { name: 'required_level', nullable: true }) requiredLevel!: SkillLevel | null;
  @Column('char', { name: 'region_code', length: 6 }) regionCode!: string;
  @Column('bigint', { name: 'pay_min_fen', transformer: fen }) payMinFen!: number;
  @Column('bigint', { name: 'pay_max_fen', transformer: fen }) payMaxFen!: number;
  /** YYYY-MM-DD, last day open (China Standard Time). */
  @Column('date', { name: 'valid_until' }) validUntil!: string;
  /** The staff member who published it. */
  @Column('text', { name: 'published_by' }) publishedBy!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity('certificate_import_rejections')
export class CertificateImportRejectionRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'event_id' }) eventId!: string;
  @Column('text', { name: 'integrator_id', nullable: true }) integratorId!: string | null;
  @Column('text', { name: 'import_id', nullable: true }) importId!: string | null;
  @Column('text', { nullable: true }) issuer!: string | null;
  @Column('text', { nullable: true }) number!: string | null;
  @Column('text') code!: string;
  @Column('text') reason!: string;
  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' }) receivedAt!: Date;
}

@Entity('known_classes')
export class KnownClassRow {
  @PrimaryColumn('text', { name: 'class_id' }) classId!: string;
  @Column('text', { name: 'institution_id' }) institutionId!: string;
  @Column('char', { name: 'region_code', length: 6 }) regionCode!: string;
  @Column('text') name!: string;
  @Column('text') occupation!: string;
  @Column('text', { name: 'training_type' }) trainingType!: string;
  @Column('text', { nullable: true }) level!: string | null;
  @Column('text', { name: 'start_date', nullable: true }) startDate!: string | null;
  @Column('text', { name: 'end_date', nullable: true }) endDate!: string | null;
  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' }) updatedAt!: Date;
}

@Entity('known_enrollments')
export class KnownEnrollmentRow {
  @PrimaryColumn('text', { name: 'enrollment_id' }) enrollmentId!: string;
  @Column('uuid', { name: 'person_id' }) personId!: string;
  @Column('text', { name: 'class_id' }) classId!: string;
  @Column('text', { name: 'institution_id' }) institutionId!: string;
  @Column('char', { name: 'region_code', length: 6 }) regionCode!: string;
  @Column('text') occupation!: string;
  @Column('text', { name: 'training_type' }) trainingType!: string;
  @Column('boolean') online!: boolean;
  @Column('timestamptz', { name: 'enrolled_at' }) enrolledAt!: Date;
}

@Entity('completions')
export class CompletionRow {
  @PrimaryColumn('text', { name: 'enrollment_id' }) enrollmentId!: string;
  @Column('uuid', { name: 'person_id' }) personId!: string;
  @Column('text', { name: 'class_id' }) classId!: string;
  @Column('char', { name: 'region_code', length: 6 }) regionCode!: string;
  @Column('text') occupation!: string;
  @Column('text', { nullable: true }) level!: SkillLevel | null;
  @Column('boolean') passed!: boolean;
  @Column('timestamptz', { name: 'recorded_at' }) recordedAt!: Date;
}

export const ARCHIVE_ENTRY_TYPES = [
  'TRAINING_PLANNED',
  'ENROLLED',
  'ATTENDANCE',
  'COMPLETION_PASSED',
  'COMPLETION_FAILED',
  'VOUCHER_ISSUED',
  'VOUCHER_USED',
  'VOUCHER_SETTLED',
  'VOUCHER_EXPIRED',
  'VOUCHER_INVALIDATED',
  'CERTIFICATE',
] as const;
export type ArchiveEntryType = (typeof ARCHIVE_ENTRY_TYPES)[number];

/** One fact in a person's lifelong training e-archive. No names, ID numbers, phones or voucher codes. */
@Entity('archive_entries')
export class ArchiveEntryRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'person_id' }) personId!: string;
  @Column('text') type!: ArchiveEntryType;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt!: Date;
  @Column('char', { name: 'region_code', length: 6, nullable: true }) regionCode!: string | null;
  @Column('text', { nullable: true }) occupation!: string | null;
  @Column('text', { name: 'training_type', nullable: true }) trainingType!: string | null;
  @Column('text', { nullable: true }) level!: string | null;
  @Column('text', { name: 'class_id', nullable: true }) classId!: string | null;
  @Column('text', { name: 'institution_id', nullable: true }) institutionId!: string | null;
  @Column('text', { name: 'enrollment_id', nullable: true }) enrollmentId!: string | null;
  @Column('text', { name: 'voucher_id', nullable: true }) voucherId!: string | null;
  @Column('uuid', { name: 'certificate_id', nullable: true }) certificateId!: string | null;
  @Column('bigint', { name: 'face_value_fen', nullable: true, transformer: fen }) faceValueFen!:
    number | null;
  @Column('integer', { name: 'attendance_rate_bp', nullable: true }) attendanceRateBp!: number | null;
  @Column('boolean', { nullable: true }) passed!: boolean | null;
  @Column('text') summary!: string;
  @Column('text', { name: 'source_event_id' }) sourceEventId!: string;
  @CreateDateColumn({ name: 'recorded_at', type: 'timestamptz' }) recordedAt!: Date;
}

export const CONSENT_PURPOSES = ['JOB_RECOMMENDATION'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];
export const CONSENT_RECIPIENTS = ['CAREERS_JOB_SERVICE'] as const;
export type ConsentRecipient = (typeof CONSENT_RECIPIENTS)[number];
export const CONSENT_CHANNELS = ['IN_APP', 'SMS'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

@Entity('consents')
export class ConsentRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'person_id' }) personId!: string;
  @Column('text') purpose!: ConsentPurpose;
  @Column('text') recipient!: ConsentRecipient;
  @Column('text', { array: true }) channels!: ConsentChannel[];
  @Column('char', { name: 'region_code', length: 6, nullable: true }) regionCode!: string | null;
  @Column('timestamptz', { name: 'granted_at' }) grantedAt!: Date;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt!: Date;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt!: Date | null;
  @Column('text', { name: 'revoked_reason', nullable: true }) revokedReason!: 'REVOKED' | 'SUPERSEDED' | null;
}

export type ActorKind = 'person' | 'staff' | 'client' | 'service';

/** Append-only: who saw or used a person's data. */
@Entity('data_access_log')
export class DataAccessRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'person_id' }) personId!: string;
  @Column('text', { name: 'actor_kind' }) actorKind!: ActorKind;
  @Column('text', { name: 'actor_id' }) actorId!: string;
  @Column('char', { name: 'actor_region', length: 6, nullable: true }) actorRegion!: string | null;
  @Column('text') action!: string;
  @Column('text', { nullable: true }) purpose!: string | null;
  @Column('text') detail!: string;
  @Column('timestamptz', { name: 'occurred_at', default: () => 'now()' }) occurredAt!: Date;
}

export type RecommendationBasis = 'CERTIFICATE' | 'TRAINING';

@Entity('recommendations')
export class RecommendationRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'person_id' }) personId!: string;
  @Column('uuid', { name: 'job_posting_id' }) jobPostingId!: string;
  @Column('uuid', { name: 'consent_id' }) consentId!: string;
  @Column('text', { name: 'basis_kind' }) basisKind!: RecommendationBasis;
  @Column('text', { name: 'basis_id' }) basisId!: string;
  @Column('text', { name: 'basis_occupation' }) basisOccupation!: string;
  @Column('text', { name: 'basis_level', nullable: true }) basisLevel!: SkillLevel | null;
  @Column('text') explanation!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'withdrawn_at', nullable: true }) withdrawnAt!: Date | null;
}

@Entity('inbox_messages')
export class InboxMessageRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'person_id' }) personId!: string;
  @Column('text') kind!: 'JOB_RECOMMENDATION';
  @Column('text') title!: string;
  @Column('text') body!: string;
  @Column('uuid', { name: 'recommendation_id', nullable: true }) recommendationId!: string | null;
  @Column('uuid', { name: 'job_posting_id', nullable: true }) jobPostingId!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'read_at', nullable: true }) readAt!: Date | null;
}

export type SmsStatus = 'PENDING' | 'SENT' | 'FAILED' | 'CANCELLED';

@Entity('sms_messages')
export class SmsMessageRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'person_id' }) personId!: string;
  @Column('text') template!: 'JOB_RECOMMENDATION';
  @Column('jsonb') params!: Record<string, string | number>;
  @Column('uuid', { name: 'consent_id' }) consentId!: string;
  @Column('uuid', { name: 'recommendation_ids', array: true }) recommendationIds!: string[];
  @Column('text') status!: SmsStatus;
  @Column('integer') attempts!: number;
  @Column('timestamptz', { name: 'next_attempt_at' }) nextAttemptAt!: Date;
  @Column('text', { name: 'last_error', nullable: true }) lastError!: string | null;
  @Column('text', { name: 'provider_message_id', nullable: true }) providerMessageId!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'sent_at', nullable: true }) sentAt!: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt!: Date | null;
}

export const ENTITIES = [
  CertificateRow,
  JobPostingRow,
  CertificateImportRejectionRow,
  KnownClassRow,
  KnownEnrollmentRow,
  CompletionRow,
  ArchiveEntryRow,
  ConsentRow,
  DataAccessRow,
  RecommendationRow,
  InboxMessageRow,
  SmsMessageRow,
];
