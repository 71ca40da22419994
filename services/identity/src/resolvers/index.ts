import type { RequestContext } from '@vtv/kit';
import type { PersonRow, RegionRow } from '../data/entities';
import type { IdentityServices } from '../service';

type Ctx = RequestContext & IdentityServices;

export const resolvers = {
  Query: {
    region: (_: unknown, { code }: { code: string }, ctx: Ctx) => ctx.regions.get(code),
    regions: (_: unknown, { parentCode }: { parentCode?: string | null }, ctx: Ctx) =>
      ctx.regions.children(parentCode ?? null),
    me: (_: unknown, __: unknown, ctx: Ctx) =>
      ctx.caller.kind === 'person' && ctx.caller.id ? ctx.people.visibleTo(ctx.caller, ctx.caller.id) : null,
    person: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.people.visibleTo(ctx.caller, id),
  },
  Person: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.people.visibleTo(ctx.caller, ref.id),
    region: (p: PersonRow, _: unknown, ctx: Ctx) => ctx.regions.get(p.regionCode),
    cardIssuedAt: (p: PersonRow) => p.cardIssuedAt.toISOString(),
  },
  Region: {
    __resolveReference: (ref: { code: string }, ctx: Ctx) => ctx.regions.get(ref.code),
    parent: (r: RegionRow, _: unknown, ctx: Ctx) => ctx.regions.parent(r.code),
    children: (r: RegionRow, _: unknown, ctx: Ctx) => ctx.regions.children(r.code),
  },
};
