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
