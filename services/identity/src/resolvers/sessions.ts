import { mutationPayload } from '@vtv/kit';
import { actor, iso, payloadWithRetry, type Ctx } from './context';

export const sessionResolvers = {
  Mutation: {
    signInPerson: (_: unknown, { input }: { input: { idNumber: string; pin: string } }, ctx: Ctx) =>
      payloadWithRetry(async () => {
        const s = await ctx.sessions.signInPerson(input, actor(ctx));
        return { accessToken: s.accessToken, expiresAt: iso(s.expiresAt) };
      }),
    createSignInChallenge: (_: unknown, __: unknown, ctx: Ctx) =>
      mutationPayload(async () => {
        const c = await ctx.sessions.createChallenge();
        return { challengeId: c.id, secret: c.secret, qrContent: c.qrContent, expiresAt: iso(c.expiresAt) };
      }),
    confirmSignInChallenge: (_: unknown, { challengeId }: { challengeId: string }, ctx: Ctx) =>
      mutationPayload(async () => {
        await ctx.sessions.confirmChallenge(ctx.caller, challengeId);
        return { confirmed: true };
      }),
    exchangeSignInChallenge: (
      _: unknown,
      { input }: { input: { challengeId: string; secret: string } },
      ctx: Ctx,
    ) =>
      mutationPayload(async () => {
        const s = await ctx.sessions.exchangeChallenge(input, actor(ctx));
        return {
          accessToken: s.accessToken,
          expiresAt: iso(s.expiresAt),
          staffUser: await ctx.admin.currentStaffUser(s.caller),
        };
      }),
    signInClient: (
      _: unknown,
      { input }: { input: { clientId: string; clientSecret: string; scopes?: string[] | null } },
      ctx: Ctx,
    ) =>
      payloadWithRetry(async () => {
        const s = await ctx.sessions.signInClient(input, actor(ctx));
        return { accessToken: s.accessToken, expiresAt: iso(s.expiresAt) };
      }),
  },
};
