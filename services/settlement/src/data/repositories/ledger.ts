import { uuidv7 } from '@vtv/kit';
import { fenFromDb } from '../../domain/money';
import type { Queryable } from './sql';

export type AccountKind = 'FUNDING' | 'BUDGET_AVAILABLE' | 'COMMITTED' | 'PAID';
export type EntryKind = 'ALLOCATION' | 'COMMITMENT' | 'PAYMENT';

export const ACCOUNT_KINDS: readonly AccountKind[] = ['BUDGET_AVAILABLE', 'COMMITTED', 'FUNDING', 'PAID'];

export interface PostingLine {
  account: AccountKind;
  /** Signed fen: debit positive, credit negative. */
  amountFen: bigint;
  institutionId?: string | null;
}

export interface NewEntry {
  regionCode: string;
  kind: EntryKind;
  applicationId?: string | null;
  memo?: string | null;
  actorId?: string | null;
  lines: PostingLine[];
}

export type Balances = Record<AccountKind, bigint>;

const zero = (): Balances => ({ FUNDING: 0n, BUDGET_AVAILABLE: 0n, COMMITTED: 0n, PAID: 0n });

/**
 * The budget ledger: four accounts per budget-holding region, journal entries whose lines sum to zero
 * (checked again by a deferred trigger at commit), balances always derived from the lines.
 */
export class LedgerRepository {
  /**
   * Creates the region's accounts if needed and locks them (in one fixed order, so two writers never
   * deadlock): every ledger write of a region is serialized behind this.
   */
  async lockAccounts(q: Queryable, regionCode: string): Promise<Record<AccountKind, string>> {
    await q.query(
      `INSERT INTO ledger_accounts (id, region_code, kind)
       SELECT u.id, $1, u.kind FROM unnest($2::uuid[], $3::text[]) AS u(id, kind)
       ON CONFLICT (region_code, kind) DO NOTHING`,
      [regionCode, ACCOUNT_KINDS.map(() => uuidv7()), ACCOUNT_KINDS],
    );
    const rows: { id: string; kind: AccountKind }[] = await q.query(
      'SELECT id, kind FROM ledger_accounts WHERE region_code = $1 ORDER BY kind FOR UPDATE',
      [regionCode],
    );
    return Object.fromEntries(rows.map((r) => [r.kind, r.id])) as Record<AccountKind, string>;
  }

  /** The nearest of `regionCodes` (nearest first) that holds a budget (has ever been allocated one). */
  async nearestBudgetRegion(q: Queryable, regionCodes: string[]): Promise<string | null> {
    const rows: { region_code: string }[] = await q.query(
      `SELECT DISTINCT e.region_code FROM journal_entries e
        WHERE e.kind = 'ALLOCATION' AND e.region_code = ANY($1::bpchar[])`,
      [regionCodes],
    );
    const holding = new Set(rows.map((r) => r.region_code));
    return regionCodes.find((c) => holding.has(c)) ?? null;
  }

