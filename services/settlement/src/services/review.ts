import {
  DomainError,
  ErrorCode,
  inRegion,
  isUuid,
  type Caller,
  type DataSource,
  type EntityManager,
} from '@vtv/kit';
import type { SubsidyApplicationRow } from '../data/entities';
import type { AuditRepository, LedgerRepository, SubsidyApplicationRepository } from '../data/repositories';
import { decideLines, type LineDecisionInput } from '../domain/evaluation';
import { sumFen } from '../domain/money';
import { SETTLEMENT_REVIEW } from '../permissions';
import { regionChain, requireStaff } from './access';
import type { SubsidyApplicationService } from './applications';
import { publishTransition } from './outbox';
import { moneyTransaction } from './transactions';

export interface ReviewInput {
  applicationId: string;
  decision: 'APPROVE' | 'REJECT';
  reason?: string | null;
  lines?: LineDecisionInput[] | null;
}

const MAX_REASON = 500;

/**
 * Review (审核) per the rule fixed at submission: SINGLE → one approval; TWO_LEVEL → first review (初审) then
 * a second (复审) by someone else. Approval is partial per trainee; rejection returns the application for
 * correction and frees its vouchers. The final approval commits the approved total against the budget.
 */
export class ReviewService {
  constructor(
    private readonly ds: DataSource,
    private readonly applications: SubsidyApplicationRepository,
    private readonly ledger: LedgerRepository,
    private readonly audit: AuditRepository,
    private readonly applicationService: SubsidyApplicationService,
  ) {}

