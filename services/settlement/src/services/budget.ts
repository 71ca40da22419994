import {
  badInput,
  isUuid,
  parsePage,
  regionPrefix,
  toConnection,
  DomainError,
  type Caller,
  type Connection,
  type DataSource,
  type PageArgs,
} from '@vtv/kit';
import type { SubsidyApplicationState } from '../data/entities';
import type {
  AuditRepository,
  Balances,
  LedgerRepository,
  SubsidyApplicationRepository,
} from '../data/repositories';
import { MAX_FEN, requireAmount } from '../domain/money';
import { SETTLEMENT_BUDGET_WRITE } from '../permissions';
import { requireRegionArg, requireStaff, staffScope } from './access';
import { moneyTransaction } from './transactions';

/** One allocation may add at most 100,000,000,000.00 yuan. */
export const MAX_ALLOCATION_FEN = 10_000_000_000_000n;

export interface BudgetBalance {
  regionCode: string;
  allocatedFen: bigint;
  committedFen: bigint;
  paidFen: bigint;
  availableFen: bigint;
}

export interface BudgetReport {
  regionCode: string;
  total: BudgetBalance;
  regions: BudgetBalance[];
  trialBalanceFen: bigint;
}

function toBalance(regionCode: string, b: Balances): BudgetBalance {
  return {
    regionCode,
    allocatedFen: -b.FUNDING,
    committedFen: b.COMMITTED,
    paidFen: b.PAID,
    availableFen: b.BUDGET_AVAILABLE,
  };
}

/**
 * Training-subsidy budgets (培训补贴资金) as double-entry accounts per region:
 *   allocation  Dr BUDGET_AVAILABLE  Cr FUNDING
 *   approval    Dr COMMITTED         Cr BUDGET_AVAILABLE
 *   payment     Dr PAID              Cr COMMITTED
 * Balances come from the lines; every entry sums to zero, so the whole ledger does.
 */
export class BudgetService {
  constructor(
    private readonly ds: DataSource,
    private readonly ledger: LedgerRepository,
    private readonly applications: SubsidyApplicationRepository,
    private readonly audit: AuditRepository,
  ) {}

  /** Adds to a region's budget; returns the region code. */
  async allocate(
    caller: Caller,
    idempotencyKey: string | undefined,
    input: { regionCode: string; amountFen: bigint; memo?: string | null },
  ): Promise<string> {
    const staff = requireStaff(caller, SETTLEMENT_BUDGET_WRITE);
    const regionCode = requireRegionArg(staff.region, input.regionCode);
    const amount = requireAmount('amountFen', input.amountFen, MAX_ALLOCATION_FEN);
    const memo = input.memo?.trim() || null;
    if (memo !== null && memo.length > 200) throw badInput('memo', 'memo must be at most 200 characters');
    return moneyTransaction(
      this.ds,
      {
        key: idempotencyKey,
        scope: `settlement.budget:${staff.id}`,
        input: { regionCode, amount: amount.toString(), memo },
      },
      async (m) => {
        const accounts = await this.ledger.lockAccounts(m, regionCode);
        const before = await this.ledger.balances(m, regionCode);
        if (-before.FUNDING + amount > MAX_FEN)
          throw new DomainError(
            'AMOUNT_OUT_OF_RANGE',
            'The region’s total allocation would exceed what the ledger holds exactly',
            'amountFen',
          );
        await this.ledger.post(
          m,
          {
            regionCode,
            kind: 'ALLOCATION',
            actorId: staff.id,
            memo,
            lines: [
              { account: 'BUDGET_AVAILABLE', amountFen: amount },
              { account: 'FUNDING', amountFen: -amount },
            ],
          },
          accounts,
        );
        await this.audit.record(m, {
          action: 'BUDGET_ALLOCATED',
          actorId: staff.id,
          actorKind: 'staff',
          regionCode,
          reason: memo,
          details: { amountFen: amount.toString() },
        });
        return regionCode;
      },
    );
  }

  async balanceOf(regionCode: string): Promise<BudgetBalance> {
    return toBalance(regionCode, await this.ledger.balances(this.ds, regionCode));
  }

  /** Paid, committed and remaining budget of a region subtree, per budget-holding region and in total. */
  async report(caller: Caller, regionCode: string): Promise<BudgetReport | null> {
    const scope = staffScope(caller);
    if (!scope) return null;
    const region = requireRegionArg(scope, regionCode);
    const prefix = regionPrefix(region);
    const [byRegion, trial] = await Promise.all([
      this.ledger.balancesInSubtree(this.ds, prefix),
      this.ledger.trialBalance(this.ds, prefix),
    ]);
    const regions = [...byRegion].map(([code, b]) => toBalance(code, b));
    const total: BudgetBalance = {
      regionCode: region,
      allocatedFen: 0n,
      committedFen: 0n,
      paidFen: 0n,
      availableFen: 0n,
    };
    for (const r of regions) {
      total.allocatedFen += r.allocatedFen;
      total.committedFen += r.committedFen;
      total.paidFen += r.paidFen;
      total.availableFen += r.availableFen;
    }
    return { regionCode: region, total, regions, trialBalanceFen: trial };
  }

  async institutionTotals(
    caller: Caller,
    regionCode: string,
    args: PageArgs,
  ): Promise<Connection<{ institutionId: string; committedFen: bigint; paidFen: bigint }> | null> {
    const { limit, afterKey } = parsePage(args);
    if (afterKey !== null && !isUuid(afterKey)) throw badInput('after', 'Invalid cursor');
    const scope = staffScope(caller);
    if (!scope) return null;
    const region = requireRegionArg(scope, regionCode);
    const rows = await this.ledger.institutionTotals(this.ds, regionPrefix(region), afterKey, limit);
    return toConnection(rows, limit, (r) => r.institutionId);
  }

  async countsByState(
    caller: Caller,
    regionCode: string,
  ): Promise<{ state: SubsidyApplicationState; count: number; totalAmountFen: bigint }[] | null> {
    const scope = staffScope(caller);
    if (!scope) return null;
    const region = requireRegionArg(scope, regionCode);
    return this.applications.countByState(regionPrefix(region));
  }
}
