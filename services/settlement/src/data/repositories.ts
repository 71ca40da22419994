import { uuidv7 } from '@vtv/kit';
import type { DataSource } from 'typeorm';
import { DisbursementRow, SubsidyApplicationRow, type SubsidyApplicationState } from './entities';

export interface NewSubsidyApplication {
  id?: string;
  institutionId: string;
  classId: string;
  regionCode: string;
  state?: SubsidyApplicationState;
  totalAmountFen?: number;
  lineCount?: number;
  submittedAt?: Date | null;
}

export interface NewDisbursement {
  id?: string;
  applicationId: string;
  amountFen: number;
  paymentReference: string;
  paidAt: Date;
}

export class SubsidyApplicationRepository {
  constructor(private readonly ds: DataSource) {}

  byId(id: string): Promise<SubsidyApplicationRow | null> {
    return this.ds.getRepository(SubsidyApplicationRow).findOneBy({ id });
  }

  /** A class's applications inside the region subtree with this code prefix, in id (creation) order. */
  byClass(classId: string, regionPrefix: string): Promise<SubsidyApplicationRow[]> {
    return this.ds
      .getRepository(SubsidyApplicationRow)
      .createQueryBuilder('a')
      .where('a.class_id = :classId', { classId })
      .andWhere("a.region_code LIKE :prefix || '%'", { prefix: regionPrefix })
      .orderBy('a.id', 'ASC')
      .getMany();
  }

  /** One keyset page (limit + 1 rows, for hasNextPage) of an institution's applications inside a region subtree. */
  pageByInstitution(
    institutionId: string,
    regionPrefix: string,
    afterId: string | null,
    limit: number,
  ): Promise<SubsidyApplicationRow[]> {
    const qb = this.ds
      .getRepository(SubsidyApplicationRow)
      .createQueryBuilder('a')
      .where('a.institution_id = :institutionId', { institutionId })
      .andWhere("a.region_code LIKE :prefix || '%'", { prefix: regionPrefix });
    if (afterId !== null) qb.andWhere('a.id > :afterId', { afterId });
    return qb
      .orderBy('a.id', 'ASC')
      .limit(limit + 1)
      .getMany();
  }

  async insert(a: NewSubsidyApplication): Promise<SubsidyApplicationRow> {
    const repo = this.ds.getRepository(SubsidyApplicationRow);
    const id = a.id ?? uuidv7();
    await repo.insert({
      id,
      institutionId: a.institutionId,
      classId: a.classId,
      regionCode: a.regionCode,
      state: a.state ?? 'DRAFT',
      totalAmountFen: a.totalAmountFen ?? 0,
      lineCount: a.lineCount ?? 0,
      submittedAt: a.submittedAt ?? null,
    });
    return repo.findOneByOrFail({ id });
  }
}

export class DisbursementRepository {
  constructor(private readonly ds: DataSource) {}

  byId(id: string): Promise<DisbursementRow | null> {
    return this.ds.getRepository(DisbursementRow).findOneBy({ id });
  }

  byApplication(applicationId: string): Promise<DisbursementRow | null> {
    return this.ds.getRepository(DisbursementRow).findOneBy({ applicationId });
  }

  async insert(d: NewDisbursement): Promise<DisbursementRow> {
    const repo = this.ds.getRepository(DisbursementRow);
    const id = d.id ?? uuidv7();
    await repo.insert({
      id,
      applicationId: d.applicationId,
      amountFen: d.amountFen,
      paymentReference: d.paymentReference,
      paidAt: d.paidAt,
    });
    return repo.findOneByOrFail({ id });
  }
}
