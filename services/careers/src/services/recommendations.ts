import { isUuid, toConnection, type Caller, type Connection, type PageArgs } from '@vtv/kit';
import type { EntityManager } from 'typeorm';
import type { AccessLogRepository } from '../data/access-log-repository';
import type { ConsentRepository } from '../data/consent-repository';
import type { JobPostingRow, RecommendationRow } from '../data/entities';
import type { InboxRepository, SmsRepository } from '../data/notification-repository';
import type { Match, RecommendationRepository } from '../data/recommendation-repository';
import type { JobPostingRepository } from '../data/repositories';
import { AccessAction, beforeIdOf, isSelf } from './access';
import { chinaToday } from './dates';
import { explanation, yuan } from './summaries';

/** The service a JOB_RECOMMENDATION consent names as recipient: this platform's job service. */
export const RECOMMENDER = 'CAREERS_JOB_SERVICE' as const;
/** How the recommender appears in a person's access log. */
export const RECOMMENDER_ACTOR = 'careers-job-recommender';

export interface RecommendationOptions {
  maxPerRefresh: number;
  /** False when no SMS provider is configured: recommendations go to the inbox only. */
  smsEnabled: boolean;
}

/**
 * Job recommendations (岗位推介), only ever under a live consent: matched on the person's certificates and
 * passed trainings (and region), explained, delivered to the inbox (IN_APP) and by SMS (SMS), logged.
 */
export class RecommendationService {
  constructor(
    private readonly recommendations: RecommendationRepository,
    private readonly postings: JobPostingRepository,
    private readonly consents: ConsentRepository,
    private readonly inbox: InboxRepository,
    private readonly sms: SmsRepository,
    private readonly accessLog: AccessLogRepository,
    private readonly options: RecommendationOptions,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Recomputes a person's recommendations inside the caller's transaction (after a certificate, a
   * completion or a consent). Without a live consent it does nothing. Returns the new ones.
   */
  async refreshPerson(
    m: EntityManager,
    personId: string,
    jobPostingId: string | null = null,
  ): Promise<RecommendationRow[]> {
    await this.consents.lockPerson(m, personId);
    const now = this.now();
    const matches = await this.recommendations.matches(m, {
      now,
      today: chinaToday(now),
      recipient: RECOMMENDER,
      personId,
      jobPostingId,
    });
    if (matches.length === 0) return [];
    // Newest postings first, at most maxPerRefresh at a time: a flood helps nobody.
    const chosen = matches
      .sort((a, b) => (a.jobPostingId < b.jobPostingId ? 1 : -1))
      .slice(0, this.options.maxPerRefresh);
    return this.deliver(m, chosen);
  }

  /** A newly published posting: recommend it to every consenting person it matches. */
  async refreshForPosting(m: EntityManager, jobPostingId: string): Promise<number> {
    const now = this.now();
    const candidates = await this.recommendations.matches(m, {
      now,
      today: chinaToday(now),
      recipient: RECOMMENDER,
      personId: null,
      jobPostingId,
    });
    // Person by person, in a fixed order (each takes the person's consent lock).
    const people = [...new Set(candidates.map((c) => c.personId))].sort();
    let made = 0;
    for (const personId of people) made += (await this.refreshPerson(m, personId, jobPostingId)).length;
    return made;
  }

  private async deliver(m: EntityManager, matches: Match[]): Promise<RecommendationRow[]> {
    const postings = new Map(
      (
        await this.postings.byIds(
          matches.map((x) => x.jobPostingId),
          m,
        )
      ).map((p) => [p.id, p]),
    );
    const made: { rec: RecommendationRow; posting: JobPostingRow; match: Match }[] = [];
    for (const match of matches) {
      const posting = postings.get(match.jobPostingId);
      if (!posting) continue;
      const rec = await this.recommendations.insert(m, {
        personId: match.personId,
        jobPostingId: match.jobPostingId,
        consentId: match.consentId,
        basisKind: match.basisKind,
        basisId: match.basisId,
        basisOccupation: match.basisOccupation,
        basisLevel: match.basisLevel,
        explanation: explanation(match),
      });
      if (rec) made.push({ rec, posting, match });
    }
    if (made.length === 0) return [];
    const personId = made[0]!.match.personId;
    const channels = made[0]!.match.channels;
    const consentId = made[0]!.match.consentId;

    await this.accessLog.add(
      made.map(({ rec, posting }) => ({
        personId,
        actorKind: 'service' as const,
        actorId: RECOMMENDER_ACTOR,
        actorRegion: null,
        action: AccessAction.RECOMMENDATION_MADE,
        purpose: 'JOB_RECOMMENDATION',
        detail: `recommended job posting ${posting.id} (${rec.explanation})`,
      })),
      m,
    );
    if (channels.includes('IN_APP')) {
      await this.inbox.add(
        m,
        made.map(({ rec, posting }) => ({
          personId,
          kind: 'JOB_RECOMMENDATION' as const,
          title: `岗位推荐：${posting.title}`,
          body:
            `${posting.employer}招聘${posting.title}（${posting.occupation}），月薪 ${yuan(posting.payMinFen)}–${yuan(posting.payMaxFen)}，` +
            `有效期至 ${posting.validUntil}。推荐理由：${rec.explanation}。`,
          recommendationId: rec.id,
          jobPostingId: posting.id,
        })),
      );
    }
    if (channels.includes('SMS') && this.options.smsEnabled) {
      // One SMS per refresh, however many postings matched: the frequency cap counts messages.
      const first = made[0]!;
      await this.sms.add(m, {
        personId,
        template: 'JOB_RECOMMENDATION',
        consentId,
        recommendationIds: made.map((x) => x.rec.id),
        params: {
          count: made.length,
          jobTitle: first.posting.title,
          employer: first.posting.employer,
          payRange: `${yuan(first.posting.payMinFen)}–${yuan(first.posting.payMaxFen)}`,
          reason: first.rec.explanation,
        },
      });
    }
    return made.map((x) => x.rec);
  }

  /** The person's current recommendations, newest first; null for anyone else. */
  async forPerson(
    caller: Caller,
    personId: string,
    args: PageArgs,
  ): Promise<Connection<RecommendationRow> | null> {
    if (!isSelf(caller, personId)) return null;
    const { limit, beforeId } = beforeIdOf(args);
    const now = this.now();
    const rows = await this.recommendations.current(personId, now, chinaToday(now), beforeId, limit);
    return toConnection(rows, limit, (r) => r.id);
  }

  /** One recommendation, for the person it was made for only. */
  async visibleTo(caller: Caller, id: string): Promise<RecommendationRow | null> {
    if (!isUuid(id)) return null;
    const rec = await this.recommendations.byId(id);
    return rec && isSelf(caller, rec.personId) ? rec : null;
  }
}
