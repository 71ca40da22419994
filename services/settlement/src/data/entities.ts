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

export type SubsidyApplicationState =
  'DRAFT' | 'SUBMITTED' | 'FIRST_APPROVED' | 'APPROVED' | 'REJECTED' | 'PAID';

@Entity('subsidy_applications')
export class SubsidyApplicationRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'institution_id' }) institutionId!: string;
  @Column('uuid', { name: 'class_id' }) classId!: string;
  @Column('char', { name: 'region_code', length: 6 }) regionCode!: string;
  @Column('text') state!: SubsidyApplicationState;
  @Column('bigint', { name: 'total_amount_fen', transformer: fen }) totalAmountFen!: number;
  @Column('integer', { name: 'line_count' }) lineCount!: number;
  @Column('timestamptz', { name: 'submitted_at', nullable: true }) submittedAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity('disbursements')
export class DisbursementRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'application_id' }) applicationId!: string;
  @Column('bigint', { name: 'amount_fen', transformer: fen }) amountFen!: number;
  @Column('text', { name: 'payment_reference' }) paymentReference!: string;
  @Column('timestamptz', { name: 'paid_at' }) paidAt!: Date;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
