import { uuidv7 } from '@vtv/kit';
import type { DataSource, EntityManager } from 'typeorm';
import {
  RecommendationRow,
  type CertificateKind,
  type ConsentChannel,
  type RecommendationBasis,
  type SkillLevel,
} from './entities';
import { returnedRows } from './sql';

/** A posting a person's qualification matches, under their live consent. */
export interface Match {
  personId: string;
  consentId: string;
  channels: ConsentChannel[];
  jobPostingId: string;
  basisKind: RecommendationBasis;
  basisId: string;
  basisOccupation: string;
  basisLevel: SkillLevel | null;
  basisCertificateKind: CertificateKind | null;
}

export interface MatchQuery {
  now: Date;
  /** YYYY-MM-DD in China: postings closed before this are not matched. */
  today: string;
  recipient: string;
  personId: string | null;
  jobPostingId: string | null;
}

/** The region prefix (see regionPrefix in @vtv/kit) of a char(6) code, in SQL. */
const prefixOf = (col: string) =>
  `CASE WHEN ${col} LIKE '%0000' THEN substr(${col}, 1, 2) WHEN ${col} LIKE '%00' THEN substr(${col}, 1, 4) ELSE ${col}::text END`;
/** A qualification's default search area: its city (or province, for a province-level code). */
const cityOf = (col: string) =>
  `CASE WHEN ${col} LIKE '%0000' THEN substr(${col}, 1, 2) ELSE substr(${col}, 1, 4) END`;

/**
 * Matching rules (one row per person and posting, best basis first):
 * - the person has a live JOB_RECOMMENDATION consent for the recipient;
 * - the posting is open, and its occupation contains the qualification's occupation or vice versa
 *   (case-insensitive);
 * - a posting that requires a certificate kind or level is matched only by a certificate of that kind
 *   and at least that level (LEVEL_1 is the highest); otherwise a passed completion also matches;
 * - the posting lies inside the consent's region, or, when the consent names none, inside the
 *   qualification's city;
 * - no live recommendation for the pair exists yet.
 * Basis preference: certificates over trainings, higher levels, then the most recent.
 */
const MATCH_SQL = `
WITH live AS (
  SELECT DISTINCT ON (c.person_id) c.id AS consent_id, c.person_id, c.region_code AS consent_region, c.channels
  FROM consents c
  WHERE c.purpose = 'JOB_RECOMMENDATION' AND c.recipient = $3
    AND c.revoked_at IS NULL AND c.granted_at <= $1 AND c.expires_at > $1
    AND ($4::uuid IS NULL OR c.person_id = $4::uuid)
  ORDER BY c.person_id, c.granted_at DESC
),
quals AS (
  SELECT c.holder_person_id AS person_id, 'CERTIFICATE'::text AS basis_kind, c.id::text AS basis_id,
         c.occupation, c.level, c.kind, c.region_code, 0 AS pref, c.issued_on::timestamptz AS at
  FROM certificates c JOIN live l ON l.person_id = c.holder_person_id
  UNION ALL
  SELECT p.person_id, 'TRAINING', p.enrollment_id, p.occupation, p.level, NULL, p.region_code, 1, p.recorded_at
  FROM completions p JOIN live l ON l.person_id = p.person_id
  WHERE p.passed
)
SELECT DISTINCT ON (l.person_id, j.id)
  l.person_id, l.consent_id, l.channels, j.id AS job_posting_id, q.basis_kind, q.basis_id,
  q.occupation AS basis_occupation, q.level AS basis_level, q.kind AS basis_certificate_kind
FROM live l
JOIN quals q ON q.person_id = l.person_id
JOIN job_postings j ON j.valid_until >= $2::date
  AND (strpos(lower(j.occupation), lower(q.occupation)) > 0 OR strpos(lower(q.occupation), lower(j.occupation)) > 0)
  AND (j.required_certificate_kind IS NULL
       OR (q.basis_kind = 'CERTIFICATE' AND q.kind = j.required_certificate_kind))
  AND (j.required_level IS NULL
       OR (q.basis_kind = 'CERTIFICATE' AND q.level IS NOT NULL
           AND substr(q.level, 7, 1)::int <= substr(j.required_level, 7, 1)::int))
  AND j.region_code LIKE (CASE WHEN l.consent_region IS NOT NULL THEN ${prefixOf('l.consent_region')}
                               ELSE ${cityOf('q.region_code')} END) || '%'
  AND ($5::uuid IS NULL OR j.id = $5::uuid)
WHERE NOT EXISTS (
  SELECT 1 FROM recommendations r
  WHERE r.person_id = l.person_id AND r.job_posting_id = j.id AND r.withdrawn_at IS NULL
)
ORDER BY l.person_id, j.id, q.pref, q.level NULLS LAST, q.at DESC`;

