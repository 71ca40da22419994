import { DomainError, ErrorCode, uuidv7 } from '@vtv/kit';
import { QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import {
  CertificateImportRejectionRow,
  CertificateRow,
  JobPostingRow,
  type CertificateKind,
  type CertificateSource,
  type SkillLevel,
} from './entities';

export * from './archive-repository';
export * from './consent-repository';
export * from './access-log-repository';
export * from './recommendation-repository';
export * from './notification-repository';

export interface NewCertificate {
  id?: string;
  holderPersonId: string;
  regionCode: string;
  kind: CertificateKind;
  occupation: string;
  level?: SkillLevel | null;
  issuer: string;
  number: string;
  /** YYYY-MM-DD. */
  issuedOn: string;
  source?: CertificateSource;
  importedBy?: string | null;
  importEventId?: string | null;
}

export interface CertificateSearch {
  /** Region subtree code prefix the certificates must lie in. */
  regionPrefix: string;
  holderPersonId: string | null;
  occupation: string | null;
  kind: CertificateKind | null;
  level: SkillLevel | null;
  issuer: string | null;
  number: string | null;
  afterId: string | null;
  limit: number;
}

export type InsertOutcome =
  { inserted: true; certificate: CertificateRow } | { inserted: false; existing: CertificateRow };

export interface NewJobPosting {
  title: string;
  employer: string;
  occupation: string;
  requiredCertificateKind: CertificateKind | null;
  requiredLevel: SkillLevel | null;
  regionCode: string;
  payMinFen: number;
  payMaxFen: number;
  validUntil: string;
  publishedBy: string;
}

export interface JobPostingSearch {
  /** YYYY-MM-DD: postings whose last day is before this are closed. */
  openOn: string;
  /** Region subtree code prefix (see regionPrefix), or null for everywhere. */
  regionPrefix: string | null;
  occupation: string | null;
  /** Only postings whose pay range reaches this much (fen). */
  minPayFen: number | null;
  afterId: string | null;
  limit: number;
}

function uniqueViolation(err: unknown, constraint: string): boolean {
  if (!(err instanceof QueryFailedError)) return false;
  const driverError = err.driverError as { code?: string; constraint?: string };
  return driverError.code === '23505' && driverError.constraint === constraint;
}

export class CertificateRepository {
  constructor(private readonly ds: DataSource) {}

  byId(id: string, m: EntityManager = this.ds.manager): Promise<CertificateRow | null> {
    return m.getRepository(CertificateRow).findOneBy({ id });
  }

  /** A person's certificates in id order, optionally only those inside a region subtree (code prefix). */
  byHolder(
    holderPersonId: string,
    regionPrefix: string | null,
    m: EntityManager = this.ds.manager,
  ): Promise<CertificateRow[]> {
    const qb = m
      .getRepository(CertificateRow)
      .createQueryBuilder('c')
      .where('c.holder_person_id = :holderPersonId', { holderPersonId });
    if (regionPrefix !== null) qb.andWhere("c.region_code LIKE :prefix || '%'", { prefix: regionPrefix });
    return qb.orderBy('c.id', 'ASC').getMany();
  }

  /** One keyset page (limit + 1 rows) of certificates inside a region subtree, in id order. */
  search(s: CertificateSearch): Promise<CertificateRow[]> {
    const qb = this.ds
      .getRepository(CertificateRow)
      .createQueryBuilder('c')
      .where("c.region_code LIKE :prefix || '%'", { prefix: s.regionPrefix });
    if (s.holderPersonId !== null) qb.andWhere('c.holder_person_id = :holder', { holder: s.holderPersonId });
    if (s.occupation !== null)
      qb.andWhere('strpos(lower(c.occupation), lower(:occupation)) > 0', { occupation: s.occupation });
    if (s.kind !== null) qb.andWhere('c.kind = :kind', { kind: s.kind });
    if (s.level !== null) qb.andWhere('c.level = :level', { level: s.level });
    if (s.issuer !== null) qb.andWhere('c.issuer = :issuer', { issuer: s.issuer });
    if (s.number !== null) qb.andWhere('c.number = :number', { number: s.number });
    if (s.afterId !== null) qb.andWhere('c.id > :afterId', { afterId: s.afterId });
    return qb
      .orderBy('c.id', 'ASC')
      .limit(s.limit + 1)
      .getMany();
  }

  /**
   * Records a certificate unless the issuer already recorded one with this number; then returns the
   * existing one instead (the caller decides whether that is a conflict or a harmless repeat). Safe
   * inside a transaction: the duplicate does not abort it.
   */
  async insertUnlessExists(c: NewCertificate, m: EntityManager = this.ds.manager): Promise<InsertOutcome> {
    const id = c.id ?? uuidv7();
    const rows: { id: string }[] = await m.query(
      `INSERT INTO certificates
         (id, holder_person_id, region_code, kind, occupation, level, issuer, number, issued_on, source,
          imported_by, import_event_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT ON CONSTRAINT certificates_issuer_number_key DO NOTHING
       RETURNING id`,
      [
        id,
        c.holderPersonId,
        c.regionCode,
        c.kind,
        c.occupation,
        c.level ?? null,
        c.issuer,
        c.number,
        c.issuedOn,
        c.source ?? 'GRAPH',
        c.importedBy ?? null,
        c.importEventId ?? null,
      ],
    );
    const repo = m.getRepository(CertificateRow);
    if (rows.length === 1) return { inserted: true, certificate: await repo.findOneByOrFail({ id }) };
    return {
      inserted: false,
      existing: await repo.findOneByOrFail({ issuer: c.issuer, number: c.number }),
    };
  }

  /** Records a certificate; the database refuses a second one with the same issuer and number (CONFLICT). */
  async insert(c: NewCertificate): Promise<CertificateRow> {
    const repo = this.ds.getRepository(CertificateRow);
    const id = c.id ?? uuidv7();
    try {
      await repo.insert({
        id,
        holderPersonId: c.holderPersonId,
        regionCode: c.regionCode,
        kind: c.kind,
        occupation: c.occupation,
        level: c.level ?? null,
        issuer: c.issuer,
        number: c.number,
        issuedOn: c.issuedOn,
        source: c.source ?? 'GRAPH',
        importedBy: c.importedBy ?? null,
        importEventId: c.importEventId ?? null,
      });
    } catch (err) {
      if (uniqueViolation(err, 'certificates_issuer_number_key')) {
        throw new DomainError(
          ErrorCode.CONFLICT,
          'The issuer has already recorded a certificate with this number',
          'number',
        );
      }
      throw err;
    }
    return repo.findOneByOrFail({ id });
  }

  /** Notes an import event that was refused, for operators. */
  async reject(m: EntityManager, r: Omit<CertificateImportRejectionRow, 'id' | 'receivedAt'>): Promise<void> {
    await m.getRepository(CertificateImportRejectionRow).insert({ id: uuidv7(), ...r });
  }

  rejections(eventId: string): Promise<CertificateImportRejectionRow[]> {
    return this.ds.getRepository(CertificateImportRejectionRow).findBy({ eventId });
  }
}

export class JobPostingRepository {
  constructor(private readonly ds: DataSource) {}

  byId(id: string): Promise<JobPostingRow | null> {
    return this.ds.getRepository(JobPostingRow).findOneBy({ id });
  }

  byIds(ids: readonly string[], m: EntityManager = this.ds.manager): Promise<JobPostingRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return m
      .getRepository(JobPostingRow)
      .createQueryBuilder('j')
      .where('j.id = ANY(:ids)', { ids: [...ids] })
      .getMany();
  }

  async insert(p: NewJobPosting, m: EntityManager = this.ds.manager): Promise<JobPostingRow> {
    const repo = m.getRepository(JobPostingRow);
    const id = uuidv7();
    await repo.insert({ id, ...p });
    return repo.findOneByOrFail({ id });
  }

  /** One keyset page (limit + 1 rows, for hasNextPage) of open postings in id order. */
  search(s: JobPostingSearch): Promise<JobPostingRow[]> {
    const qb = this.ds
      .getRepository(JobPostingRow)
      .createQueryBuilder('j')
      .where('j.valid_until >= :openOn', { openOn: s.openOn });
    if (s.regionPrefix !== null) qb.andWhere("j.region_code LIKE :prefix || '%'", { prefix: s.regionPrefix });
    if (s.occupation !== null)
      qb.andWhere('strpos(lower(j.occupation), lower(:occupation)) > 0', { occupation: s.occupation });
    if (s.minPayFen !== null) qb.andWhere('j.pay_max_fen >= :minPayFen', { minPayFen: s.minPayFen });
    if (s.afterId !== null) qb.andWhere('j.id > :afterId', { afterId: s.afterId });
    return qb
      .orderBy('j.id', 'ASC')
      .limit(s.limit + 1)
      .getMany();
  }
}
