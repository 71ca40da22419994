import { uuidv7 } from '@vtv/kit';
import type { Queryable } from './sql';

export interface AuditRecord {
  action: string;
  actorId: string | null;
  actorKind: string;
  applicationId?: string | null;
  regionCode?: string | null;
  reason?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditRow {
  action: string;
  actorId: string | null;
  reason: string | null;
  at: Date;
}

/** The append-only trail of every decision, payment and rule change (a trigger refuses edits). */
export class AuditRepository {
  async record(q: Queryable, r: AuditRecord): Promise<void> {
    await q.query(
      `INSERT INTO settlement_audit (id, action, actor_id, actor_kind, application_id, region_code, reason, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
      [
        uuidv7(),
        r.action,
        r.actorId,
        r.actorKind,
        r.applicationId ?? null,
        r.regionCode ?? null,
        r.reason ?? null,
        JSON.stringify(r.details ?? {}),
      ],
    );
  }

  async forApplication(q: Queryable, applicationId: string): Promise<AuditRow[]> {
    const rows: { action: string; actor_id: string | null; reason: string | null; at: Date }[] =
      await q.query(
        'SELECT action, actor_id, reason, at FROM settlement_audit WHERE application_id = $1 ORDER BY at, id',
        [applicationId],
      );
    return rows.map((r) => ({ action: r.action, actorId: r.actor_id, reason: r.reason, at: r.at }));
  }
}
