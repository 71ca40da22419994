import { uuidv7 } from '@vtv/kit';
import type { DataSource, EntityManager } from 'typeorm';
import { DataAccessRow } from './entities';

export type NewAccess = Omit<DataAccessRow, 'id' | 'occurredAt'> & { occurredAt?: Date };

/** The append-only log of who saw or used a person's data. */
export class AccessLogRepository {
  constructor(private readonly ds: DataSource) {}

  async add(entries: NewAccess[], m: EntityManager = this.ds.manager): Promise<void> {
    if (entries.length === 0) return;
    await m
      .getRepository(DataAccessRow)
      .insert(entries.map((e) => ({ ...e, id: uuidv7(), occurredAt: e.occurredAt ?? new Date() })));
  }

  /** A page (limit + 1) of a person's log, newest first. */
  page(personId: string, beforeId: string | null, limit: number): Promise<DataAccessRow[]> {
    const qb = this.ds
      .getRepository(DataAccessRow)
      .createQueryBuilder('l')
      .where('l.person_id = :personId', { personId });
    if (beforeId !== null) qb.andWhere('l.id < :beforeId', { beforeId });
    return qb
      .orderBy('l.id', 'DESC')
      .limit(limit + 1)
      .getMany();
  }
}
