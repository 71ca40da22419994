import { mutationPayload, type RequestContext } from '@vtv/kit';
import type { CareType, CarerRow, ProgrammeClassRow } from '../data/entities';
import type { HubeiCarersServices } from '../service';

type Ctx = RequestContext & HubeiCarersServices;

export const resolvers = {
  Query: {
    carerProgrammeClass: (_: unknown, { classId }: { classId: string }, ctx: Ctx) =>
      ctx.programme.classInfo(classId),
    myCarerRegistration: (_: unknown, __: unknown, ctx: Ctx) =>
      ctx.caller.kind === 'person' && ctx.caller.id
        ? ctx.programme.registration(ctx.caller, ctx.caller.id)
        : null,
  },
  Mutation: {
    designateCarerClass: (
      _: unknown,
      a: { classId: string; careType: CareType; topUpFen: number },
      ctx: Ctx,
    ) =>
      mutationPayload(async () => ({
        carerProgramme: await ctx.programme.designate(ctx.caller, a.classId, a.careType, a.topUpFen),
      })),
    registerAsCarer: (_: unknown, a: { careTypes: CareType[] }, ctx: Ctx) =>
      mutationPayload(async () => ({
        carerRegistration: await ctx.programme.register(ctx.caller, a.careTypes),
      })),
  },
  TrainingClass: {
    carerProgramme: (c: { id: string }, _: unknown, ctx: Ctx) => ctx.programme.classInfo(c.id),
  },
  Person: {
    carerRegistration: (p: { id: string }, _: unknown, ctx: Ctx) =>
      ctx.programme.registration(ctx.caller, p.id),
  },
  CarerProgrammeClass: {
    designatedAt: (r: ProgrammeClassRow) => r.designatedAt.toISOString(),
  },
  CarerRegistration: {
    certifiedAt: (r: CarerRow) => r.certifiedAt?.toISOString() ?? null,
  },
};