interface MatchRow {
  person_id: string;
  consent_id: string;
  channels: ConsentChannel[] | string;
  job_posting_id: string;
  basis_kind: RecommendationBasis;
  basis_id: string;
  basis_occupation: string;
  basis_level: SkillLevel | null;
  basis_certificate_kind: CertificateKind | null;
}

/** pg returns text[] as a JS array, but be tolerant of the '{A,B}' literal too. */
function channelsOf(v: ConsentChannel[] | string): ConsentChannel[] {
  if (Array.isArray(v)) return v;
  return v
    .replace(/^\{|\}$/g, '')
    .split(',')
    .filter(Boolean) as ConsentChannel[];
}

export interface NewRecommendation {
  personId: string;
  jobPostingId: string;
  consentId: string;
  basisKind: RecommendationBasis;
  basisId: string;
  basisOccupation: string;
  basisLevel: SkillLevel | null;
  explanation: string;
}

export class RecommendationRepository {
  constructor(private readonly ds: DataSource) {}

  async matches(m: EntityManager, q: MatchQuery): Promise<Match[]> {
    const rows: MatchRow[] = await m.query(MATCH_SQL, [
      q.now,
      q.today,
      q.recipient,
      q.personId,
      q.jobPostingId,
    ]);
    return rows.map((r) => ({
      personId: r.person_id,
      consentId: r.consent_id,
      channels: channelsOf(r.channels),
      jobPostingId: r.job_posting_id,
      basisKind: r.basis_kind,
      basisId: r.basis_id,
      basisOccupation: r.basis_occupation,
      basisLevel: r.basis_level,
      basisCertificateKind: r.basis_certificate_kind,
    }));
  }

  /** Inserts a recommendation unless a live one exists for the pair; null then. */
  async insert(m: EntityManager, r: NewRecommendation): Promise<RecommendationRow | null> {
    const id = uuidv7();
    const rows: { id: string }[] = await m.query(
      `INSERT INTO recommendations
         (id, person_id, job_posting_id, consent_id, basis_kind, basis_id, basis_occupation, basis_level, explanation)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (person_id, job_posting_id) WHERE withdrawn_at IS NULL DO NOTHING
       RETURNING id`,
      [
        id,
        r.personId,
        r.jobPostingId,
        r.consentId,
        r.basisKind,
        r.basisId,
        r.basisOccupation,
        r.basisLevel,
        r.explanation,
      ],
    );
    if (rows.length === 0) return null;
    return m.getRepository(RecommendationRow).findOneByOrFail({ id });
  }

  /** Moves a person's live recommendations from superseded consents to the consent replacing them. */
  async reassign(
    m: EntityManager,
    personId: string,
    fromConsentIds: string[],
    toConsentId: string,
  ): Promise<void> {
    await m.query(
      `UPDATE recommendations SET consent_id = $1
       WHERE person_id = $2 AND withdrawn_at IS NULL AND consent_id = ANY($3::uuid[])`,
      [toConsentId, personId, fromConsentIds],
    );
  }

  /** Withdraws every live recommendation of a person (consent revoked); returns their ids. */
  async withdrawAll(m: EntityManager, personId: string, at: Date): Promise<string[]> {
    const result: unknown = await m.query(
      `UPDATE recommendations SET withdrawn_at = $2 WHERE person_id = $1 AND withdrawn_at IS NULL RETURNING id`,
      [personId, at],
    );
    return returnedRows<{ id: string }>(result).map((r) => r.id);
  }

  /**
   * A page (limit + 1) of a person's current recommendations, newest first: not withdrawn, made under
   * a consent that is still live, for a posting still open.
   */
  current(
    personId: string,
    now: Date,
    today: string,
    beforeId: string | null,
    limit: number,
  ): Promise<RecommendationRow[]> {
    const qb = this.ds
      .getRepository(RecommendationRow)
      .createQueryBuilder('r')
      .innerJoin('consents', 'c', 'c.id = r.consent_id')
      .innerJoin('job_postings', 'j', 'j.id = r.job_posting_id')
      .where('r.person_id = :personId AND r.withdrawn_at IS NULL', { personId })
      .andWhere('c.revoked_at IS NULL AND c.granted_at <= :now AND c.expires_at > :now', { now })
      .andWhere('j.valid_until >= :today', { today });
    if (beforeId !== null) qb.andWhere('r.id < :beforeId', { beforeId });
    return qb
      .orderBy('r.id', 'DESC')
      .limit(limit + 1)
      .getMany();
  }

  byId(id: string): Promise<RecommendationRow | null> {
    return this.ds.getRepository(RecommendationRow).findOneBy({ id });
  }

  /** Every recommendation ever made for a person (tests, support). */
  allFor(personId: string): Promise<RecommendationRow[]> {
    return this.ds.getRepository(RecommendationRow).find({ where: { personId }, order: { id: 'ASC' } });
  }
}
