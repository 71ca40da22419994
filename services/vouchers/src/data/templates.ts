import type { DataSource, EntityManager } from 'typeorm';
import { TemplateRow } from './entities';
import { hydrate, returned, subtreeContains } from './hydrate';

export class TemplateRepository {
  constructor(private readonly ds: DataSource) {}

  byId(id: string, manager: EntityManager = this.ds.manager): Promise<TemplateRow | null> {
    return manager.getRepository(TemplateRow).findOneBy({ id });
  }

  async insert(manager: EntityManager, row: TemplateRow): Promise<void> {
    await manager.getRepository(TemplateRow).insert(row);
  }

  async close(
    manager: EntityManager,
    id: string,
    by: string,
    reason: string,
    at: Date,
  ): Promise<TemplateRow | null> {
    const result = await manager.query(
      `UPDATE voucher_templates SET state = 'CLOSED', closed_at = $2, closed_by = $3, close_reason = $4
       WHERE id = $1 AND state = 'ACTIVE' RETURNING *`,
      [id, at, by, reason],
    );
    const row = returned(result)[0];
    return row ? hydrate(manager, TemplateRow, row) : null;
  }

  /**
   * Takes one unit of the template's quantity, or refuses (false) when none is left, the template is
   * closed or its window is shut. Run last in the claim's transaction so the row lock is held only
   * for the commit.
   */
  async takeOne(manager: EntityManager, id: string, at: Date): Promise<boolean> {
    const result = await manager.query(
      `UPDATE voucher_templates SET claimed = claimed + 1
       WHERE id = $1 AND state = 'ACTIVE' AND claimed < quantity AND claim_starts_at <= $2 AND claim_ends_at > $2`,
      [id, at],
    );
    return Number(Array.isArray(result) ? result[1] : 0) === 1;
  }

  async remaining(id: string): Promise<number> {
    const rows: { remaining: number }[] = await this.ds.query(
      'SELECT quantity - claimed AS remaining FROM voucher_templates WHERE id = $1',
      [id],
    );
    return rows[0]?.remaining ?? 0;
  }

  pageInRegion(prefix: string, limit: number, afterId: string | null): Promise<TemplateRow[]> {
    const qb = this.ds
      .getRepository(TemplateRow)
      .createQueryBuilder('t')
      .where('t.region_code LIKE :prefix', { prefix: `${prefix}%` })
      .orderBy('t.id', 'ASC')
      .limit(limit + 1);
    if (afterId) qb.andWhere('t.id > :afterId', { afterId });
    return qb.getMany();
  }

  /** Templates open for claims now whose eligible region contains the person's region (领券中心). */
  async claimableFor(
    personRegion: string,
    at: Date,
    limit: number,
    afterId: string | null,
  ): Promise<TemplateRow[]> {
    const rows = await this.ds.query(
      `SELECT * FROM voucher_templates
       WHERE state = 'ACTIVE' AND claim_starts_at <= $2 AND claim_ends_at > $2
         AND ${subtreeContains('eligible_region_code', '$1')}
         AND ($3::uuid IS NULL OR id > $3)
       ORDER BY id LIMIT $4`,
      [personRegion, at, afterId, limit + 1],
    );
    return rows.map((r: Record<string, unknown>) => hydrate(this.ds.manager, TemplateRow, r));
  }

  /** Adds people to the template's audience; returns those newly added. */
  async addAudience(manager: EntityManager, id: string, personIds: string[]): Promise<string[]> {
    const rows: { person_id: string }[] = await manager.query(
      `INSERT INTO voucher_template_audience (template_id, person_id)
       SELECT $1, p FROM unnest($2::uuid[]) AS p ON CONFLICT DO NOTHING RETURNING person_id`,
      [id, personIds],
    );
    return rows.map((r) => r.person_id);
  }

  async inAudience(id: string, personId: string): Promise<boolean> {
    const rows = await this.ds.query(
      'SELECT 1 FROM voucher_template_audience WHERE template_id = $1 AND person_id = $2',
      [id, personId],
    );
    return rows.length > 0;
  }
}
