import type { DataSource, EntityManager } from 'typeorm';
import { ClassRow, InstitutionRow } from './entities';

export class InstitutionRepository {
  constructor(private readonly ds: DataSource) {}

  byId(id: string): Promise<InstitutionRow | null> {
    return this.ds.getRepository(InstitutionRow).findOneBy({ id });
  }

  byCreditCode(creditCode: string): Promise<InstitutionRow | null> {
    return this.ds.getRepository(InstitutionRow).findOneBy({ creditCode });
  }

  insert(row: InstitutionRow): Promise<unknown> {
    return this.ds.getRepository(InstitutionRow).insert(row);
  }
}

export class ClassRepository {
  constructor(private readonly ds: DataSource) {}

  byId(id: string): Promise<ClassRow | null> {
    return this.ds.getRepository(ClassRow).findOneBy({ id });
  }

  /** Locks the row for a state transition inside the caller's transaction. */
  lockById(manager: EntityManager, id: string): Promise<ClassRow | null> {
    return manager.getRepository(ClassRow).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  insert(row: ClassRow): Promise<unknown> {
    return this.ds.getRepository(ClassRow).insert(row);
  }

  save(manager: EntityManager, row: ClassRow): Promise<ClassRow> {
    return manager.getRepository(ClassRow).save(row);
  }

  /** Keyset page of an institution's classes, limit + 1 rows to tell whether more exist. */
  pageByInstitution(institutionId: string, limit: number, afterId: string | null): Promise<ClassRow[]> {
    const qb = this.ds
      .getRepository(ClassRow)
      .createQueryBuilder('c')
      .where('c.institution_id = :institutionId', { institutionId })
      .orderBy('c.id', 'ASC')
      .limit(limit + 1);
    if (afterId) qb.andWhere('c.id > :afterId', { afterId });
    return qb.getMany();
  }
}
