import type { DataSource, EntityManager } from 'typeorm';
import {
  AttendanceRow,
  AuditRow,
  ChangeRequestRow,
  ClassRow,
  CourseRow,
  EnrollmentRow,
  EvaluationRow,
  InstitutionRow,
  OperatorRow,
  SessionRow,
  type ChangeRequestState,
  type ClassPlanState,
  type EvaluationDirection,
} from './entities';

/** A keyset page: limit + 1 rows in key order, so the caller can tell whether more exist. */
interface Page {
  limit: number;
  after: string | null;
}

/** True for a unique violation, optionally of one named constraint or index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as {
    code?: string;
    constraint?: string;
    driverError?: { code?: string; constraint?: string };
  };
  const code = e?.code ?? e?.driverError?.code;
  const name = e?.constraint ?? e?.driverError?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}

/** Escapes LIKE wildcards so user text matches literally. */
const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

abstract class Repository {
  constructor(protected readonly ds: DataSource) {}
  protected m(manager?: EntityManager): EntityManager {
    return manager ?? this.ds.manager;
  }
}

export class InstitutionRepository extends Repository {
  byId(id: string, m?: EntityManager): Promise<InstitutionRow | null> {
    return this.m(m).getRepository(InstitutionRow).findOneBy({ id });
  }

  lockById(m: EntityManager, id: string): Promise<InstitutionRow | null> {
    return m.getRepository(InstitutionRow).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  byCreditCode(creditCode: string): Promise<InstitutionRow | null> {
    return this.ds.getRepository(InstitutionRow).findOneBy({ creditCode });
  }

  async insert(m: EntityManager, row: InstitutionRow): Promise<void> {
    await m.getRepository(InstitutionRow).insert(row);
  }

  save(m: EntityManager, row: InstitutionRow): Promise<InstitutionRow> {
    return m.getRepository(InstitutionRow).save(row);
  }

  async addRating(m: EntityManager, institutionId: string, score: number): Promise<void> {
    await m.query(
      'UPDATE institutions SET rating_count = rating_count + 1, rating_sum = rating_sum + $2 WHERE id = $1',
      [institutionId, score],
    );
  }
}

export class OperatorRepository extends Repository {
  byId(id: string, m?: EntityManager): Promise<OperatorRow | null> {
    return this.m(m).getRepository(OperatorRow).findOneBy({ id });
  }

  of(institutionId: string, personId: string, m?: EntityManager): Promise<OperatorRow | null> {
    return this.m(m).getRepository(OperatorRow).findOneBy({ institutionId, personId });
  }

  mainOf(institutionId: string, m?: EntityManager): Promise<OperatorRow | null> {
    return this.m(m).getRepository(OperatorRow).findOneBy({ institutionId, main: true });
  }

  /** The institution a person currently acts for (at most one enabled membership). */
  enabledMembership(personId: string, m?: EntityManager): Promise<OperatorRow | null> {
    return this.m(m).getRepository(OperatorRow).findOneBy({ personId, enabled: true });
  }

  byPerson(personId: string): Promise<OperatorRow[]> {
    return this.ds.getRepository(OperatorRow).find({ where: { personId }, order: { id: 'ASC' } });
  }

  async insert(m: EntityManager, row: OperatorRow): Promise<void> {
    await m.getRepository(OperatorRow).insert(row);
  }

  /** Writes the membership flags in one statement (order matters around the one-main index). */
  async update(m: EntityManager, row: OperatorRow): Promise<void> {
    await m.query(
      'UPDATE operators SET main = $2, enabled = $3, position = $4, updated_at = $5 WHERE id = $1',
      [row.id, row.main, row.enabled, row.position, row.updatedAt],
    );
  }

  page(institutionId: string, p: Page): Promise<OperatorRow[]> {
    const qb = this.ds
      .getRepository(OperatorRow)
      .createQueryBuilder('o')
      .where('o.institution_id = :institutionId', { institutionId })
      .orderBy('o.id', 'ASC')
      .limit(p.limit + 1);
    if (p.after) qb.andWhere('o.id > :after', { after: p.after });
    return qb.getMany();
  }
}

export class ChangeRequestRepository extends Repository {
  byId(id: string): Promise<ChangeRequestRow | null> {
    return this.ds.getRepository(ChangeRequestRow).findOneBy({ id });
  }

