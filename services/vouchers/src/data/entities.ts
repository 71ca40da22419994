import { Column, Entity, PrimaryColumn } from 'typeorm';

export type VoucherState = 'HELD' | 'USED' | 'SETTLED' | 'EXPIRED' | 'INVALIDATED';

@Entity('vouchers')
export class VoucherRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'holder_person_id' }) holderPersonId!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('text') state!: VoucherState;
  @Column('integer', { name: 'face_value_fen', nullable: true }) faceValueFen!: number | null;
  @Column('uuid', { name: 'class_id', nullable: true }) classId!: string | null;
  @Column('timestamptz', { name: 'issued_at' }) issuedAt!: Date;
}

/** Vouchers' own projection of training's approved classes (待发券). */
@Entity('classes_awaiting_issuance')
export class AwaitingClassRow {
  @PrimaryColumn('uuid', { name: 'class_id' }) classId!: string;
  @Column('uuid', { name: 'institution_id' }) institutionId!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('text') name!: string;
  @Column('text') occupation!: string;
  @Column('text', { name: 'training_type' }) trainingType!: string;
  @Column('integer') headcount!: number;
  @Column('uuid', { name: 'roster_person_ids', array: true }) rosterPersonIds!: string[];
  @Column('date', { name: 'start_date' }) startDate!: string;
  @Column('date', { name: 'end_date' }) endDate!: string;
  @Column('timestamptz', { name: 'approved_at' }) approvedAt!: Date;
  @Column('timestamptz', { name: 'issued_at', nullable: true }) issuedAt!: Date | null;
}
