import { DomainError, ErrorCode, uuidv7 } from '@vtv/kit';
import { QueryFailedError, type DataSource } from 'typeorm';
import { CertificateRow, JobPostingRow, type CertificateKind, type SkillLevel } from './entities';

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
}

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

  byId(id: string): Promise<CertificateRow | null> {
    return this.ds.getRepository(CertificateRow).findOneBy({ id });
  }

  /** A person's certificates in id order, optionally only those inside a region subtree (code prefix). */
  byHolder(holderPersonId: string, regionPrefix: string | null): Promise<CertificateRow[]> {
    const qb = this.ds
      .getRepository(CertificateRow)
      .createQueryBuilder('c')
      .where('c.holder_person_id = :holderPersonId', { holderPersonId });
    if (regionPrefix !== null) qb.andWhere("c.region_code LIKE :prefix || '%'", { prefix: regionPrefix });
    return qb.orderBy('c.id', 'ASC').getMany();
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
}

export class JobPostingRepository {
  constructor(private readonly ds: DataSource) {}

  byId(id: string): Promise<JobPostingRow | null> {
    return this.ds.getRepository(JobPostingRow).findOneBy({ id });
  }

  async insert(p: NewJobPosting): Promise<JobPostingRow> {
    const repo = this.ds.getRepository(JobPostingRow);
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
    if (s.afterId !== null) qb.andWhere('j.id > :afterId', { afterId: s.afterId });
    return qb
      .orderBy('j.id', 'ASC')
      .limit(s.limit + 1)
      .getMany();
  }
}
