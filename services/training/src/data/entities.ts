import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('institutions')
export class InstitutionRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('text') name!: string;
  @Column('text', { name: 'credit_code' }) creditCode!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('text') address!: string;
  @Column('double precision') latitude!: number;
  @Column('double precision') longitude!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

export type ClassPlanState = 'SUBMITTED' | 'APPROVED' | 'REJECTED';

@Entity('classes')
export class ClassRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'institution_id' }) institutionId!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @Column('text') name!: string;
  @Column('text') occupation!: string;
  @Column('text', { name: 'training_type' }) trainingType!: string;
  @Column('text', { nullable: true }) level!: string | null;
  @Column('integer') headcount!: number;
  @Column('date', { name: 'start_date' }) startDate!: string;
  @Column('date', { name: 'end_date' }) endDate!: string;
  @Column('text') state!: ClassPlanState;
  @Column('uuid', { name: 'roster_person_ids', array: true }) rosterPersonIds!: string[];
  @Column('timestamptz', { name: 'approved_at', nullable: true }) approvedAt!: Date | null;
  @Column('text', { name: 'approved_by', nullable: true }) approvedBy!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
