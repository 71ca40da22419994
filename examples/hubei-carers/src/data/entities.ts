import { Column, Entity, PrimaryColumn } from 'typeorm';

export type CareType = 'ELDERLY' | 'MATERNAL' | 'MEDICAL';

@Entity('programme_classes')
export class ProgrammeClassRow {
  @PrimaryColumn('uuid', { name: 'class_id' }) classId!: string;
  @Column('text', { name: 'care_type' }) careType!: CareType;
  @Column('integer', { name: 'top_up_fen' }) topUpFen!: number;
  @Column('text', { name: 'designated_by' }) designatedBy!: string;
  @Column('timestamptz', { name: 'designated_at' }) designatedAt!: Date;
}

@Entity('carers')
export class CarerRow {
  @PrimaryColumn('uuid', { name: 'person_id' }) personId!: string;
  @Column('text', { name: 'care_types', array: true }) careTypes!: CareType[];
  @Column('timestamptz', { name: 'certified_at', nullable: true }) certifiedAt!: Date | null;
  @Column('timestamptz', { name: 'registered_at' }) registeredAt!: Date;
}
