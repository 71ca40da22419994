import type { PageArgs } from '@vtv/kit';
import type { ChangeRequestState, ClassPlanState } from '../data/entities';
import type { CatalogueFilter } from '../services/class-plans';
import type { Ctx } from './context';

export const Query = {
  institution: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.institutions.get(id),
  trainingClass: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.classPlans.get(ctx.caller, id),
  course: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.classPlans.course(ctx.caller, id),
  enrollment: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.enrollments.get(ctx.caller, id),
  catalogue: (_: unknown, args: PageArgs & { filter?: CatalogueFilter | null }, ctx: Ctx) =>
    ctx.classPlans.catalogue(args.filter, args),
  myOperatorMemberships: (_: unknown, __: unknown, ctx: Ctx) => ctx.operators.myMemberships(ctx.caller),
  classPlansForReview: (_: unknown, args: PageArgs & { state?: ClassPlanState | null }, ctx: Ctx) =>
    ctx.classPlans.pageForReview(ctx.caller, args.state, args),
  institutionChangeRequestsForReview: (
    _: unknown,
    args: PageArgs & { state?: ChangeRequestState | null },
    ctx: Ctx,
  ) => ctx.changeRequests.pageForReview(ctx.caller, args.state, args),
};
