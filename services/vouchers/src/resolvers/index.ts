import type { PageArgs, RequestContext } from '@vtv/kit';
import type { AwaitingClassRow, VoucherRow } from '../data/entities';
import type { VouchersServices } from '../service';

type Ctx = RequestContext & VouchersServices;

export const resolvers = {
  Query: {
    classesAwaitingIssuance: (_: unknown, args: PageArgs, ctx: Ctx) =>
      ctx.issuance.awaitingInRegion(ctx.caller, args),
    voucher: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.wallet.get(ctx.caller, id),
  },
  Voucher: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.wallet.get(ctx.caller, ref.id),
    holder: (v: VoucherRow) => ({ id: v.holderPersonId }),
    trainingClass: (v: VoucherRow) => (v.classId ? { id: v.classId } : null),
    issuedAt: (v: VoucherRow) => v.issuedAt.toISOString(),
  },
  Person: {
    vouchers: (p: { id: string }, _: unknown, ctx: Ctx) => ctx.wallet.holderVouchers(ctx.caller, p.id),
  },
  TrainingClass: {
    awaitingIssuance: (c: { id: string }, _: unknown, ctx: Ctx) => ctx.issuance.isAwaiting(c.id),
  },
  ClassAwaitingIssuance: {
    trainingClass: (c: AwaitingClassRow) => ({ id: c.classId }),
    rosterSize: (c: AwaitingClassRow) => c.rosterPersonIds.length,
    approvedAt: (c: AwaitingClassRow) => c.approvedAt.toISOString(),
  },
};