  lockById(m: EntityManager, id: string): Promise<ChangeRequestRow | null> {
    return m.getRepository(ChangeRequestRow).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  pendingOf(m: EntityManager, institutionId: string): Promise<ChangeRequestRow | null> {
    return m.getRepository(ChangeRequestRow).findOneBy({ institutionId, state: 'SUBMITTED' });
  }

  async insert(m: EntityManager, row: ChangeRequestRow): Promise<void> {
    await m.getRepository(ChangeRequestRow).insert(row);
  }

  save(m: EntityManager, row: ChangeRequestRow): Promise<ChangeRequestRow> {
    return m.getRepository(ChangeRequestRow).save(row);
  }

  page(
    where: { institutionId?: string; regionPrefix?: string; state?: ChangeRequestState },
    p: Page,
  ): Promise<ChangeRequestRow[]> {
    const qb = this.ds
      .getRepository(ChangeRequestRow)
      .createQueryBuilder('r')
      .orderBy('r.id', 'ASC')
      .limit(p.limit + 1);
    if (where.institutionId) qb.andWhere('r.institution_id = :iid', { iid: where.institutionId });
    if (where.regionPrefix) qb.andWhere(`r.region_code LIKE :rp`, { rp: `${where.regionPrefix}%` });
    if (where.state) qb.andWhere('r.state = :state', { state: where.state });
    if (p.after) qb.andWhere('r.id > :after', { after: p.after });
    return qb.getMany();
  }
}

export interface CatalogueQuery {
  regionPrefix?: string;
  occupation?: string;
  trainingType?: string;
  startsFrom?: string;
  startsTo?: string;
  online?: boolean;
  /** Only classes with free places whose end date is not before this date. */
  openOn?: string;
}

export class ClassRepository extends Repository {
  byId(id: string, m?: EntityManager): Promise<ClassRow | null> {
    return this.m(m).getRepository(ClassRow).findOneBy({ id });
  }

  /** Locks the row for a state transition or a roster/headcount change inside the caller's transaction. */
  lockById(manager: EntityManager, id: string): Promise<ClassRow | null> {
    return manager.getRepository(ClassRow).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  async insert(m: EntityManager, row: ClassRow, courses: CourseRow[], sessions: SessionRow[]): Promise<void> {
    await m.getRepository(ClassRow).insert(row);
    if (courses.length) await m.getRepository(CourseRow).insert(courses);
    if (sessions.length) await m.getRepository(SessionRow).insert(sessions);
  }

  save(manager: EntityManager, row: ClassRow): Promise<ClassRow> {
    return manager.getRepository(ClassRow).save(row);
  }

  coursesOf(classId: string): Promise<CourseRow[]> {
    return this.ds.getRepository(CourseRow).find({ where: { classId }, order: { seq: 'ASC' } });
  }

  courseById(id: string): Promise<CourseRow | null> {
    return this.ds.getRepository(CourseRow).findOneBy({ id });
  }

  sessionsOf(classId: string, m?: EntityManager): Promise<SessionRow[]> {
    return this.m(m)
      .getRepository(SessionRow)
      .find({ where: { classId }, order: { seq: 'ASC' } });
  }

  sessionById(id: string, m?: EntityManager): Promise<SessionRow | null> {
    return this.m(m).getRepository(SessionRow).findOneBy({ id });
  }

  /** Count and sum of trainees' scores for one class. */
  async ratingOf(classId: string): Promise<{ count: number; sum: number }> {
    const [row]: { count: number; sum: number }[] = await this.ds.query(
      `SELECT count(*)::int AS count, coalesce(sum(score), 0)::int AS sum FROM evaluations
       WHERE class_id = $1 AND direction = 'TRAINEE_TO_INSTITUTION'`,
      [classId],
    );
    return row ?? { count: 0, sum: 0 };
  }

  /** Keyset page of an institution's classes; `states` limits what the caller may see. */
  pageByInstitution(institutionId: string, states: ClassPlanState[] | null, p: Page): Promise<ClassRow[]> {
    const qb = this.ds
      .getRepository(ClassRow)
      .createQueryBuilder('c')
      .where('c.institution_id = :institutionId', { institutionId })
      .orderBy('c.id', 'ASC')
      .limit(p.limit + 1);
    if (states) qb.andWhere('c.state IN (:...states)', { states });
    if (p.after) qb.andWhere('c.id > :after', { after: p.after });
    return qb.getMany();
  }

  /** Plans in a region subtree in one state (the bureau's review queue). */
  pageByRegion(regionPrefix: string, state: ClassPlanState, p: Page): Promise<ClassRow[]> {
    const qb = this.ds
      .getRepository(ClassRow)
      .createQueryBuilder('c')
      .where('c.state = :state', { state })
      .andWhere('c.region_code LIKE :rp', { rp: `${regionPrefix}%` })
      .orderBy('c.id', 'ASC')
      .limit(p.limit + 1);
    if (p.after) qb.andWhere('c.id > :after', { after: p.after });
    return qb.getMany();
  }

  /** The public catalogue: approved classes in (start date, id) order; the cursor key is "date|id". */
  catalogue(q: CatalogueQuery, p: Page): Promise<ClassRow[]> {
    const qb = this.ds
      .getRepository(ClassRow)
      .createQueryBuilder('c')
      .where(`c.state = 'APPROVED'`)
      .orderBy('c.start_date', 'ASC')
      .addOrderBy('c.id', 'ASC')
      .limit(p.limit + 1);
    if (q.regionPrefix) qb.andWhere('c.region_code LIKE :rp', { rp: `${q.regionPrefix}%` });
    if (q.occupation)
      qb.andWhere(`c.occupation ILIKE :occ ESCAPE '\\'`, { occ: `%${likeLiteral(q.occupation)}%` });
    if (q.trainingType) qb.andWhere('c.training_type = :tt', { tt: q.trainingType });
    if (q.startsFrom) qb.andWhere('c.start_date >= :sf', { sf: q.startsFrom });
    if (q.startsTo) qb.andWhere('c.start_date <= :st', { st: q.startsTo });
    if (q.online !== undefined) qb.andWhere('c.online = :online', { online: q.online });
    if (q.openOn)
      qb.andWhere('c.enrolled_count < c.headcount').andWhere('c.end_date >= :openOn', { openOn: q.openOn });
    if (p.after) {
      const [date, id] = p.after.split('|');
      qb.andWhere('(c.start_date, c.id) > (:ad, :aid)', { ad: date, aid: id });
    }
    return qb.getMany();
  }

  /** Moves the class's counters; the table's checks refuse going above the headcount. */
  async addCounts(m: EntityManager, classId: string, enrolled: number, roster: number): Promise<void> {
    if (enrolled === 0 && roster === 0) return;
    await m.query(
      'UPDATE classes SET enrolled_count = enrolled_count + $2, roster_size = roster_size + $3 WHERE id = $1',
      [classId, enrolled, roster],
    );
  }
}

export class EnrollmentRepository extends Repository {
  byId(id: string, m?: EntityManager): Promise<EnrollmentRow | null> {
    return this.m(m).getRepository(EnrollmentRow).findOneBy({ id });
  }

