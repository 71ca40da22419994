import type { RegionRow } from '../data/entities';
import type { Ctx } from './context';

export const regionResolvers = {
  Query: {
    region: (_: unknown, { code }: { code: string }, ctx: Ctx) => ctx.regions.get(code),
    regions: (_: unknown, { parentCode }: { parentCode?: string | null }, ctx: Ctx) =>
      ctx.regions.children(parentCode ?? null),
  },
  Region: {
    __resolveReference: (ref: { code: string }, ctx: Ctx) => ctx.regions.get(ref.code),
    parent: (r: RegionRow, _: unknown, ctx: Ctx) => ctx.regions.parent(r.code),
    children: (r: RegionRow, _: unknown, ctx: Ctx) => ctx.regions.children(r.code),
  },
};
