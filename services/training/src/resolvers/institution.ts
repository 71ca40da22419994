import type { PageArgs } from '@vtv/kit';
import type { ChangeRequestRow, InstitutionRow, OperatorRow } from '../data/entities';
import { iso, person, rating, type Ctx } from './context';

export const Institution = {
  __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.institutions.get(ref.id),
  rating: (i: InstitutionRow) => rating(i.ratingCount, i.ratingSum),
  classes: (i: InstitutionRow, args: PageArgs, ctx: Ctx) =>
    ctx.classPlans.pageByInstitution(ctx.caller, i, args),
  operators: async (i: InstitutionRow, args: PageArgs, ctx: Ctx) =>
    (await ctx.institutions.canSeeInternals(ctx.caller, i)) ? ctx.operators.page(i.id, args) : null,
  enrollments: async (i: InstitutionRow, args: PageArgs, ctx: Ctx) =>
    (await ctx.institutions.canSeeInternals(ctx.caller, i))
      ? ctx.enrollments.page({ institutionId: i.id }, args)
      : null,
  changeRequests: async (i: InstitutionRow, args: PageArgs, ctx: Ctx) =>
    (await ctx.institutions.canSeeInternals(ctx.caller, i))
      ? ctx.changeRequests.pageForInstitution(i.id, args)
      : null,
};

export const Operator = {
  institution: (o: OperatorRow, _: unknown, ctx: Ctx) => ctx.institutions.get(o.institutionId),
  person: (o: OperatorRow) => person(o.personId),
  createdAt: (o: OperatorRow) => iso(o.createdAt),
  updatedAt: (o: OperatorRow) => iso(o.updatedAt),
};

export const InstitutionChangeRequest = {
  institution: (r: ChangeRequestRow, _: unknown, ctx: Ctx) => ctx.institutions.get(r.institutionId),
  mainOperator: (r: ChangeRequestRow) => (r.mainOperatorPersonId ? person(r.mainOperatorPersonId) : null),
  addOperators: (r: ChangeRequestRow) => r.addOperatorPersonIds.map(person),
  disableOperators: (r: ChangeRequestRow) => r.disableOperatorPersonIds.map(person),
  requestedAt: (r: ChangeRequestRow) => iso(r.requestedAt),
  reviewedAt: (r: ChangeRequestRow) => iso(r.reviewedAt),
};
