import type { PageArgs, RequestContext } from '@vtv/kit';
import type { DisbursementRow, SubsidyApplicationRow } from '../data/entities';
import type { SettlementServices } from '../service';

type Ctx = RequestContext & SettlementServices;

export const resolvers = {
  Query: {
    subsidyApplication: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      ctx.applications.visibleTo(ctx.caller, id),
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
    submittedAt: (a: SubsidyApplicationRow) => a.submittedAt?.toISOString() ?? null,
    disbursement: (a: SubsidyApplicationRow, _: unknown, ctx: Ctx) => ctx.disbursements.forApplication(a.id),
    createdAt: (a: SubsidyApplicationRow) => a.createdAt.toISOString(),
  },
  Disbursement: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.disbursements.visibleTo(ctx.caller, ref.id),
    // The application is visible whenever its disbursement is.
    application: (d: DisbursementRow, _: unknown, ctx: Ctx) =>
      ctx.applications.visibleTo(ctx.caller, d.applicationId),
    paidAt: (d: DisbursementRow) => d.paidAt.toISOString(),
  },
};
