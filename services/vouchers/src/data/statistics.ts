import type { DataSource } from 'typeorm';

export interface FactCounts {
  issued: number;
  claimed: number;
  used: number;
  settled: number;
  expired: number;
  invalidated: number;
  issuedFaceValueFen: number;
  usedFaceValueFen: number;
  settledFaceValueFen: number;
}

export interface FactGroup extends FactCounts {
  dimension: 'TOTAL' | 'CHILD' | 'INSTITUTION' | 'TRAINING_TYPE' | 'MONTH';
  key: string | null;
}

const DIMENSIONS = ['child', 'institution_id', 'training_type', 'month'] as const;

/**
 * Statistics read the transition log as a fact table: one row per lifecycle fact (to HELD = issued or
 * claimed, to USED, SETTLED, EXPIRED, INVALIDATED) with its region, time and dimensions. One pass over
 * the (region prefix, time) index range with GROUPING SETS yields the total and every breakdown.
 */
export class StatisticsRepository {
  constructor(private readonly ds: DataSource) {}

  async facts(prefix: string, childLength: 4 | 6 | null, start: Date, end: Date): Promise<FactGroup[]> {
    // Children of a province are cities (4-digit prefix + "00"), of a city its counties (the full code).
    const child =
      childLength === 4
        ? `left(region_code, 4) || '00'`
        : childLength === 6
          ? 'region_code::text'
          : 'NULL::text';
    const rows: Record<string, string | number | null>[] = await this.ds.query(
      `SELECT child, institution_id::text AS institution_id, training_type, month,
              GROUPING(child, institution_id, training_type, month) AS g,
              count(*) FILTER (WHERE to_state = 'HELD') AS issued,
              count(*) FILTER (WHERE to_state = 'HELD' AND kind = 'GENERAL') AS claimed,
              count(*) FILTER (WHERE to_state = 'USED') AS used,
              count(*) FILTER (WHERE to_state = 'SETTLED') AS settled,
              count(*) FILTER (WHERE to_state = 'EXPIRED') AS expired,
              count(*) FILTER (WHERE to_state = 'INVALIDATED') AS invalidated,
              coalesce(sum(face_value_fen) FILTER (WHERE to_state = 'HELD'), 0) AS issued_fen,
              coalesce(sum(face_value_fen) FILTER (WHERE to_state = 'USED'), 0) AS used_fen,
              coalesce(sum(face_value_fen) FILTER (WHERE to_state = 'SETTLED'), 0) AS settled_fen
       FROM (SELECT ${child} AS child, institution_id, training_type,
                    to_char(at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month,
                    to_state, kind, face_value_fen
             FROM voucher_transitions
             WHERE region_code LIKE $1 AND at >= $2 AND at < $3) f
       GROUP BY GROUPING SETS ((), (child), (institution_id), (training_type), (month))`,
      [`${prefix}%`, start, end],
    );
    return rows.map((r) => {
      // GROUPING() sets a bit for each column *not* grouped: 15 = total; 7 = child … 14 = month.
      const g = Number(r.g);
      const which = DIMENSIONS.findIndex((_, i) => g === 15 - (1 << (3 - i)));
      const dimension =
        g === 15 ? 'TOTAL' : (['CHILD', 'INSTITUTION', 'TRAINING_TYPE', 'MONTH'] as const)[which]!;
      const key = which >= 0 ? (r[DIMENSIONS[which]!] as string | null) : null;
      return {
        dimension,
        key,
        issued: Number(r.issued),
        claimed: Number(r.claimed),
        used: Number(r.used),
        settled: Number(r.settled),
        expired: Number(r.expired),
        invalidated: Number(r.invalidated),
        issuedFaceValueFen: Number(r.issued_fen),
        usedFaceValueFen: Number(r.used_fen),
        settledFaceValueFen: Number(r.settled_fen),
      };
    });
  }

  /** Vouchers held right now (a stock, not a flow) in the subtree. */
  async currentlyHeld(prefix: string): Promise<number> {
    const rows: { n: number }[] = await this.ds.query(
      `SELECT count(*)::int AS n FROM vouchers WHERE region_code LIKE $1 AND state = 'HELD'`,
      [`${prefix}%`],
    );
    return rows[0]?.n ?? 0;
  }
}
