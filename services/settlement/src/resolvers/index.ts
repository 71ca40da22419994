import { badInput, mutationPayload, type PageArgs, type RequestContext } from '@vtv/kit';
import type {
  DisbursementRow,
  ReviewMode,
  SubsidyApplicationRow,
  SubsidyApplicationState,
} from '../data/entities';
import type { LineRow } from '../data/repositories';
import { FenScalar } from '../domain/money';
import type { SettlementServices } from '../service';
import type { LineInput } from '../services/applications';
import type { BudgetBalance } from '../services/budget';
import type { DisburseInput } from '../services/disbursements';
import type { ReviewInput } from '../services/review';

type Ctx = RequestContext & SettlementServices;

/** Lines per GraphQL request (the HTTP body is capped at 256 kB); larger applications add lines in batches. */
export const MAX_LINES_PER_REQUEST = 2000;

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

function linesInput(lines: LineInput[]): LineInput[] {
  if (lines.length > MAX_LINES_PER_REQUEST)
    throw badInput('lines', `At most ${MAX_LINES_PER_REQUEST} trainees per request; add the rest in batches`);
  return lines;
}

async function applicationPayload(ctx: Ctx, id: string) {
  return { application: await ctx.applications.load(id) };
}

export const resolvers = {
  Fen: FenScalar,

  Query: {
    subsidyApplication: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      ctx.applications.visibleTo(ctx.caller, id),
    subsidyApplications: (
      _: unknown,
      args: PageArgs & { regionCode?: string | null; state?: SubsidyApplicationState | null },
      ctx: Ctx,
    ) => ctx.applications.list(ctx.caller, args),
    settlementReviewRule: (_: unknown, { regionCode }: { regionCode: string }, ctx: Ctx) =>
      ctx.rules.reviewRuleFor(ctx.caller, regionCode),
    subsidyStandards: (_: unknown, { regionCode }: { regionCode: string }, ctx: Ctx) =>
      ctx.rules.standardsFor(ctx.caller, regionCode),
    effectiveSubsidyStandard: (
      _: unknown,
      a: { regionCode: string; trainingType: string; level?: string | null },
      ctx: Ctx,
    ) => ctx.rules.effectiveStandardFor(ctx.caller, a.regionCode, a.trainingType, a.level),
    subsidyBudget: (_: unknown, { regionCode }: { regionCode: string }, ctx: Ctx) =>
      ctx.budget.report(ctx.caller, regionCode),
    subsidyTotalsByInstitution: (_: unknown, a: PageArgs & { regionCode: string }, ctx: Ctx) =>
      ctx.budget.institutionTotals(ctx.caller, a.regionCode, a),
    subsidyApplicationCounts: (_: unknown, { regionCode }: { regionCode: string }, ctx: Ctx) =>
      ctx.budget.countsByState(ctx.caller, regionCode),
  },

  Mutation: {
    createSubsidyApplication: (
      _: unknown,
      { input }: { input: { classId: string; lines: LineInput[] } },
      ctx: Ctx,
    ) =>
      mutationPayload(async () =>
        applicationPayload(
          ctx,
          await ctx.applications.create(ctx.caller, { ...input, lines: linesInput(input.lines) }),
        ),
      ),
    addSubsidyApplicationLines: (
      _: unknown,
      { input }: { input: { applicationId: string; lines: LineInput[] } },
      ctx: Ctx,
    ) =>
      mutationPayload(async () =>
        applicationPayload(
          ctx,
          await ctx.applications.addLines(ctx.caller, { ...input, lines: linesInput(input.lines) }),
        ),
      ),
    removeSubsidyApplicationLines: (
      _: unknown,
      { input }: { input: { applicationId: string; lineIds: string[] } },
      ctx: Ctx,
    ) =>
      mutationPayload(async () => {
        if (input.lineIds.length > MAX_LINES_PER_REQUEST)
          throw badInput('lineIds', `At most ${MAX_LINES_PER_REQUEST} lines per request`);
        return applicationPayload(ctx, await ctx.applications.removeLines(ctx.caller, input));
      }),
    submitSubsidyApplication: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      mutationPayload(async () => applicationPayload(ctx, await ctx.applications.submit(ctx.caller, id))),
    reevaluateSubsidyApplication: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      mutationPayload(async () => applicationPayload(ctx, await ctx.review.reevaluate(ctx.caller, id))),
    reviewSubsidyApplication: (_: unknown, { input }: { input: ReviewInput }, ctx: Ctx) =>
      mutationPayload(async () =>
        applicationPayload(ctx, await ctx.review.review(ctx.caller, ctx.idempotencyKey, input)),
      ),
    disburseSubsidy: (_: unknown, { input }: { input: DisburseInput }, ctx: Ctx) =>
      mutationPayload(async () => ({
        disbursement: await ctx.disbursements.byId(
          await ctx.disbursements.disburse(ctx.caller, ctx.idempotencyKey, input),
        ),
      })),
    allocateSubsidyBudget: (
      _: unknown,
      { input }: { input: { regionCode: string; amountFen: bigint; memo?: string | null } },
      ctx: Ctx,
    ) =>
      mutationPayload(async () => ({
        budget: await ctx.budget.balanceOf(await ctx.budget.allocate(ctx.caller, ctx.idempotencyKey, input)),
      })),
    setSettlementReviewRule: (
      _: unknown,
      { input }: { input: { regionCode: string; mode: ReviewMode } },
      ctx: Ctx,
    ) =>
      mutationPayload(async () => ({
        rule: await ctx.rules.setReviewRule(ctx.caller, input.regionCode, input.mode),
      })),
    setSubsidyStandard: (
      _: unknown,
      {
        input,
      }: { input: { regionCode: string; trainingType: string; level?: string | null; amountFen: bigint } },
      ctx: Ctx,
    ) => mutationPayload(async () => ({ standard: await ctx.rules.setStandard(ctx.caller, input) })),
    removeSubsidyStandard: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      mutationPayload(async () => ({ removedId: await ctx.rules.removeStandard(ctx.caller, id) })),
  },

  // Entities owned by the training subgraph: settlement only contributes fields keyed by id.
  Institution: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    subsidyApplications: (i: { id: string }, args: PageArgs, ctx: Ctx) =>
      ctx.applications.forInstitution(ctx.caller, i.id, args),
  },
  TrainingClass: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    subsidyApplications: (c: { id: string }, _: unknown, ctx: Ctx) =>
      ctx.applications.forClass(ctx.caller, c.id),
  },

  SubsidyApplication: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.applications.visibleTo(ctx.caller, ref.id),
    institution: (a: SubsidyApplicationRow) => ({ id: a.institutionId }),
    trainingClass: (a: SubsidyApplicationRow) => ({ id: a.classId }),
    submittedAt: (a: SubsidyApplicationRow) => iso(a.submittedAt),
    evaluatedAt: (a: SubsidyApplicationRow) => iso(a.evaluatedAt),
    rejectedAt: (a: SubsidyApplicationRow) => iso(a.rejectedAt),
    lines: (a: SubsidyApplicationRow, args: PageArgs & { onlyAnomalous?: boolean | null }, ctx: Ctx) =>
      ctx.applications.lines(a, args),
    firstReview: (a: SubsidyApplicationRow) =>
      a.firstReviewedBy ? { reviewerId: a.firstReviewedBy, reviewedAt: iso(a.firstReviewedAt) } : null,
    finalReview: (a: SubsidyApplicationRow) =>
      a.finalReviewedBy ? { reviewerId: a.finalReviewedBy, reviewedAt: iso(a.finalReviewedAt) } : null,
    disbursement: (a: SubsidyApplicationRow, _: unknown, ctx: Ctx) => ctx.disbursements.forApplication(a.id),
    history: async (a: SubsidyApplicationRow, _: unknown, ctx: Ctx) =>
      (await ctx.applications.history(a)).map((h) => ({ ...h, at: h.at.toISOString() })),
    createdAt: (a: SubsidyApplicationRow) => a.createdAt.toISOString(),
    updatedAt: (a: SubsidyApplicationRow) => a.updatedAt.toISOString(),
  },

  SubsidyApplicationLine: {
    trainee: (l: LineRow) => ({ id: l.personId }),
    voucher: (l: LineRow) => ({ id: l.voucherId }),
    evidence: (l: LineRow) => ({
      voucherState: l.voucherState ?? 'UNKNOWN',
      functionMode: l.functionMode,
      faceValueFen: l.functionMode === 'FACE_VALUE' ? l.faceValueFen : null,
      usedAtInstitution: l.usedAtInstitutionId ? { id: l.usedAtInstitutionId } : null,
      usedAt: iso(l.usedAt),
      attendanceRateBp: l.attendanceRateBp,
      passed: l.passed,
      completedAt: iso(l.completedAt),
      certificates: l.certificateIds.map((id) => ({ id })),
    }),
  },

  Disbursement: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.disbursements.visibleTo(ctx.caller, ref.id),
    // The application is visible whenever its disbursement is.
    application: (d: DisbursementRow, _: unknown, ctx: Ctx) => ctx.applications.load(d.applicationId),
    paidAt: (d: DisbursementRow) => d.paidAt.toISOString(),
    budgetRegionCode: (d: DisbursementRow) => d.budgetRegionCode ?? '',
  },

  InstitutionSubsidyTotals: {
    institution: (t: { institutionId: string }) => ({ id: t.institutionId }),
  },

  SubsidyBudgetBalance: {
    regionCode: (b: BudgetBalance) => b.regionCode,
  },
};
