import type { DataSource, EntityManager } from 'typeorm';
import { ApprovedClassRow, BatchRow, BatchTransitionRow, type BatchState } from './entities';
import { hydrate, returned } from './hydrate';

export class ApprovedClassRepository {
  constructor(private readonly ds: DataSource) {}

  /** Idempotent on class id: a replayed approval leaves the row as it is. True when inserted. */
  async insert(manager: EntityManager, c: Omit<ApprovedClassRow, 'issuedAt'>): Promise<boolean> {
    const rows = await manager.query(
      `INSERT INTO approved_classes (class_id, institution_id, region_code, name, occupation, training_type,
         level, headcount, roster_person_ids, start_date, end_date, approved_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::uuid[], $10, $11, $12)
       ON CONFLICT DO NOTHING RETURNING class_id`,
      [
        c.classId,
        c.institutionId,
        c.regionCode,
        c.name,
        c.occupation,
        c.trainingType,
        c.level,
        c.headcount,
        c.rosterPersonIds,
        c.startDate,
        c.endDate,
        c.approvedAt,
      ],
    );
    return rows.length > 0;
  }

  byId(classId: string, manager: EntityManager = this.ds.manager): Promise<ApprovedClassRow | null> {
    return manager.getRepository(ApprovedClassRow).findOneBy({ classId });
  }

  lock(manager: EntityManager, classId: string): Promise<ApprovedClassRow | null> {
    return manager
      .getRepository(ApprovedClassRow)
      .findOne({ where: { classId }, lock: { mode: 'pessimistic_write' } });
  }

  /** Applies a roster change; returns the roster after it. */
  async changeRoster(
    manager: EntityManager,
    classId: string,
    added: string[],
    removed: string[],
  ): Promise<string[] | null> {
    const result = await manager.query(
      `UPDATE approved_classes SET updated_at = now(), roster_person_ids = ARRAY(
         SELECT DISTINCT p FROM unnest(roster_person_ids || $2::uuid[]) AS p WHERE NOT p = ANY($3::uuid[]))
       WHERE class_id = $1 RETURNING roster_person_ids`,
      [classId, added, removed],
    );
    const row = returned(result)[0];
    return row ? hydrate(manager, ApprovedClassRow, row).rosterPersonIds : null;
  }

  async markIssued(manager: EntityManager, classId: string, at: Date): Promise<void> {
    await manager.query(
      'UPDATE approved_classes SET issued_at = $2, updated_at = now() WHERE class_id = $1 AND issued_at IS NULL',
      [classId, at],
    );
  }

  /** Keyset page of classes not yet issued whose region lies under `regionPrefix`. */
  pageAwaiting(regionPrefix: string, limit: number, afterId: string | null): Promise<ApprovedClassRow[]> {
    const qb = this.ds
      .getRepository(ApprovedClassRow)
      .createQueryBuilder('c')
      .where('c.issued_at IS NULL')
      .andWhere('c.region_code LIKE :prefix', { prefix: `${regionPrefix}%` })
      .orderBy('c.class_id', 'ASC')
      .limit(limit + 1);
    if (afterId) qb.andWhere('c.class_id > :afterId', { afterId });
    return qb.getMany();
  }
}

export class BatchRepository {
  constructor(private readonly ds: DataSource) {}

  byId(id: string, manager: EntityManager = this.ds.manager): Promise<BatchRow | null> {
    return manager.getRepository(BatchRow).findOneBy({ id });
  }

  lock(manager: EntityManager, id: string): Promise<BatchRow | null> {
    return manager.getRepository(BatchRow).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /** The class's batch that is not invalidated (at most one), locked. */
  async lockLiveForClass(manager: EntityManager, classId: string): Promise<BatchRow | null> {
    const rows = await manager.query(
      `SELECT * FROM voucher_batches WHERE class_id = $1 AND state <> 'INVALIDATED' FOR UPDATE`,
      [classId],
    );
    return rows[0] ? hydrate(manager, BatchRow, rows[0]) : null;
  }

  liveForClass(classId: string): Promise<BatchRow | null> {
    return this.ds
      .getRepository(BatchRow)
      .createQueryBuilder('b')
      .where('b.class_id = :classId', { classId })
      .andWhere(`b.state <> 'INVALIDATED'`)
      .getOne();
  }

  byClass(classId: string, regionPrefix: string): Promise<BatchRow[]> {
    return this.ds
      .getRepository(BatchRow)
      .createQueryBuilder('b')
      .where('b.class_id = :classId', { classId })
      .andWhere('b.region_code LIKE :prefix', { prefix: `${regionPrefix}%` })
      .orderBy('b.id', 'ASC')
      .getMany();
  }

  async insert(manager: EntityManager, row: BatchRow): Promise<void> {
    await manager.getRepository(BatchRow).insert(row);
  }

  async update(manager: EntityManager, row: BatchRow): Promise<void> {
    const { id, ...fields } = row;
    await manager.getRepository(BatchRow).update({ id }, fields);
  }

  pageInRegion(
    regionPrefix: string,
    states: BatchState[] | null,
    limit: number,
    afterId: string | null,
  ): Promise<BatchRow[]> {
    const qb = this.ds
      .getRepository(BatchRow)
      .createQueryBuilder('b')
      .where('b.region_code LIKE :prefix', { prefix: `${regionPrefix}%` })
      .orderBy('b.id', 'ASC')
      .limit(limit + 1);
    if (states?.length) qb.andWhere('b.state IN (:...states)', { states });
    if (afterId) qb.andWhere('b.id > :afterId', { afterId });
    return qb.getMany();
  }

  async insertTransition(manager: EntityManager, row: BatchTransitionRow): Promise<void> {
    await manager.getRepository(BatchTransitionRow).insert(row);
  }

  history(batchId: string): Promise<BatchTransitionRow[]> {
    return this.ds.getRepository(BatchTransitionRow).find({ where: { batchId }, order: { id: 'ASC' } });
  }
}
