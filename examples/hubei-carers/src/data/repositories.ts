import type { DataSource, EntityManager } from 'typeorm';
import { CarerRow, ProgrammeClassRow } from './entities';

export class ProgrammeRepository {
  constructor(private readonly ds: DataSource) {}

  classById(classId: string): Promise<ProgrammeClassRow | null> {
    return this.ds.getRepository(ProgrammeClassRow).findOneBy({ classId });
  }

  async upsertClass(row: ProgrammeClassRow): Promise<void> {
    await this.ds.getRepository(ProgrammeClassRow).upsert(row, ['classId']);
  }

  carer(personId: string): Promise<CarerRow | null> {
    return this.ds.getRepository(CarerRow).findOneBy({ personId });
  }

  async upsertCarer(row: CarerRow): Promise<void> {
    await this.ds.getRepository(CarerRow).upsert(row, ['personId']);
  }

  /** Marks a registered carer certified (first certification wins); inside the consumer's transaction. */
  async certify(manager: EntityManager, personId: string, at: Date): Promise<void> {
    await manager.query('UPDATE carers SET certified_at = $2 WHERE person_id = $1 AND certified_at IS NULL', [
      personId,
      at,
    ]);
  }

  isDesignated(manager: EntityManager, classId: string): Promise<boolean> {
    return manager.getRepository(ProgrammeClassRow).existsBy({ classId });
  }
}
