import type { DataSource, EntityManager } from 'typeorm';
import { FaceValueRuleRow, IssuanceRuleRow, QuotaTargetRow } from './entities';
import { hydrate } from './hydrate';

export class RuleRepository {
  constructor(private readonly ds: DataSource) {}

  issuanceRules(regionCodes: string[]): Promise<IssuanceRuleRow[]> {
    return this.ds
      .getRepository(IssuanceRuleRow)
      .createQueryBuilder('r')
      .where('r.region_code IN (:...codes)', { codes: regionCodes })
      .getMany();
  }

  async upsertIssuanceRule(
    manager: EntityManager,
    r: Omit<IssuanceRuleRow, 'updatedAt'>,
  ): Promise<IssuanceRuleRow> {
    const rows = await manager.query(
      `INSERT INTO issuance_rules (region_code, review_mode, flow, validity_end, updated_by, updated_at)
       VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (region_code) DO UPDATE SET review_mode = EXCLUDED.review_mode, flow = EXCLUDED.flow,
         validity_end = EXCLUDED.validity_end, updated_by = EXCLUDED.updated_by, updated_at = now()
       RETURNING *`,
      [r.regionCode, r.reviewMode, r.flow, r.validityEnd, r.updatedBy],
    );
    return hydrate(manager, IssuanceRuleRow, rows[0]);
  }

  async deleteIssuanceRule(manager: EntityManager, regionCode: string): Promise<boolean> {
    const result = await manager.query('DELETE FROM issuance_rules WHERE region_code = $1', [regionCode]);
    return Number(result[1] ?? 0) > 0;
  }

  /** Face-value rules for one training type along a region chain. */
  faceValueRules(regionCodes: string[], trainingType: string): Promise<FaceValueRuleRow[]> {
    return this.ds
      .getRepository(FaceValueRuleRow)
      .createQueryBuilder('r')
      .where('r.region_code IN (:...codes)', { codes: regionCodes })
      .andWhere('r.training_type = :trainingType', { trainingType })
      .getMany();
  }

  /** The face-value rules a region sets itself (its configuration page). */
  faceValueRulesAt(regionCode: string): Promise<FaceValueRuleRow[]> {
    return this.ds
      .getRepository(FaceValueRuleRow)
      .find({ where: { regionCode }, order: { trainingType: 'ASC' } });
  }

  faceValueRule(id: string): Promise<FaceValueRuleRow | null> {
    return this.ds.getRepository(FaceValueRuleRow).findOneBy({ id });
  }

  async upsertFaceValueRule(
    manager: EntityManager,
    r: Omit<FaceValueRuleRow, 'updatedAt'>,
  ): Promise<FaceValueRuleRow> {
    const rows = await manager.query(
      `INSERT INTO face_value_rules (id, region_code, training_type, function_mode, certificate_type,
         certificate_level, subsidy_amount_fen, valid_from, valid_to, shortage_occupation, remark,
         eligible_population, updated_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (region_code, training_type) DO UPDATE SET function_mode = EXCLUDED.function_mode,
         certificate_type = EXCLUDED.certificate_type, certificate_level = EXCLUDED.certificate_level,
         subsidy_amount_fen = EXCLUDED.subsidy_amount_fen, valid_from = EXCLUDED.valid_from,
         valid_to = EXCLUDED.valid_to, shortage_occupation = EXCLUDED.shortage_occupation,
         remark = EXCLUDED.remark, eligible_population = EXCLUDED.eligible_population,
         updated_by = EXCLUDED.updated_by, updated_at = now()
       RETURNING *`,
      [
        r.id,
        r.regionCode,
        r.trainingType,
        r.functionMode,
        r.certificateType,
        r.certificateLevel,
        r.subsidyAmountFen,
        r.validFrom,
        r.validTo,
        r.shortageOccupation,
        r.remark,
        r.eligiblePopulation,
        r.updatedBy,
      ],
    );
    return hydrate(manager, FaceValueRuleRow, rows[0]);
  }

  async deleteFaceValueRule(manager: EntityManager, id: string): Promise<void> {
    await manager.query('DELETE FROM face_value_rules WHERE id = $1', [id]);
  }

  quotas(year: number, regionCodes: string[]): Promise<QuotaTargetRow[]> {
    if (regionCodes.length === 0) return Promise.resolve([]);
    return this.ds
      .getRepository(QuotaTargetRow)
      .createQueryBuilder('q')
      .where('q.year = :year', { year })
      .andWhere('q.region_code IN (:...codes)', { codes: regionCodes })
      .getMany();
  }

  /** Targets of the regions strictly inside `prefix`'s subtree (for children sums). */
  quotasUnder(year: number, prefix: string, exclude: string): Promise<QuotaTargetRow[]> {
    return this.ds
      .getRepository(QuotaTargetRow)
      .createQueryBuilder('q')
      .where('q.year = :year', { year })
      .andWhere('q.region_code LIKE :prefix', { prefix: `${prefix}%` })
      .andWhere('q.region_code <> :exclude', { exclude })
      .getMany();
  }

  async upsertQuota(manager: EntityManager, q: Omit<QuotaTargetRow, 'updatedAt'>): Promise<QuotaTargetRow> {
    const rows = await manager.query(
      `INSERT INTO quota_targets (year, region_code, issued_target, used_target, source, updated_by)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (year, region_code) DO UPDATE SET issued_target = EXCLUDED.issued_target,
         used_target = EXCLUDED.used_target, source = EXCLUDED.source, updated_by = EXCLUDED.updated_by,
         updated_at = now()
       RETURNING *`,
      [q.year, q.regionCode, q.issuedTarget, q.usedTarget, q.source, q.updatedBy],
    );
    return hydrate(manager, QuotaTargetRow, rows[0]);
  }
}
