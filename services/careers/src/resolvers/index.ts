import { mutationPayload, type RequestContext } from '@vtv/kit';
import type { CertificateRow } from '../data/entities';
import type { CareersServices } from '../service';
import type { JobPostingSearchArgs, PublishJobPostingInput } from '../services/job-postings';

type Ctx = RequestContext & CareersServices;

export const resolvers = {
  Query: {
    jobPostings: (_: unknown, args: JobPostingSearchArgs, ctx: Ctx) => ctx.jobPostings.search(args),
    certificate: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.certificates.visibleTo(ctx.caller, id),
  },
  Mutation: {
    publishJobPosting: (_: unknown, { input }: { input: PublishJobPostingInput }, ctx: Ctx) =>
      mutationPayload(async () => ({ jobPosting: await ctx.jobPostings.publish(ctx.caller, input) })),
  },
  // Owned by the identity subgraph: careers only contributes fields keyed by id.
  Person: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    certificates: (p: { id: string }, _: unknown, ctx: Ctx) => ctx.certificates.forPerson(ctx.caller, p.id),
  },
  Certificate: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.certificates.visibleTo(ctx.caller, ref.id),
    holder: (c: CertificateRow) => ({ id: c.holderPersonId }),
  },
  JobPosting: {
    // Postings are public once published.
    __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.jobPostings.byId(ref.id),
  },
};