  lockById(m: EntityManager, id: string): Promise<EnrollmentRow | null> {
    return m.getRepository(EnrollmentRow).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  of(classId: string, personId: string, m?: EntityManager): Promise<EnrollmentRow | null> {
    return this.m(m).getRepository(EnrollmentRow).findOneBy({ classId, personId });
  }

  /** Locks the given enrollments of one class, in id order (no deadlocks between concurrent reviews). */
  lockMany(m: EntityManager, classId: string, personIds: string[]): Promise<EnrollmentRow[]> {
    if (personIds.length === 0) return Promise.resolve([]);
    return m
      .getRepository(EnrollmentRow)
      .createQueryBuilder('e')
      .setLock('pessimistic_write')
      .where('e.class_id = :classId', { classId })
      .andWhere('e.person_id IN (:...personIds)', { personIds })
      .orderBy('e.id', 'ASC')
      .getMany();
  }

  lockByIds(m: EntityManager, ids: string[]): Promise<EnrollmentRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return m
      .getRepository(EnrollmentRow)
      .createQueryBuilder('e')
      .setLock('pessimistic_write')
      .where('e.id IN (:...ids)', { ids })
      .orderBy('e.id', 'ASC')
      .getMany();
  }

  /** Active roster members (their person ids), in enrollment order. */
  async rosterOf(m: EntityManager, classId: string): Promise<string[]> {
    const rows: { person_id: string }[] = await m.query(
      `SELECT person_id FROM enrollments WHERE class_id = $1 AND source = 'ROSTER' AND state = 'ACTIVE'
       ORDER BY enrolled_at, id`,
      [classId],
    );
    return rows.map((r) => r.person_id);
  }

  async insert(m: EntityManager, rows: EnrollmentRow[]): Promise<void> {
    if (rows.length) await m.getRepository(EnrollmentRow).insert(rows);
  }

