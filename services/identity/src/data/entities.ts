import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('regions')
export class RegionRow {
  @PrimaryColumn('text') code!: string;
  @Column('text') name!: string;
  @Column('text') level!: 'PROVINCE' | 'CITY' | 'COUNTY';
  @Column('text', { name: 'parent_code', nullable: true }) parentCode!: string | null;
}

@Entity('people')
export class PersonRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @CreateDateColumn({ name: 'card_issued_at', type: 'timestamptz' }) cardIssuedAt!: Date;
}
