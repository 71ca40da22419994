import { uuidv7 } from '@vtv/kit';
import { fenFromDb } from '../../domain/money';
import type { ReviewMode } from '../entities';
import { fenParam, type Queryable } from './sql';

export interface ReviewRuleRow {
  regionCode: string;
  mode: ReviewMode;
  updatedBy: string;
  updatedAt: Date;
}

export interface SubsidyStandardRow {
  id: string;
  regionCode: string;
  trainingType: string;
  level: string;
  amountFen: bigint;
  updatedBy: string;
  updatedAt: Date;
}

interface StandardDbRow {
  id: string;
  region_code: string;
  training_type: string;
  level: string;
  amount_fen: string;
  updated_by: string;
  updated_at: Date;
}

const toStandard = (r: StandardDbRow): SubsidyStandardRow => ({
  id: r.id,
  regionCode: r.region_code,
  trainingType: r.training_type,
  level: r.level,
  amountFen: fenFromDb(r.amount_fen) ?? 0n,
  updatedBy: r.updated_by,
  updatedAt: r.updated_at,
});

/** Review rules and subsidy standards, both defined per region and inherited down the tree. */
export class RulesRepository {
  /** Rules defined for any of `regionCodes`. */
  async reviewRules(q: Queryable, regionCodes: string[]): Promise<ReviewRuleRow[]> {
    const rows: { region_code: string; mode: ReviewMode; updated_by: string; updated_at: Date }[] =
      await q.query('SELECT * FROM review_rules WHERE region_code = ANY($1::bpchar[])', [regionCodes]);
    return rows.map((r) => ({
      regionCode: r.region_code,
      mode: r.mode,
      updatedBy: r.updated_by,
      updatedAt: r.updated_at,
    }));
  }

  async setReviewRule(q: Queryable, regionCode: string, mode: ReviewMode, actorId: string): Promise<void> {
    await q.query(
      `INSERT INTO review_rules (region_code, mode, updated_by) VALUES ($1, $2, $3)
       ON CONFLICT (region_code) DO UPDATE SET mode = EXCLUDED.mode, updated_by = EXCLUDED.updated_by,
         updated_at = now()`,
      [regionCode, mode, actorId],
    );
  }

  /** Standards defined for any of `regionCodes`, optionally of one training type. */
  async standards(q: Queryable, regionCodes: string[], trainingType?: string): Promise<SubsidyStandardRow[]> {
    const rows: StandardDbRow[] = await q.query(
      `SELECT * FROM subsidy_standards WHERE region_code = ANY($1::bpchar[]) AND ($2::text IS NULL OR training_type = $2)
        ORDER BY region_code DESC, training_type, level`,
      [regionCodes, trainingType ?? null],
    );
    return rows.map(toStandard);
  }

  async standardById(q: Queryable, id: string): Promise<SubsidyStandardRow | null> {
    const rows: StandardDbRow[] = await q.query('SELECT * FROM subsidy_standards WHERE id = $1', [id]);
    return rows[0] ? toStandard(rows[0]) : null;
  }

  async upsertStandard(
    q: Queryable,
    s: { regionCode: string; trainingType: string; level: string; amountFen: bigint; actorId: string },
  ): Promise<SubsidyStandardRow> {
    const rows: StandardDbRow[] = await q.query(
      `INSERT INTO subsidy_standards (id, region_code, training_type, level, amount_fen, updated_by)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (region_code, training_type, level) DO UPDATE SET amount_fen = EXCLUDED.amount_fen,
         updated_by = EXCLUDED.updated_by, updated_at = now()
       RETURNING *`,
      [uuidv7(), s.regionCode, s.trainingType, s.level, fenParam(s.amountFen), s.actorId],
    );
    return toStandard(rows[0]!);
  }

  async deleteStandard(q: Queryable, id: string): Promise<void> {
    await q.query('DELETE FROM subsidy_standards WHERE id = $1', [id]);
  }
}
