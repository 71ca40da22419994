import {
  DomainError,
  ErrorCode,
  badInput,
  isRegionCode,
  isUuid,
  requireCaller,
  toConnection,
  type Caller,
  type Connection,
  type PageArgs,
} from '@vtv/kit';
import type { DataSource } from 'typeorm';
import type { ConsentRepository } from '../data/consent-repository';
import {
  CONSENT_CHANNELS,
  CONSENT_PURPOSES,
  CONSENT_RECIPIENTS,
  type ConsentChannel,
  type ConsentPurpose,
  type ConsentRecipient,
  type ConsentRow,
} from '../data/entities';
import type { SmsRepository } from '../data/notification-repository';
import type { RecommendationRepository } from '../data/recommendation-repository';
import { beforeIdOf, isSelf } from './access';
import { addDays, chinaDayStart, chinaToday, isCalendarDate } from './dates';
import type { RecommendationService } from './recommendations';

export interface GrantConsentInput {
  purpose: ConsentPurpose;
  recipient: ConsentRecipient;
  channels: ConsentChannel[];
  regionCode?: string | null;
  /** Last day the consent holds (China Standard Time), YYYY-MM-DD. */
  validUntil: string;
}

export type ConsentStatus = 'LIVE' | 'EXPIRED' | 'REVOKED' | 'SUPERSEDED';

export function consentStatus(c: ConsentRow, now: Date): ConsentStatus {
  if (c.revokedReason === 'SUPERSEDED') return 'SUPERSEDED';
  if (c.revokedAt) return 'REVOKED';
  if (c.expiresAt.getTime() <= now.getTime()) return 'EXPIRED';
  return 'LIVE';
}

/**
 * Consents (授权同意) for job recommendations: bound to a purpose, a recipient and a time; granted and
 * revoked by the person only, in one step. Revoking withdraws every recommendation and cancels every
 * SMS not yet sent, in the same transaction.
 */
export class ConsentService {
  constructor(
    private readonly ds: DataSource,
    private readonly consents: ConsentRepository,
    private readonly recommendationRepo: RecommendationRepository,
    private readonly sms: SmsRepository,
    private readonly recommendations: RecommendationService,
    private readonly maxDays: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async grant(caller: Caller, input: GrantConsentInput): Promise<ConsentRow> {
    requireCaller(caller);
    if (caller.kind !== 'person')
      throw new DomainError(ErrorCode.FORBIDDEN, 'Only the person themself may grant consent');
    if (!CONSENT_PURPOSES.includes(input.purpose)) throw badInput('purpose', 'Unknown purpose');
    if (!CONSENT_RECIPIENTS.includes(input.recipient)) throw badInput('recipient', 'Unknown recipient');
    const channels = [...new Set(input.channels ?? [])];
    if (channels.length === 0 || channels.some((c) => !CONSENT_CHANNELS.includes(c)))
      throw badInput('channels', 'Choose at least one of IN_APP and SMS');
    const regionCode = input.regionCode ?? null;
    if (regionCode !== null && !isRegionCode(regionCode))
      throw badInput('regionCode', 'regionCode must be a 6-digit GB/T 2260 code');
    const now = this.now();
    const today = chinaToday(now);
    if (typeof input.validUntil !== 'string' || !isCalendarDate(input.validUntil))
      throw badInput('validUntil', 'validUntil must be a date as YYYY-MM-DD');
    if (input.validUntil < today) throw badInput('validUntil', 'validUntil must not be in the past');
    if (input.validUntil > addDays(today, this.maxDays))
      throw badInput('validUntil', `A consent may last at most ${this.maxDays} days`);
    const personId = caller.id;

    return this.ds.transaction(async (m) => {
      await this.consents.lockPerson(m, personId);
      const superseded = await this.consents.closeOpen(
        m,
        personId,
        input.purpose,
        input.recipient,
        'SUPERSEDED',
        now,
      );
      const consent = await this.consents.insert(m, {
        personId,
        purpose: input.purpose,
        recipient: input.recipient,
        channels: CONSENT_CHANNELS.filter((c) => channels.includes(c)),
        regionCode,
        grantedAt: now,
        expiresAt: chinaDayStart(addDays(input.validUntil, 1)),
      });
      if (superseded.length > 0) {
        // The person still consents: what was recommended stays, now under the new consent.
        await this.recommendationRepo.reassign(m, personId, superseded, consent.id);
      }
      await this.recommendations.refreshPerson(m, personId);
      return consent;
    });
  }

  /** Revokes one of the person's consents: recommendations withdrawn, unsent SMS cancelled, at once. */
  async revoke(caller: Caller, id: string): Promise<ConsentRow> {
    requireCaller(caller);
    const notFound = () => new DomainError(ErrorCode.NOT_FOUND, 'Consent not found', 'id');
    if (caller.kind !== 'person' || !isUuid(id)) throw notFound();
    const personId = caller.id;
    return this.ds.transaction(async (m) => {
      await this.consents.lockPerson(m, personId);
      const consent = await this.consents.byId(id, m);
      if (!consent || consent.personId !== personId) throw notFound();
      if (consent.revokedAt)
        throw new DomainError(ErrorCode.INVALID_STATE, 'This consent is no longer in force', 'id');
      const now = this.now();
      await this.consents.revoke(m, id, now);
      // Nothing else may act on the person's data for this purpose now: one consent per purpose and
      // recipient is open at a time, so its recommendations and queued SMS are all of them.
      await this.recommendationRepo.withdrawAll(m, personId, now);
      await this.sms.cancelPending(m, personId, 'consent revoked', now);
      return (await this.consents.byId(id, m))!;
    });
  }

  /** The live job-recommendation consent of the person; null when none (or for anyone else). */
  async liveFor(caller: Caller, personId: string): Promise<ConsentRow | null> {
    if (!isSelf(caller, personId)) return null;
    return this.consents.live(personId, 'JOB_RECOMMENDATION', 'CAREERS_JOB_SERVICE', this.now());
  }

  /** Every consent the person gave, newest first; null for anyone else. */
  async history(caller: Caller, personId: string, args: PageArgs): Promise<Connection<ConsentRow> | null> {
    if (!isSelf(caller, personId)) return null;
    const { limit, beforeId } = beforeIdOf(args);
    return toConnection(await this.consents.page(personId, beforeId, limit), limit, (c) => c.id);
  }

  status(c: ConsentRow): ConsentStatus {
    return consentStatus(c, this.now());
  }
}
