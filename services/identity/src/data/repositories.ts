import type { DataSource } from 'typeorm';
import { PersonRow, RegionRow } from './entities';

export class RegionRepository {
  constructor(private readonly ds: DataSource) {}

  byCode(code: string): Promise<RegionRow | null> {
    return this.ds.getRepository(RegionRow).findOneBy({ code });
  }

  children(parentCode: string | null): Promise<RegionRow[]> {
    const repo = this.ds.getRepository(RegionRow);
    return parentCode === null
      ? repo.createQueryBuilder('r').where('r.parent_code IS NULL').orderBy('r.code').getMany()
      : repo.find({ where: { parentCode }, order: { code: 'ASC' } });
  }
}

export class PersonRepository {
  constructor(private readonly ds: DataSource) {}

  byId(id: string): Promise<PersonRow | null> {
    return this.ds.getRepository(PersonRow).findOneBy({ id });
  }
}
