import { mutationPayload, type PageArgs, type RequestContext } from '@vtv/kit';
import type { ClassRow, InstitutionRow } from '../data/entities';
import type { TrainingServices } from '../service';
import type { SubmitClassPlan } from '../services/class-plans';
import type { RegisterInstitution } from '../services/institutions';

type Ctx = RequestContext & TrainingServices;

export const resolvers = {
  Query: {
    institution: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.institutions.get(id),
    trainingClass: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.classPlans.get(id),
  },
  Mutation: {
    registerInstitution: (_: unknown, { input }: { input: RegisterInstitution }, ctx: Ctx) =>
      mutationPayload(async () => ({ institution: await ctx.institutions.register(ctx.caller, input) })),
    submitClassPlan: (_: unknown, { input }: { input: SubmitClassPlan }, ctx: Ctx) =>
      mutationPayload(async () => ({ trainingClass: await ctx.classPlans.submit(ctx.caller, input) })),
    approveClassPlan: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      mutationPayload(async () => ({ trainingClass: await ctx.classPlans.approve(ctx.caller, id) })),
  },
  Institution: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.institutions.get(ref.id),
    classes: (i: InstitutionRow, args: PageArgs, ctx: Ctx) => ctx.classPlans.pageByInstitution(i.id, args),
  },
  TrainingClass: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.classPlans.get(ref.id),
    institution: (c: ClassRow, _: unknown, ctx: Ctx) => ctx.institutions.get(c.institutionId),
    rosterSize: (c: ClassRow) => c.rosterPersonIds.length,
    approvedAt: (c: ClassRow) => c.approvedAt?.toISOString() ?? null,
  },
};