  /** Reviews under an optional idempotency key; returns the application id. */
  async review(caller: Caller, idempotencyKey: string | undefined, input: ReviewInput): Promise<string> {
    const staff = requireStaff(caller, SETTLEMENT_REVIEW);
    const id = input.applicationId.toLowerCase();
    if (!isUuid(id))
      throw new DomainError(ErrorCode.NOT_FOUND, 'Subsidy application not found', 'applicationId');
    if (input.decision !== 'APPROVE' && input.decision !== 'REJECT')
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'decision must be APPROVE or REJECT', 'decision');
    const reason = input.reason?.trim() || null;
    if (reason !== null && reason.length > MAX_REASON)
      throw new DomainError(
        ErrorCode.BAD_USER_INPUT,
        `reason must be at most ${MAX_REASON} characters`,
        'reason',
      );
    const decisions = (input.lines ?? []).map((d) => ({ ...d, lineId: d.lineId.toLowerCase() }));
    if (decisions.length > this.applicationService.options.maxLines)
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'Too many line decisions', 'lines');
    if (!decisions.every((d) => isUuid(d.lineId)))
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'lineId must be a line id', 'lines');
    if (input.decision === 'REJECT' && reason === null)
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'A rejection needs a reason', 'reason');

    return moneyTransaction(
      this.ds,
      {
        key: idempotencyKey,
        scope: `settlement.review:${staff.id}`,
        input: { id, decision: input.decision, reason, decisions },
      },
      async (m) => {
        const app = await this.applications.lock(m, id);
        if (!app || !inRegion(staff.region, app.regionCode))
          throw new DomainError(ErrorCode.NOT_FOUND, 'Subsidy application not found', 'applicationId');
        if (app.state !== 'SUBMITTED' && app.state !== 'FIRST_APPROVED')
          throw new DomainError(
            ErrorCode.INVALID_STATE,
            `An application in state ${app.state} is not under review`,
          );
        if (app.state === 'FIRST_APPROVED' && app.firstReviewedBy === staff.id)
          throw new DomainError(
            'SAME_REVIEWER',
            'The second review (复审) must be done by someone other than the first reviewer',
          );
        const stage = app.state === 'SUBMITTED' && app.reviewMode === 'TWO_LEVEL' ? 'FIRST' : 'FINAL';
        if (input.decision === 'REJECT') await this.reject(m, app, staff.id, reason!, stage);
        else await this.approve(m, app, staff.id, decisions, stage);
        return app.id;
      },
    );
  }

  private async reject(
    m: EntityManager,
    app: SubsidyApplicationRow,
    reviewer: string,
    reason: string,
    stage: 'FIRST' | 'FINAL',
  ): Promise<void> {
    await this.applications.setHolds(m, app.id, false);
    await this.applications.patch(m, app.id, {
      state: 'REJECTED',
      rejectedBy: reviewer,
      rejectedAt: new Date(),
      rejectionReason: reason,
    });
    await this.audit.record(m, {
      action: 'REJECTED',
      actorId: reviewer,
      actorKind: 'staff',
      applicationId: app.id,
      regionCode: app.regionCode,
      reason,
      details: { stage },
    });
    const fresh = (await this.applications.byId(app.id, m))!;
    await publishTransition(m, fresh, app.state, 'REJECTED', reviewer, reason);
  }

  private async approve(
    m: EntityManager,
    app: SubsidyApplicationRow,
    reviewer: string,
    decisions: LineDecisionInput[],
    stage: 'FIRST' | 'FINAL',
  ): Promise<void> {
    // Decide on today's evidence, not on what it was at submission.
    await this.applicationService.evaluate(m, app);
    const lines = await this.applications.reviewable(m, app.id);
    const outcomes = decideLines(
      lines.map((l) => ({
        id: l.id,
        personId: l.personId,
        amountFen: l.amountFen,
        anomalies: l.anomalies,
        firstDecision:
          stage === 'FINAL' && l.firstDecision
            ? { approve: l.firstDecision === 'APPROVED', reason: l.firstDecisionReason }
            : null,
      })),
      decisions,
    );
    const approved = outcomes.filter((o) => o.decision === 'APPROVED');
    const excluded = outcomes
      .filter((o) => o.decision === 'EXCLUDED')
      .map((o) => ({ id: o.id, reason: o.reason }));
    const total = sumFen(approved.map((o) => o.approvedAmountFen));
    const now = new Date();

    if (stage === 'FIRST') {
      await this.applications.saveFirstDecisions(m, outcomes);
      await this.applications.patch(m, app.id, {
        state: 'FIRST_APPROVED',
        firstReviewedBy: reviewer,
        firstReviewedAt: now,
      });
    } else {
      await this.applications.saveFinalDecisions(m, outcomes);
      const budgetRegion = await this.ledger.nearestBudgetRegion(m, regionChain(app.regionCode));
      if (!budgetRegion)
        throw new DomainError(
          'NO_BUDGET',
          `Neither region ${app.regionCode} nor any region above it holds a training-subsidy budget: allocate one first`,
        );
      const accounts = await this.ledger.lockAccounts(m, budgetRegion);
      await this.ledger.post(
        m,
        {
          regionCode: budgetRegion,
          kind: 'COMMITMENT',
          applicationId: app.id,
          actorId: reviewer,
          memo: `Approval of application ${app.id}`,
          lines: [
            { account: 'COMMITTED', amountFen: total, institutionId: app.institutionId },
            { account: 'BUDGET_AVAILABLE', amountFen: -total, institutionId: app.institutionId },
          ],
        },
        accounts,
      );
      await this.applications.patch(m, app.id, {
        state: 'APPROVED',
        finalReviewedBy: reviewer,
        finalReviewedAt: now,
        approvedAmountFen: total,
        approvedLineCount: approved.length,
        budgetRegionCode: budgetRegion,
      });
    }
    const to = stage === 'FIRST' ? 'FIRST_APPROVED' : 'APPROVED';
    await this.audit.record(m, {
      action: to,
      actorId: reviewer,
      actorKind: 'staff',
      applicationId: app.id,
      regionCode: app.regionCode,
      details: {
        approvedLines: approved.length,
        amountFen: total.toString(),
        excluded: excluded.slice(0, 1000),
        overridden: decisions.filter((d) => d.approve).map((d) => ({ id: d.lineId, reason: d.reason })),
      },
    });
    const fresh = (await this.applications.byId(app.id, m))!;
    await publishTransition(m, fresh, app.state, to, reviewer);
  }

  /** Refreshes the evidence snapshot of an application under review. */
  async reevaluate(caller: Caller, id: string): Promise<string> {
    const staff = requireStaff(caller, SETTLEMENT_REVIEW);
    const notFound = new DomainError(ErrorCode.NOT_FOUND, 'Subsidy application not found', 'id');
    if (!isUuid(id)) throw notFound;
    return this.ds.transaction(async (m) => {
      const app = await this.applications.lock(m, id.toLowerCase());
      if (!app || !inRegion(staff.region, app.regionCode)) throw notFound;
      if (app.state !== 'SUBMITTED' && app.state !== 'FIRST_APPROVED')
        throw new DomainError(
          ErrorCode.INVALID_STATE,
          `An application in state ${app.state} is not under review`,
        );
      await this.applicationService.evaluate(m, app);
      return app.id;
    });
  }
}