  save(m: EntityManager, row: EnrollmentRow): Promise<EnrollmentRow> {
    return m.getRepository(EnrollmentRow).save(row);
  }

  /** Counts one more attended session; returns the new count. */
  async countAttendance(m: EntityManager, id: string): Promise<number> {
    const result: unknown[] = await m.query(
      'UPDATE enrollments SET attended_sessions = attended_sessions + 1, updated_at = now() WHERE id = $1 RETURNING attended_sessions',
      [id],
    );
    // TypeORM's postgres driver answers an UPDATE … RETURNING with [rows, affected].
    const rows = (Array.isArray(result[0]) ? result[0] : result) as { attended_sessions: number }[];
    return rows[0]!.attended_sessions;
  }

  page(
    where: { classId?: string; institutionId?: string; personId?: string; regionPrefix?: string },
    p: Page,
  ): Promise<EnrollmentRow[]> {
    const qb = this.ds
      .getRepository(EnrollmentRow)
      .createQueryBuilder('e')
      .orderBy('e.id', 'ASC')
      .limit(p.limit + 1);
    if (where.classId) qb.andWhere('e.class_id = :classId', { classId: where.classId });
    if (where.institutionId) qb.andWhere('e.institution_id = :iid', { iid: where.institutionId });
    if (where.personId) qb.andWhere('e.person_id = :pid', { pid: where.personId });
    if (where.regionPrefix) qb.andWhere('e.region_code LIKE :rp', { rp: `${where.regionPrefix}%` });
    if (p.after) qb.andWhere('e.id > :after', { after: p.after });
    return qb.getMany();
  }
}

export class AttendanceRepository extends Repository {
  /** Inserts a check-in; a second one for the same person and session violates `attendance_once`. */
  async insert(m: EntityManager, row: AttendanceRow): Promise<void> {
    await m.getRepository(AttendanceRow).insert(row);
  }

  of(sessionId: string, personId: string): Promise<AttendanceRow | null> {
    return this.ds.getRepository(AttendanceRow).findOneBy({ sessionId, personId });
  }

  byEnrollment(enrollmentId: string): Promise<AttendanceRow[]> {
    return this.ds.getRepository(AttendanceRow).find({ where: { enrollmentId }, order: { id: 'ASC' } });
  }

  pageByPerson(personId: string, regionPrefix: string | null, p: Page): Promise<AttendanceRow[]> {
    const qb = this.ds
      .getRepository(AttendanceRow)
      .createQueryBuilder('a')
      .where('a.person_id = :personId', { personId })
      .orderBy('a.id', 'ASC')
      .limit(p.limit + 1);
    if (regionPrefix)
      qb.andWhere('EXISTS (SELECT 1 FROM classes c WHERE c.id = a.class_id AND c.region_code LIKE :rp)', {
        rp: `${regionPrefix}%`,
      });
    if (p.after) qb.andWhere('a.id > :after', { after: p.after });
    return qb.getMany();
  }
}

export class EvaluationRepository extends Repository {
  async insert(m: EntityManager, row: EvaluationRow): Promise<void> {
    await m.getRepository(EvaluationRow).insert(row);
  }

  of(enrollmentId: string, direction: EvaluationDirection): Promise<EvaluationRow | null> {
    return this.ds.getRepository(EvaluationRow).findOneBy({ enrollmentId, direction });
  }
}

export class AuditRepository extends Repository {
  async append(m: EntityManager, row: AuditRow): Promise<void> {
    await m.getRepository(AuditRow).insert(row);
  }

  bySubject(subjectId: string): Promise<AuditRow[]> {
    return this.ds.getRepository(AuditRow).find({ where: { subjectId }, order: { id: 'ASC' } });
  }
}

export interface Repositories {
  institutions: InstitutionRepository;
  operators: OperatorRepository;
  changeRequests: ChangeRequestRepository;
  classes: ClassRepository;
  enrollments: EnrollmentRepository;
  attendance: AttendanceRepository;
  evaluations: EvaluationRepository;
  audit: AuditRepository;
}

export function createRepositories(ds: DataSource): Repositories {
  return {
    institutions: new InstitutionRepository(ds),
    operators: new OperatorRepository(ds),
    changeRequests: new ChangeRequestRepository(ds),
    classes: new ClassRepository(ds),
    enrollments: new EnrollmentRepository(ds),
    attendance: new AttendanceRepository(ds),
    evaluations: new EvaluationRepository(ds),
    audit: new AuditRepository(ds),
  };
}
