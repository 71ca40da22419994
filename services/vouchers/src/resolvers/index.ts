import { mutationPayload, type PageArgs, type RequestContext } from '@vtv/kit';
import type {
  ApprovedClassRow,
  BatchRow,
  BatchState,
  BatchTransitionRow,
  FaceValueRuleRow,
  TemplateRow,
  VoucherRow,
  VoucherTransitionRow,
} from '../data/entities';
import type { FactCounts } from '../data/repositories';
import type { WalletSection } from '../domain/lifecycle';
import type { VouchersServices } from '../service';
import type { CreateBatchInput } from '../services/batches';
import type { RedeemByCodeInput, RedeemInput } from '../services/redemption';
import type {
  ResolvedFaceValueRule,
  ResolvedIssuanceRule,
  SetFaceValueRule,
  SetIssuanceRule,
} from '../services/rules';
import type { RegionStatistics } from '../services/statistics';
import type { CreateTemplateInput } from '../services/templates';
import type { RecordFilter } from '../services/wallet';

type Ctx = RequestContext & VouchersServices;

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const ref = (id: string | null | undefined) => (id ? { id } : null);

async function voucherPayload(ctx: Ctx, run: () => Promise<string>) {
  return mutationPayload(async () => ({ voucher: await ctx.deps.repos.vouchers.byId(await run()) }));
}

async function batchPayload(ctx: Ctx, run: () => Promise<string>) {
  return mutationPayload(async () => ({ batch: await ctx.deps.repos.batches.byId(await run()) }));
}

function progress(counts: FactCounts, t: { issuedTarget: number; usedTarget: number } | null) {
  if (!t) return null;
  const bp = (n: number, of: number) => (of > 0 ? Math.round((n * 10_000) / of) : 0);
  return { ...t, issuedBp: bp(counts.issued, t.issuedTarget), usedBp: bp(counts.used, t.usedTarget) };
}

