import { mutationPayload } from '@vtv/kit';
import type { CardRow, PersonRow } from '../data/entities';
import type { IssueCardInput, PeopleQuery } from '../services/people';
import type { ProofPurpose } from '@vtv/kit';
import { actor, iso, payloadWithRetry, type Ctx } from './context';

export const peopleResolvers = {
  Query: {
    me: (_: unknown, __: unknown, ctx: Ctx) =>
      ctx.caller.kind === 'person' && ctx.caller.id ? ctx.people.visibleTo(ctx.caller, ctx.caller.id) : null,
    person: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.people.visibleTo(ctx.caller, id),
    personByIdNumber: (_: unknown, { idNumber }: { idNumber: string }, ctx: Ctx) =>
      ctx.people.byIdNumber(ctx.caller, idNumber),
    people: (_: unknown, args: PeopleQuery, ctx: Ctx) => ctx.people.list(ctx.caller, args),
  },
  Mutation: {
    issueCard: (_: unknown, { input }: { input: IssueCardInput }, ctx: Ctx) =>
      mutationPayload(async () => ({ person: await ctx.people.issueCard(ctx.caller, input, actor(ctx)) })),
    setPin: (_: unknown, { input }: { input: { currentPin?: string | null; newPin: string } }, ctx: Ctx) =>
      payloadWithRetry(async () => ({ person: await ctx.people.setPin(ctx.caller, input, actor(ctx)) })),
    startFaceVerification: (
      _: unknown,
      { input }: { input: { purpose: ProofPurpose; subject?: string | null } },
      ctx: Ctx,
    ) =>
      mutationPayload(async () => {
        const c = await ctx.verification.startFaceVerification(ctx.caller, input);
        return { nonce: c.nonce, expiresAt: iso(c.expiresAt) };
      }),
    verifyIdentity: (
      _: unknown,
      {
        input,
      }: {
        input: {
          purpose: ProofPurpose;
          subject?: string | null;
          pin?: string | null;
          faceAssertion?: string | null;
        };
      },
      ctx: Ctx,
    ) =>
      payloadWithRetry(async () => {
        const p = await ctx.verification.verify(ctx.caller, input, actor(ctx));
        return { proof: p.proof, expiresAt: iso(p.expiresAt), method: p.method };
      }),
    revealIdNumber: (_: unknown, { input }: { input: { personId: string; reason: string } }, ctx: Ctx) =>
      mutationPayload(async () => ({
        idNumber: await ctx.people.revealIdNumber(ctx.caller, input, actor(ctx)),
      })),
  },
  Person: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.people.visibleTo(ctx.caller, ref.id),
    region: (p: PersonRow, _: unknown, ctx: Ctx) => ctx.regions.get(p.regionCode),
    cardIssuedAt: (p: PersonRow) => p.cardIssuedAt.toISOString(),
    maskedName: (p: PersonRow, _: unknown, ctx: Ctx) => ctx.people.masked(p).maskedName,
    maskedIdNumber: (p: PersonRow, _: unknown, ctx: Ctx) => ctx.people.masked(p).maskedIdNumber,
    maskedPhone: (p: PersonRow, _: unknown, ctx: Ctx) => ctx.people.masked(p).maskedPhone,
    card: (p: PersonRow, _: unknown, ctx: Ctx) => ctx.people.card(p.id),
    hasPin: (p: PersonRow, _: unknown, ctx: Ctx) =>
      ctx.caller.kind === 'person' && ctx.caller.id === p.id ? ctx.verification.hasPin(p.id) : null,
  },
  SocialSecurityCard: {
    region: (c: CardRow, _: unknown, ctx: Ctx) => ctx.regions.get(c.regionCode),
    issuedAt: (c: CardRow) => c.issuedAt.toISOString(),
  },
};
