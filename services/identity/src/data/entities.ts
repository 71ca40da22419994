import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('regions')
export class RegionRow {
  @PrimaryColumn('text') code!: string;
  @Column('text') name!: string;
  @Column('text') level!: 'PROVINCE' | 'CITY' | 'COUNTY';
  @Column('text', { name: 'parent_code', nullable: true }) parentCode!: string | null;
}

/** A person; the personal data columns are AES-256-GCM envelopes (see security/pii-crypto.ts). */
@Entity('people')
export class PersonRow {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'region_code' }) regionCode!: string;
  @CreateDateColumn({ name: 'card_issued_at', type: 'timestamptz' }) cardIssuedAt!: Date;
  @Column('bytea', { name: 'id_number_enc' }) idNumberEnc!: Buffer;
  @Column('bytea', { name: 'name_enc' }) nameEnc!: Buffer;
  @Column('bytea', { name: 'phone_enc' }) phoneEnc!: Buffer;
  @Column('text', { name: 'pii_key_id' }) piiKeyId!: string;
  @Column('bytea', { name: 'id_blind_index' }) idBlindIndex!: Buffer;
  @Column('smallint', { name: 'birth_year' }) birthYear!: number;
}

export type CardStatus = 'ACTIVE' | 'SUSPENDED';
export type CardChannel = 'SELF_SERVICE' | 'STAFF' | 'CLIENT';

export interface CardRow {
  id: string;
  personId: string;
  regionCode: string;
  status: CardStatus;
  channel: CardChannel;
  issuedBy: string | null;
  issuedAt: Date;
}

export interface PinCredentialRow {
  personId: string;
  hash: Buffer;
  salt: Buffer;
  params: string;
  failedAttempts: number;
  lockedUntil: Date | null;
}

export type ProofPurposeName = 'CLAIM_VOUCHER' | 'USE_VOUCHER';

export interface FaceChallengeRow {
  nonce: string;
  personId: string;
  purpose: ProofPurposeName;
  subject: string | null;
  expiresAt: Date;
  usedAt: Date | null;
}

export interface DepartmentRow {
  id: string;
  regionCode: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface RoleRow {
  id: string;
  /** Null for a built-in system role. */
  regionCode: string | null;
  name: string;
  description: string;
  permissions: string[];
  system: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface StaffUserRow {
  id: string;
  regionCode: string;
  departmentId: string | null;
  nameEnc: Buffer;
  idNumberEnc: Buffer;
  phoneEnc: Buffer | null;
  piiKeyId: string;
  idBlindIndex: Buffer;
  enabled: boolean;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ClientRow {
  id: string;
  name: string;
  regionCode: string;
  permissions: string[];
  secretHash: Buffer;
  enabled: boolean;
  createdBy: string | null;
  createdAt: Date;
  secretRotatedAt: Date;
}

export type SignInChallengeStatus = 'PENDING' | 'CONFIRMED' | 'EXCHANGED';

export interface SignInChallengeRow {
  id: string;
  secretHash: Buffer;
  status: SignInChallengeStatus;
  staffUserId: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface AuditRow {
  id: string;
  occurredAt: Date;
  action: string;
  actorKind: string;
  actorId: string | null;
  actorRegion: string | null;
  targetType: string;
  targetId: string | null;
  regionCode: string | null;
  details: Record<string, unknown>;
  requestId: string | null;
}