export const resolvers = {
  Query: {
    classesAwaitingIssuance: (_: unknown, args: PageArgs, ctx: Ctx) =>
      ctx.batches.awaitingInRegion(ctx.caller, args),
    voucher: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.wallet.get(ctx.caller, id),
    voucherRecords: (_: unknown, args: PageArgs & { filter?: RecordFilter | null }, ctx: Ctx) =>
      ctx.wallet.records(ctx.caller, args.filter ?? {}, args),
    voucherBatch: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.batches.get(ctx.caller, id),
    voucherBatches: (_: unknown, args: PageArgs & { states?: BatchState[] | null }, ctx: Ctx) =>
      ctx.batches.page(ctx.caller, args.states ?? null, args),
    voucherTemplate: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.templates.get(ctx.caller, id),
    voucherTemplates: (_: unknown, args: PageArgs, ctx: Ctx) => ctx.templates.page(ctx.caller, args),
    faceValueRules: (_: unknown, { regionCode }: { regionCode: string }, ctx: Ctx) =>
      ctx.rules.faceValueRulesAt(ctx.caller, regionCode),
    voucherIssuanceRule: (_: unknown, { regionCode }: { regionCode: string }, ctx: Ctx) =>
      ctx.rules.issuanceRuleFor(ctx.caller, regionCode),
    voucherFaceValueRule: (
      _: unknown,
      a: { regionCode: string; trainingType: string; date?: string | null },
      ctx: Ctx,
    ) => ctx.rules.faceValueRuleFor(ctx.caller, a.regionCode, a.trainingType, a.date),
    voucherStatistics: (_: unknown, a: { regionCode: string; year: number }, ctx: Ctx) =>
      ctx.statistics.forRegion(ctx.caller, a.regionCode, a.year),
  },

  Mutation: {
    setVoucherIssuanceRule: (_: unknown, { input }: { input: SetIssuanceRule }, ctx: Ctx) =>
      mutationPayload(async () => ({ rule: await ctx.rules.setIssuanceRule(ctx.caller, input) })),
    setFaceValueRule: (_: unknown, { input }: { input: SetFaceValueRule }, ctx: Ctx) =>
      mutationPayload(async () => ({ rule: await ctx.rules.setFaceValueRule(ctx.caller, input) })),
    deleteFaceValueRule: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      mutationPayload(async () => ({ deletedId: await ctx.rules.deleteFaceValueRule(ctx.caller, id) })),

    createVoucherBatch: (_: unknown, { input }: { input: CreateBatchInput }, ctx: Ctx) =>
      batchPayload(ctx, () => ctx.batches.create(ctx.caller, input)),
    submitVoucherBatch: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      batchPayload(ctx, () => ctx.batches.submit(ctx.caller, id)),
    approveVoucherBatch: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      batchPayload(ctx, () => ctx.batches.approve(ctx.caller, id)),
    rejectVoucherBatch: (_: unknown, { id, reason }: { id: string; reason: string }, ctx: Ctx) =>
      batchPayload(ctx, () => ctx.batches.reject(ctx.caller, id, reason)),
    issueVoucherBatch: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      batchPayload(ctx, () => ctx.batches.issue(ctx.caller, id, ctx.idempotencyKey)),
    issueSupplementaryVouchers: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      batchPayload(ctx, () => ctx.batches.supplement(ctx.caller, id, ctx.idempotencyKey)),
    linkNationalVoucherTemplate: (_: unknown, a: { id: string; code: string; name: string }, ctx: Ctx) =>
      batchPayload(ctx, () => ctx.batches.linkNationalTemplate(ctx.caller, a.id, a.code, a.name)),
    invalidateVoucherBatch: (_: unknown, { id, reason }: { id: string; reason: string }, ctx: Ctx) =>
      batchPayload(ctx, () => ctx.batches.invalidate(ctx.caller, id, reason, ctx.idempotencyKey)),
    invalidateVoucher: (_: unknown, { id, reason }: { id: string; reason: string }, ctx: Ctx) =>
      voucherPayload(ctx, () => ctx.outcomes.invalidateVoucher(ctx.caller, id, reason, ctx.idempotencyKey)),

    createVoucherTemplate: (_: unknown, { input }: { input: CreateTemplateInput }, ctx: Ctx) =>
      mutationPayload(async () => ({ template: await ctx.templates.create(ctx.caller, input) })),
    closeVoucherTemplate: (_: unknown, { id, reason }: { id: string; reason: string }, ctx: Ctx) =>
      mutationPayload(async () => ({ template: await ctx.templates.close(ctx.caller, id, reason) })),
    addVoucherTemplateAudience: (_: unknown, a: { id: string; personIds: string[] }, ctx: Ctx) =>
      mutationPayload(async () => ({
        added: await ctx.templates.addAudience(ctx.caller, a.id, a.personIds),
      })),

    claimVoucher: (_: unknown, a: { templateId: string; proof: string }, ctx: Ctx) =>
      voucherPayload(ctx, () => ctx.claims.claim(ctx.caller, a.templateId, a.proof, ctx.idempotencyKey)),
    presentVoucher: (_: unknown, a: { voucherId: string; proof: string }, ctx: Ctx) =>
      mutationPayload(async () => {
        const p = await ctx.redemption.present(ctx.caller, a.voucherId, a.proof);
        return { token: p.token, expiresAt: p.expiresAt.toISOString(), code: p.code, voucher: p.voucher };
      }),
    redeemVoucher: (_: unknown, { input }: { input: RedeemInput }, ctx: Ctx) =>
      voucherPayload(ctx, () => ctx.redemption.redeem(ctx.caller, input, ctx.idempotencyKey)),
    redeemVoucherByCode: (_: unknown, { input }: { input: RedeemByCodeInput }, ctx: Ctx) =>
      voucherPayload(ctx, () => ctx.redemption.redeemByCode(ctx.caller, input, ctx.idempotencyKey)),
    useVoucherOnline: (
      _: unknown,
      { input }: { input: { voucherId: string; classId: string; proof: string } },
      ctx: Ctx,
    ) => voucherPayload(ctx, () => ctx.redemption.useOnline(ctx.caller, input, ctx.idempotencyKey)),

    setVoucherQuota: (
      _: unknown,
      {
        input,
      }: {
        input: {
          regionCode: string;
          year: number;
          issuedTarget: number;
          usedTarget: number;
          source?: string;
        };
      },
      ctx: Ctx,
    ) => mutationPayload(async () => ({ quota: await ctx.statistics.setQuota(ctx.caller, input) })),
  },

  Voucher: {
    __resolveReference: (r: { id: string }, ctx: Ctx) => ctx.wallet.get(ctx.caller, r.id),
    holder: (v: VoucherRow) => ({ id: v.holderPersonId }),
    regionCode: (v: VoucherRow) => v.regionCode.trim(),
    trainingClass: (v: VoucherRow) => ref(v.classId),
    batch: (v: VoucherRow, _: unknown, ctx: Ctx) =>
      v.batchId ? ctx.deps.repos.batches.byId(v.batchId) : null,
    template: (v: VoucherRow, _: unknown, ctx: Ctx) =>
      v.templateId ? ctx.deps.repos.templates.byId(v.templateId) : null,
    issuedAt: (v: VoucherRow) => iso(v.issuedAt),
    validFrom: (v: VoucherRow) => iso(v.validFrom),
    validUntil: (v: VoucherRow) => iso(v.validUntil),
    usedAt: (v: VoucherRow) => iso(v.usedAt),
    usedAtInstitution: (v: VoucherRow) => ref(v.usedInstitutionId),
    usedForClass: (v: VoucherRow) => ref(v.usedClassId),
    usedForEnrollmentId: (v: VoucherRow) => v.usedEnrollmentId,
    settledAt: (v: VoucherRow) => iso(v.settledAt),
    endedAt: (v: VoucherRow) => iso(v.endedAt),
    history: (v: VoucherRow, _: unknown, ctx: Ctx) => ctx.wallet.history(v),
  },
  VoucherTransition: {
    at: (t: VoucherTransitionRow) => iso(t.at),
    institution: (t: VoucherTransitionRow) => ref(t.institutionId),
    trainingClass: (t: VoucherTransitionRow) => ref(t.classId),
  },
  Person: {
    vouchers: (p: { id: string }, a: { section?: WalletSection | null }, ctx: Ctx) =>
      ctx.wallet.holderVouchers(ctx.caller, p.id, a.section),
    voucherWallet: async (p: { id: string }, _: unknown, ctx: Ctx) => {
      if (ctx.caller.kind !== 'person' || ctx.caller.id !== p.id) return null;
      const w = await ctx.wallet.wallet(ctx.caller, p.id);
      return { held: w.HELD, used: w.USED, noLongerValid: w.NO_LONGER_VALID };
    },
  },
  TrainingClass: {
    awaitingIssuance: (c: { id: string }, _: unknown, ctx: Ctx) => ctx.batches.isAwaiting(c.id),
    voucherBatches: (c: { id: string }, _: unknown, ctx: Ctx) => ctx.batches.forClass(ctx.caller, c.id),
  },
  Region: {
    voucherIssuanceRule: (r: { code: string }, _: unknown, ctx: Ctx) =>
      ctx.rules.issuanceRuleFor(ctx.caller, r.code).catch(() => null),
    voucherFaceValueRule: (
      r: { code: string },
      a: { trainingType: string; date?: string | null },
      ctx: Ctx,
    ) => ctx.rules.faceValueRuleFor(ctx.caller, r.code, a.trainingType, a.date).catch(() => null),
    voucherQuota: (r: { code: string }, a: { year: number }, ctx: Ctx) =>
      ctx.statistics.quota(ctx.caller, r.code, a.year),
    voucherStatistics: (r: { code: string }, a: { year: number }, ctx: Ctx) =>
      ctx.statistics.forRegion(ctx.caller, r.code, a.year),
  },
  RuleFieldSource: {
    region: (s: { regionCode: string | null }) => (s.regionCode ? { code: s.regionCode } : null),
  },
  ResolvedIssuanceRule: {
    reviewMode: (r: ResolvedIssuanceRule) => r.values.reviewMode,
    flow: (r: ResolvedIssuanceRule) => r.values.flow,
    validityEnd: (r: ResolvedIssuanceRule) => r.values.validityEnd,
  },
  ResolvedFaceValueRule: {
    functionMode: (r: ResolvedFaceValueRule) => r.values.functionMode,
    subsidyAmountFen: (r: ResolvedFaceValueRule) => r.values.subsidyAmountFen,
    certificateType: (r: ResolvedFaceValueRule) => r.values.certificateType,
    certificateLevel: (r: ResolvedFaceValueRule) => r.values.certificateLevel,
    shortageOccupation: (r: ResolvedFaceValueRule) => r.values.shortageOccupation,
    remark: (r: ResolvedFaceValueRule) => r.values.remark,
    eligiblePopulation: (r: ResolvedFaceValueRule) => r.values.eligiblePopulation,
  },
  FaceValueRule: {
    regionCode: (r: FaceValueRuleRow) => r.regionCode.trim(),
    updatedAt: (r: FaceValueRuleRow) => iso(r.updatedAt),
  },
  ClassAwaitingIssuance: {
    trainingClass: (c: ApprovedClassRow) => ({ id: c.classId }),
    regionCode: (c: ApprovedClassRow) => c.regionCode.trim(),
    rosterSize: (c: ApprovedClassRow) => c.rosterPersonIds.length,
    approvedAt: (c: ApprovedClassRow) => iso(c.approvedAt),
    batch: (c: ApprovedClassRow, _: unknown, ctx: Ctx) => ctx.batches.liveForClass(c.classId),
  },
  VoucherBatch: {
    __resolveReference: (r: { id: string }, ctx: Ctx) => ctx.batches.get(ctx.caller, r.id),
    trainingClass: (b: BatchRow) => ({ id: b.classId }),
    institution: (b: BatchRow) => ({ id: b.institutionId }),
    regionCode: (b: BatchRow) => b.regionCode.trim(),
    validUntil: (b: BatchRow) => iso(b.validUntil),
    firstReviewedAt: (b: BatchRow) => iso(b.firstReviewedAt),
    secondReviewedAt: (b: BatchRow) => iso(b.secondReviewedAt),
    createdAt: (b: BatchRow) => iso(b.createdAt),
    issuedAt: (b: BatchRow) => iso(b.issuedAt),
    invalidatedAt: (b: BatchRow) => iso(b.invalidatedAt),
    vouchers: (b: BatchRow, args: PageArgs, ctx: Ctx) =>
      ctx.wallet.records(ctx.caller, { batchId: b.id }, args),
    history: (b: BatchRow, _: unknown, ctx: Ctx) => ctx.batches.history(b.id),
  },
  VoucherBatchTransition: {
    at: (t: BatchTransitionRow) => iso(t.at),
  },
  VoucherTemplate: {
    __resolveReference: (r: { id: string }, ctx: Ctx) => ctx.templates.get(ctx.caller, r.id),
    regionCode: (t: TemplateRow) => t.regionCode.trim(),
    eligibleRegionCode: (t: TemplateRow) => t.eligibleRegionCode.trim(),
    remaining: (t: TemplateRow) => t.quantity - t.claimed,
    claimStartsAt: (t: TemplateRow) => iso(t.claimStartsAt),
    claimEndsAt: (t: TemplateRow) => iso(t.claimEndsAt),
    validUntil: (t: TemplateRow) => iso(t.validUntil),
    createdAt: (t: TemplateRow) => iso(t.createdAt),
    closedAt: (t: TemplateRow) => iso(t.closedAt),
  },
  VoucherStatistics: {
    quota: (s: RegionStatistics) => s.target,
    progress: (s: RegionStatistics) => progress(s.counts, s.target),
    childTargets: (s: RegionStatistics) => progress(s.counts, s.childTargets),
    byChildRegion: (s: RegionStatistics) =>
      s.byChildRegion.map((c) => ({
        region: { code: c.key },
        regionCode: c.key,
        counts: c.counts,
        quota: c.target,
      })),
    byInstitution: (s: RegionStatistics) =>
      s.byInstitution.map((b) => ({ institution: { id: b.key }, counts: b.counts })),
    byTrainingType: (s: RegionStatistics) =>
      s.byTrainingType.map((b) => ({ trainingType: b.key, counts: b.counts })),
    byMonth: (s: RegionStatistics) => s.byMonth.map((b) => ({ month: b.key, counts: b.counts })),
    computedAt: (s: RegionStatistics) => iso(s.computedAt),
  },
};
