import type { DataSource, EntityManager } from 'typeorm';
import { EnrollmentRow, InstitutionRow, OperatorRow, PersonRow } from './entities';

/**
 * Vouchers' own copies of other domains' facts, kept from their events. Upserts ignore a fact older
 * than the one already applied (events of one key may arrive out of order across relay batches).
 */
export class ProjectionRepository {
  constructor(private readonly ds: DataSource) {}

  async upsertPerson(
    manager: EntityManager,
    p: { personId: string; regionCode: string; birthYear: number | null; at: Date },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO people (person_id, region_code, birth_year, card_issued_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (person_id) DO UPDATE SET region_code = EXCLUDED.region_code,
         birth_year = EXCLUDED.birth_year, card_issued_at = EXCLUDED.card_issued_at
       WHERE people.card_issued_at IS NULL OR people.card_issued_at <= EXCLUDED.card_issued_at`,
      [p.personId, p.regionCode, p.birthYear, p.at],
    );
  }

  person(personId: string): Promise<PersonRow | null> {
    return this.ds.getRepository(PersonRow).findOneBy({ personId });
  }

  async upsertInstitution(manager: EntityManager, i: InstitutionRow): Promise<void> {
    await manager.query(
      `INSERT INTO institutions (institution_id, region_code, active, changed_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (institution_id) DO UPDATE SET region_code = EXCLUDED.region_code,
         active = EXCLUDED.active, changed_at = EXCLUDED.changed_at
       WHERE institutions.changed_at <= EXCLUDED.changed_at`,
      [i.institutionId, i.regionCode, i.active, i.changedAt],
    );
  }

  institution(
    institutionId: string,
    manager: EntityManager = this.ds.manager,
  ): Promise<InstitutionRow | null> {
    return manager.getRepository(InstitutionRow).findOneBy({ institutionId });
  }

  async upsertOperator(manager: EntityManager, o: OperatorRow): Promise<void> {
    await manager.query(
      `INSERT INTO operators (institution_id, person_id, enabled, main, changed_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (institution_id, person_id) DO UPDATE SET enabled = EXCLUDED.enabled,
         main = EXCLUDED.main, changed_at = EXCLUDED.changed_at
       WHERE operators.changed_at <= EXCLUDED.changed_at`,
      [o.institutionId, o.personId, o.enabled, o.main, o.changedAt],
    );
  }

  /**
   * A scan's two facts in one round trip: whether the person is an enabled operator of the institution,
   * and the institution (null when unknown).
   */
  async scanFacts(
    institutionId: string,
    personId: string,
  ): Promise<{ operatorEnabled: boolean; institution: InstitutionRow | null }> {
    const rows: { enabled: boolean | null; region_code: string; active: boolean; changed_at: Date }[] =
      await this.ds.query(
        `SELECT o.enabled, i.region_code, i.active, i.changed_at
         FROM institutions i LEFT JOIN operators o ON o.institution_id = i.institution_id AND o.person_id = $2
         WHERE i.institution_id = $1`,
        [institutionId, personId],
      );
    const r = rows[0];
    if (!r) {
      // No institution projection yet; the operator fact may still exist (events arrive in any order).
      const op = await this.operator(institutionId, personId);
      return { operatorEnabled: op?.enabled === true, institution: null };
    }
    const institution = Object.assign(new InstitutionRow(), {
      institutionId,
      regionCode: r.region_code,
      active: r.active,
      changedAt: r.changed_at,
    });
    return { operatorEnabled: r.enabled === true, institution };
  }

  operator(institutionId: string, personId: string): Promise<OperatorRow | null> {
    return this.ds.getRepository(OperatorRow).findOneBy({ institutionId, personId });
  }

  async insertEnrollment(manager: EntityManager, e: EnrollmentRow): Promise<void> {
    await manager.query(
      `INSERT INTO enrollments (enrollment_id, class_id, institution_id, person_id, region_code,
         training_type, occupation, online, enrolled_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
      [
        e.enrollmentId,
        e.classId,
        e.institutionId,
        e.personId,
        e.regionCode,
        e.trainingType,
        e.occupation,
        e.online,
        e.enrolledAt,
      ],
    );
  }

  enrollment(enrollmentId: string): Promise<EnrollmentRow | null> {
    return this.ds.getRepository(EnrollmentRow).findOneBy({ enrollmentId });
  }
}

export interface AuditEntry {
  id: string;
  actorKind: string;
  actorId: string;
  action: string;
  subjectType: string;
  subjectId: string;
  regionCode: string | null;
  detail: Record<string, unknown>;
}

/** The append-only audit log of administrative actions (SPEC §9). */
export class AuditRepository {
  async insert(manager: EntityManager, e: AuditEntry): Promise<void> {
    await manager.query(
      `INSERT INTO audit_log (id, actor_kind, actor_id, action, subject_type, subject_id, region_code, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        e.id,
        e.actorKind,
        e.actorId,
        e.action,
        e.subjectType,
        e.subjectId,
        e.regionCode,
        JSON.stringify(e.detail),
      ],
    );
  }
}
