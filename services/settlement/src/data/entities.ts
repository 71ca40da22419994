import { Column, CreateDateColumn, Entity, PrimaryColumn, type ValueTransformer } from 'typeorm';
import { fenFromDb } from '../domain/money';

/** BIGINT fen columns: exact bigint in the service, never a float. */
export const fen: ValueTransformer = {
  to: (v: bigint | null | undefined) => (v === null || v === undefined ? v : v.toString()),
  from: (v: string | null) => fenFromDb(v),
};

export type SubsidyApplicationState =
  'DRAFT' | 'SUBMITTED' | 'FIRST_APPROVED' | 'APPROVED' | 'REJECTED' | 'PAID';

export type ReviewMode = 'SINGLE' | 'TWO_LEVEL';

@Entity('subsidy_applications')
export class SubsidyApplicationRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'institution_id' }) institutionId!: string;
  @Column('uuid', { name: 'class_id' }) classId!: string;
  @Column('char', { name: 'region_code', length: 6 }) regionCode!: string;
  @Column('text') state!: SubsidyApplicationState;
  @Column('bigint', { name: 'total_amount_fen', transformer: fen }) totalAmountFen!: bigint;
  @Column('integer', { name: 'line_count' }) lineCount!: number;
  @Column('timestamptz', { name: 'submitted_at', nullable: true }) submittedAt!: Date | null;
  @Column('uuid', { name: 'created_by', nullable: true }) createdBy!: string | null;
  @Column('text', { name: 'review_mode', nullable: true }) reviewMode!: ReviewMode | null;
  @Column('integer', { name: 'anomaly_count' }) anomalyCount!: number;
  @Column('timestamptz', { name: 'evaluated_at', nullable: true }) evaluatedAt!: Date | null;
  @Column('bigint', { name: 'standard_fen', nullable: true, transformer: fen }) standardFen!: bigint | null;
  @Column('uuid', { name: 'first_reviewed_by', nullable: true }) firstReviewedBy!: string | null;
  @Column('timestamptz', { name: 'first_reviewed_at', nullable: true }) firstReviewedAt!: Date | null;
  @Column('uuid', { name: 'final_reviewed_by', nullable: true }) finalReviewedBy!: string | null;
  @Column('timestamptz', { name: 'final_reviewed_at', nullable: true }) finalReviewedAt!: Date | null;
  @Column('uuid', { name: 'rejected_by', nullable: true }) rejectedBy!: string | null;
  @Column('timestamptz', { name: 'rejected_at', nullable: true }) rejectedAt!: Date | null;
  @Column('text', { name: 'rejection_reason', nullable: true }) rejectionReason!: string | null;
  @Column('bigint', { name: 'approved_amount_fen', nullable: true, transformer: fen })
  approvedAmountFen!: bigint | null;
  @Column('integer', { name: 'approved_line_count', nullable: true }) approvedLineCount!: number | null;
  @Column('char', { name: 'budget_region_code', length: 6, nullable: true }) budgetRegionCode!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

@Entity('disbursements')
export class DisbursementRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'application_id' }) applicationId!: string;
  @Column('bigint', { name: 'amount_fen', transformer: fen }) amountFen!: bigint;
  @Column('text', { name: 'payment_reference' }) paymentReference!: string;
  @Column('timestamptz', { name: 'paid_at' }) paidAt!: Date;
  @Column('char', { name: 'budget_region_code', length: 6, nullable: true }) budgetRegionCode!: string | null;
  @Column('integer', { name: 'voucher_count' }) voucherCount!: number;
  @Column('uuid', { name: 'disbursed_by', nullable: true }) disbursedBy!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
