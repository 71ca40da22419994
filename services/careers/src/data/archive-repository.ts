import { uuidv7 } from '@vtv/kit';
import type { DataSource, EntityManager } from 'typeorm';
import {
  ArchiveEntryRow,
  CompletionRow,
  KnownClassRow,
  KnownEnrollmentRow,
  type ArchiveEntryType,
} from './entities';

export type NewArchiveEntry = Omit<
  ArchiveEntryRow,
  | 'id'
  | 'recordedAt'
  | 'regionCode'
  | 'occupation'
  | 'trainingType'
  | 'level'
  | 'classId'
  | 'institutionId'
  | 'enrollmentId'
  | 'voucherId'
  | 'certificateId'
  | 'faceValueFen'
  | 'attendanceRateBp'
  | 'passed'
> &
  Partial<
    Pick<
      ArchiveEntryRow,
      | 'regionCode'
      | 'occupation'
      | 'trainingType'
      | 'level'
      | 'classId'
      | 'institutionId'
      | 'enrollmentId'
      | 'voucherId'
      | 'certificateId'
      | 'faceValueFen'
      | 'attendanceRateBp'
      | 'passed'
    >
  >;

export interface ArchivePage {
  personId: string;
  /** Region subtree code prefix (staff); null for the person themself. */
  regionPrefix: string | null;
  types: ArchiveEntryType[] | null;
  /** Keyset position: entries strictly after (occurredAt, id). */
  after: { occurredAt: Date; id: string } | null;
  limit: number;
}

/** The e-archive projection and the training facts that describe it. */
export class ArchiveRepository {
  constructor(private readonly ds: DataSource) {}

  /** Adds entries; one already projected from the same event (a redelivery) is left alone. */
  async add(m: EntityManager, entries: NewArchiveEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const rows = entries.map((e) => ({
      regionCode: null,
      occupation: null,
      trainingType: null,
      level: null,
      classId: null,
      institutionId: null,
      enrollmentId: null,
      voucherId: null,
      certificateId: null,
      faceValueFen: null,
      attendanceRateBp: null,
      passed: null,
      ...e,
      id: uuidv7(),
    }));
    await m.createQueryBuilder().insert().into(ArchiveEntryRow).values(rows).orIgnore().execute();
  }

  /** One keyset page (limit + 1 rows) of a person's entries in time order. */
  page(p: ArchivePage): Promise<ArchiveEntryRow[]> {
    const qb = this.ds
      .getRepository(ArchiveEntryRow)
      .createQueryBuilder('a')
      .where('a.person_id = :personId', { personId: p.personId });
    if (p.regionPrefix !== null) qb.andWhere("a.region_code LIKE :prefix || '%'", { prefix: p.regionPrefix });
    if (p.types !== null) qb.andWhere('a.type = ANY(:types)', { types: p.types });
    if (p.after !== null)
      qb.andWhere('(a.occurred_at, a.id) > (:afterAt, :afterId)', {
        afterAt: p.after.occurredAt,
        afterId: p.after.id,
      });
    return qb
      .orderBy('a.occurred_at', 'ASC')
      .addOrderBy('a.id', 'ASC')
      .limit(p.limit + 1)
      .getMany();
  }

  /** A person's whole archive in time order (for the export), at most `max` entries. */
  all(personId: string, max: number): Promise<ArchiveEntryRow[]> {
    return this.ds
      .getRepository(ArchiveEntryRow)
      .createQueryBuilder('a')
      .where('a.person_id = :personId', { personId })
      .orderBy('a.occurred_at', 'ASC')
      .addOrderBy('a.id', 'ASC')
      .limit(max)
      .getMany();
  }

  upsertClass(m: EntityManager, c: Omit<KnownClassRow, 'updatedAt'>): Promise<unknown> {
    return m
      .createQueryBuilder()
      .insert()
      .into(KnownClassRow)
      .values({ ...c, updatedAt: new Date() })
      .orUpdate(
        [
          'institution_id',
          'region_code',
          'name',
          'occupation',
          'training_type',
          'level',
          'start_date',
          'end_date',
          'updated_at',
        ],
        ['class_id'],
      )
      .execute();
  }

  knownClass(m: EntityManager, classId: string): Promise<KnownClassRow | null> {
    return m.getRepository(KnownClassRow).findOneBy({ classId });
  }

  async addEnrollment(m: EntityManager, e: KnownEnrollmentRow): Promise<void> {
    await m.createQueryBuilder().insert().into(KnownEnrollmentRow).values(e).orIgnore().execute();
  }

  knownEnrollment(m: EntityManager, enrollmentId: string): Promise<KnownEnrollmentRow | null> {
    return m.getRepository(KnownEnrollmentRow).findOneBy({ enrollmentId });
  }

  /** Records (or corrects, on a re-review) a completion result. */
  async upsertCompletion(m: EntityManager, c: CompletionRow): Promise<void> {
    await m
      .createQueryBuilder()
      .insert()
      .into(CompletionRow)
      .values(c)
      .orUpdate(['passed', 'level', 'occupation', 'region_code', 'recorded_at'], ['enrollment_id'])
      .execute();
  }
}
