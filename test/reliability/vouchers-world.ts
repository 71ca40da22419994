/**
 * A small vouchers world for the reliability tests: one active institution with an enabled operator, a
 * general template open for claims in 江岸区, and helpers for holders, QR tokens and redemptions. Built on
 * the vouchers subgraph's own test harness (real PostgreSQL, Redis and Kafka).
 */
import { uuidv7, type Caller } from '@vtv/kit';
import {
  eventually,
  facts,
  person,
  staff,
  startHarness,
  type Harness,
} from '../../services/vouchers/test/harness';

export { eventually, person, staff };
export type { Harness };

export const TYPE = '岗位技能提升培训';
export const WUHAN = staff('420100', ['vouchers:issue', 'vouchers:read', 'vouchers:invalidate']);

export interface World {
  h: Harness;
  institutionId: string;
  operatorId: string;
  /** A fresh general template (its own stock and claim markers). */
  template(quantity?: number): Promise<string>;
  /** A person with an e-SSC in 江岸区 (eligible to claim). */
  holder(): Promise<Caller>;
  claim(caller: Caller, templateId: string, key?: string): Promise<string>;
  /** A fresh dynamic QR token for the holder's voucher. */
  token(voucherId: string, holderId: string): string;
  stop(): Promise<void>;
}

export async function startWorld(prefix: string, env: Record<string, string> = {}): Promise<World> {
  const h = await startHarness(prefix, env);
  const institutionId = uuidv7();
  const operatorId = uuidv7();
  await h.publish(facts.institution(institutionId, '420102'), facts.operator(institutionId, operatorId));
  await eventually(async () =>
    (await h.services.deps.repos.projections.operator(institutionId, operatorId)) ? true : undefined,
  );
  return {
    h,
    institutionId,
    operatorId,
    async template(quantity = 10_000) {
      const t = await h.services.templates.create(WUHAN, {
        name: '武汉市岗位技能提升培训券',
        trainingType: TYPE,
        faceValueFen: 120_000,
        quantity,
        claimEndsAt: new Date(Date.now() + 3600_000).toISOString(),
        validityType: 'DAYS_AFTER_CLAIM',
        validDays: 30,
      });
      return t.id;
    },
    async holder() {
      const id = uuidv7();
      await h.sql(`INSERT INTO people (person_id, region_code, birth_year) VALUES ($1, '420102', 1990)`, [
        id,
      ]);
      return person(id);
    },
    async claim(caller, templateId, key) {
      return h.services.claims.claim(caller, templateId, await h.proof(caller.id!, 'CLAIM_VOUCHER'), key);
    },
    token: (voucherId, holderId) => h.services.deps.qr.issue(voucherId, holderId).token,
    stop: () => h.stop(),
  };
}

export async function count(h: Harness, text: string, params: unknown[] = []): Promise<number> {
  const rows = await h.sql<{ n: number }>(text, params);
  return Number(rows[0]!.n);
}

/** The invariants of TESTING.md over every voucher of the given templates, straight from the tables. */
export async function invariantViolations(h: Harness, templateIds: string[]): Promise<string[]> {
  const out: string[] = [];
  const rows = await h.sql<{ id: string; state: string; used: number; settled: number }>(
    `SELECT v.id, v.state,
            (SELECT count(*)::int FROM voucher_transitions t WHERE t.voucher_id = v.id AND t.to_state = 'USED') AS used,
            (SELECT count(*)::int FROM voucher_transitions t WHERE t.voucher_id = v.id AND t.to_state = 'SETTLED') AS settled
       FROM vouchers v WHERE v.template_id = ANY($1::uuid[])`,
    [templateIds],
  );
  for (const r of rows) {
    if (r.used > 1) out.push(`${r.id}: used ${r.used} times`);
    if (r.settled > 1) out.push(`${r.id}: settled ${r.settled} times`);
    if (r.settled > 0 && r.used === 0) out.push(`${r.id}: settled without being used`);
    if (r.state === 'SETTLED' && r.settled !== 1) out.push(`${r.id}: SETTLED without a transition`);
    if (r.state === 'USED' && r.used !== 1) out.push(`${r.id}: USED without a transition`);
  }
  const dup = await h.sql<{ holder_person_id: string; n: number }>(
    `SELECT holder_person_id, count(*)::int AS n FROM vouchers WHERE template_id = ANY($1::uuid[])
      GROUP BY template_id, holder_person_id HAVING count(*) > 1`,
    [templateIds],
  );
  for (const d of dup) out.push(`${d.holder_person_id}: ${d.n} vouchers of one template`);
  return out;
}