  async post(q: Queryable, e: NewEntry, accounts: Record<AccountKind, string>): Promise<string> {
    let sum = 0n;
    for (const l of e.lines) sum += l.amountFen;
    if (sum !== 0n || e.lines.length < 2) throw new Error('A journal entry must balance');
    const id = uuidv7();
    await q.query(
      `INSERT INTO journal_entries (id, region_code, kind, application_id, memo, actor_id)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [id, e.regionCode, e.kind, e.applicationId ?? null, e.memo ?? null, e.actorId ?? null],
    );
    await q.query(
      `INSERT INTO journal_lines (entry_id, account_id, amount_fen, institution_id)
       SELECT $1, u.account_id, u.amount_fen, u.institution_id
         FROM unnest($2::uuid[], $3::bigint[], $4::uuid[]) AS u(account_id, amount_fen, institution_id)`,
      [
        id,
        e.lines.map((l) => accounts[l.account]),
        e.lines.map((l) => l.amountFen.toString()),
        e.lines.map((l) => l.institutionId ?? null),
      ],
    );
    return id;
  }

  /** Balances of one region's accounts, from the lines. */
  async balances(q: Queryable, regionCode: string): Promise<Balances> {
    const rows: { kind: AccountKind; balance: string }[] = await q.query(
      `SELECT a.kind, coalesce(sum(l.amount_fen), 0)::text AS balance
         FROM ledger_accounts a LEFT JOIN journal_lines l ON l.account_id = a.id
        WHERE a.region_code = $1 GROUP BY a.kind`,
      [regionCode],
    );
    const b = zero();
    for (const r of rows) b[r.kind] = fenFromDb(r.balance) ?? 0n;
    return b;
  }

  /** Balances of every budget-holding region inside a subtree, by region code. */
  async balancesInSubtree(q: Queryable, regionPrefix: string): Promise<Map<string, Balances>> {
    const rows: { region_code: string; kind: AccountKind; balance: string }[] = await q.query(
      `SELECT a.region_code, a.kind, coalesce(sum(l.amount_fen), 0)::text AS balance
         FROM ledger_accounts a LEFT JOIN journal_lines l ON l.account_id = a.id
        WHERE a.region_code LIKE $1 || '%' GROUP BY a.region_code, a.kind ORDER BY a.region_code`,
      [regionPrefix],
    );
    const out = new Map<string, Balances>();
    for (const r of rows) {
      const b = out.get(r.region_code) ?? zero();
      b[r.kind] = fenFromDb(r.balance) ?? 0n;
      out.set(r.region_code, b);
    }
    return out;
  }

  /** Sum of every line of the subtree's accounts: zero, or the ledger is broken. */
  async trialBalance(q: Queryable, regionPrefix: string): Promise<bigint> {
    const [row]: { total: string }[] = await q.query(
      `SELECT coalesce(sum(l.amount_fen), 0)::text AS total
         FROM journal_lines l JOIN ledger_accounts a ON a.id = l.account_id
        WHERE a.region_code LIKE $1 || '%'`,
      [regionPrefix],
    );
    return fenFromDb(row?.total ?? '0') ?? 0n;
  }

  /** Entries that do not balance (should always be empty). */
  async unbalancedEntries(q: Queryable): Promise<string[]> {
    const rows: { entry_id: string }[] = await q.query(
      'SELECT entry_id FROM journal_lines GROUP BY entry_id HAVING sum(amount_fen) <> 0',
    );
    return rows.map((r) => r.entry_id);
  }

  /**
   * Outstanding commitments and payments per institution for applications inside a region subtree,
   * one keyset page (limit + 1 rows) by institution id.
   */
  async institutionTotals(
    q: Queryable,
    regionPrefix: string,
    afterInstitutionId: string | null,
    limit: number,
  ): Promise<{ institutionId: string; committedFen: bigint; paidFen: bigint }[]> {
    const rows: { institution_id: string; committed: string; paid: string }[] = await q.query(
      `SELECT l.institution_id,
              coalesce(sum(l.amount_fen) FILTER (WHERE a.kind = 'COMMITTED'), 0)::text AS committed,
              coalesce(sum(l.amount_fen) FILTER (WHERE a.kind = 'PAID'), 0)::text AS paid
         FROM journal_lines l
         JOIN ledger_accounts a ON a.id = l.account_id
         JOIN journal_entries e ON e.id = l.entry_id
         JOIN subsidy_applications app ON app.id = e.application_id
        WHERE l.institution_id IS NOT NULL AND a.kind IN ('COMMITTED', 'PAID')
          AND app.region_code LIKE $1 || '%' AND ($2::uuid IS NULL OR l.institution_id > $2)
        GROUP BY l.institution_id ORDER BY l.institution_id LIMIT $3`,
      [regionPrefix, afterInstitutionId, limit + 1],
    );
    return rows.map((r) => ({
      institutionId: r.institution_id,
      committedFen: fenFromDb(r.committed) ?? 0n,
      paidFen: fenFromDb(r.paid) ?? 0n,
    }));
  }
}
