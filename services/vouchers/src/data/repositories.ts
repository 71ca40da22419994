import type { DataSource, EntityManager } from 'typeorm';
import { AwaitingClassRow, VoucherRow } from './entities';

export class VoucherRepository {
  constructor(private readonly ds: DataSource) {}

  byId(id: string): Promise<VoucherRow | null> {
    return this.ds.getRepository(VoucherRow).findOneBy({ id });
  }

  byHolder(personId: string): Promise<VoucherRow[]> {
    return this.ds
      .getRepository(VoucherRow)
      .find({ where: { holderPersonId: personId }, order: { id: 'ASC' } });
  }
}

export class AwaitingClassRepository {
  constructor(private readonly ds: DataSource) {}

  /** Idempotent on class id: a replayed approval leaves the row as it is. */
  async upsert(manager: EntityManager, row: AwaitingClassRow): Promise<void> {
    await manager
      .getRepository(AwaitingClassRow)
      .createQueryBuilder()
      .insert()
      .values(row)
      .orIgnore()
      .execute();
  }

  byClassId(classId: string): Promise<AwaitingClassRow | null> {
    return this.ds.getRepository(AwaitingClassRow).findOneBy({ classId });
  }

  /** Keyset page of classes not yet issued whose region lies under `regionPrefix`. */
  pageInRegion(regionPrefix: string, limit: number, afterId: string | null): Promise<AwaitingClassRow[]> {
    const qb = this.ds
      .getRepository(AwaitingClassRow)
      .createQueryBuilder('c')
      .where('c.issued_at IS NULL')
      .andWhere('c.region_code LIKE :prefix', { prefix: `${regionPrefix}%` })
      .orderBy('c.class_id', 'ASC')
      .limit(limit + 1);
    if (afterId) qb.andWhere('c.class_id > :afterId', { afterId });
    return qb.getMany();
  }
}
