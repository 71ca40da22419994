import { mutationPayload, type RequestContext } from '@vtv/kit';
import type {
  ArchiveEntryRow,
  CertificateRow,
  ConsentRow,
  DataAccessRow,
  InboxMessageRow,
  RecommendationRow,
} from '../data/entities';
import type { CareersServices } from '../service';
import type { ArchiveArgs, ArchiveExport, ArchiveExportFormat } from '../services/archive';
import type { CertificateSearchArgs, ImportCertificateInput } from '../services/certificates';
import type { GrantConsentInput } from '../services/consent';
import type { InboxArgs } from '../services/inbox';
import type { JobPostingSearchArgs, PublishJobPostingInput } from '../services/job-postings';
import type { PageArgs } from '@vtv/kit';

type Ctx = RequestContext & CareersServices;
type PersonRef = { id: string };

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const resolvers = {
  Query: {
    jobPostings: (_: unknown, args: JobPostingSearchArgs, ctx: Ctx) => ctx.jobPostings.search(args),
    jobPosting: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.jobPostings.byId(id),
    certificate: (_: unknown, { id }: { id: string }, ctx: Ctx) => ctx.certificates.visibleTo(ctx.caller, id),
    certificates: (_: unknown, args: CertificateSearchArgs, ctx: Ctx) =>
      ctx.certificates.search(ctx.caller, args),
  },
  Mutation: {
    publishJobPosting: (_: unknown, { input }: { input: PublishJobPostingInput }, ctx: Ctx) =>
      mutationPayload(async () => ({ jobPosting: await ctx.jobPostings.publish(ctx.caller, input) })),
    importCertificate: (_: unknown, { input }: { input: ImportCertificateInput }, ctx: Ctx) =>
      mutationPayload(async () => ({
        certificate: await ctx.certificates.importFromGraph(ctx.caller, input, ctx.idempotencyKey),
      })),
    grantConsent: (_: unknown, { input }: { input: GrantConsentInput }, ctx: Ctx) =>
      mutationPayload(async () => ({ consent: await ctx.consents.grant(ctx.caller, input) })),
    revokeConsent: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
      mutationPayload(async () => ({ consent: await ctx.consents.revoke(ctx.caller, id) })),
    markInboxMessagesRead: (_: unknown, { ids }: { ids: string[] }, ctx: Ctx) =>
      mutationPayload(() => ctx.inbox.markRead(ctx.caller, ids)),
    exportMyArchive: (_: unknown, { format }: { format: ArchiveExportFormat }, ctx: Ctx) =>
      mutationPayload(async () => ({ export: await ctx.archive.exportFor(ctx.caller, format) })),
  },
  // Owned by the identity subgraph: careers only contributes fields keyed by id.
  Person: {
    __resolveReference: (ref: PersonRef) => ({ id: ref.id }),
    certificates: (p: PersonRef, _: unknown, ctx: Ctx) => ctx.certificates.forPerson(ctx.caller, p.id),
    archive: (p: PersonRef, args: ArchiveArgs, ctx: Ctx) => ctx.archive.forPerson(ctx.caller, p.id, args),
    recommendations: (p: PersonRef, args: PageArgs, ctx: Ctx) =>
      ctx.recommendations.forPerson(ctx.caller, p.id, args),
    jobRecommendationConsent: (p: PersonRef, _: unknown, ctx: Ctx) => ctx.consents.liveFor(ctx.caller, p.id),
    consents: (p: PersonRef, args: PageArgs, ctx: Ctx) => ctx.consents.history(ctx.caller, p.id, args),
    inbox: (p: PersonRef, args: InboxArgs, ctx: Ctx) => ctx.inbox.forPerson(ctx.caller, p.id, args),
    dataAccessLog: (p: PersonRef, args: PageArgs, ctx: Ctx) =>
      ctx.accessLog.forPerson(ctx.caller, p.id, args),
  },
  Certificate: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.certificates.visibleTo(ctx.caller, ref.id),
    holder: (c: CertificateRow) => ({ id: c.holderPersonId }),
    recordedAt: (c: CertificateRow) => iso(c.createdAt),
  },
  JobPosting: {
    // Postings are public once published.
    __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.jobPostings.byId(ref.id),
  },
  ArchiveEntry: {
    occurredAt: (e: ArchiveEntryRow) => iso(e.occurredAt),
    certificate: (e: ArchiveEntryRow, _: unknown, ctx: Ctx) =>
      e.certificateId ? ctx.certificates.visibleTo(ctx.caller, e.certificateId) : null,
  },
  ArchiveExport: {
    generatedAt: (x: ArchiveExport) => iso(x.generatedAt),
  },
  Recommendation: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.recommendations.visibleTo(ctx.caller, ref.id),
    jobPosting: (r: RecommendationRow, _: unknown, ctx: Ctx) => ctx.jobPostings.byId(r.jobPostingId),
    basis: (r: RecommendationRow) => r.basisKind,
    certificate: (r: RecommendationRow, _: unknown, ctx: Ctx) =>
      r.basisKind === 'CERTIFICATE' ? ctx.certificates.visibleTo(ctx.caller, r.basisId) : null,
    createdAt: (r: RecommendationRow) => iso(r.createdAt),
  },
  Consent: {
    status: (c: ConsentRow, _: unknown, ctx: Ctx) => ctx.consents.status(c),
    grantedAt: (c: ConsentRow) => iso(c.grantedAt),
    expiresAt: (c: ConsentRow) => iso(c.expiresAt),
    revokedAt: (c: ConsentRow) => iso(c.revokedAt),
  },
  InboxMessageConnection: {
    unreadCount: (c: { personId: string }, _: unknown, ctx: Ctx) => ctx.inbox.unreadCount(c.personId),
  },
  InboxMessage: {
    recommendation: async (m: InboxMessageRow, _: unknown, ctx: Ctx) => {
      if (!m.recommendationId) return null;
      const rec = await ctx.recommendations.visibleTo(ctx.caller, m.recommendationId);
      return rec && !rec.withdrawnAt ? rec : null;
    },
    jobPosting: (m: InboxMessageRow, _: unknown, ctx: Ctx) =>
      m.jobPostingId ? ctx.jobPostings.byId(m.jobPostingId) : null,
    createdAt: (m: InboxMessageRow) => iso(m.createdAt),
    readAt: (m: InboxMessageRow) => iso(m.readAt),
    read: (m: InboxMessageRow) => m.readAt !== null,
  },
  DataAccess: {
    actorKind: (l: DataAccessRow) => l.actorKind.toUpperCase(),
    actorRegionCode: (l: DataAccessRow) => l.actorRegion,
    occurredAt: (l: DataAccessRow) => iso(l.occurredAt),
  },
};
