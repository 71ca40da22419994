import type { Logger } from '@vtv/kit';
import type { DataSource, EntityManager } from 'typeorm';
import type { AccessLogRepository } from '../../data/access-log-repository';
import type { ConsentRepository } from '../../data/consent-repository';
import type { SmsMessageRow } from '../../data/entities';
import type { SmsRepository } from '../../data/notification-repository';
import { AccessAction } from '../access';
import { chinaStartOfToday } from '../dates';
import { RECOMMENDER } from '../recommendations';
import type { SmsProvider } from './provider';
import { nextDayOpening, quietUntil, retryDelayMs, type QuietHours } from './schedule';

export interface SmsPolicy {
  /** Frequency cap: messages per person per China calendar day. */
  maxPerDay: number;
  quietHours: QuietHours | null;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** What happened to one message on one pass. */
export type SmsStep = 'SENT' | 'RETRY' | 'FAILED' | 'CANCELLED' | 'DEFERRED_QUIET_HOURS' | 'DEFERRED_CAP';

/** How the SMS gateway appears in a person's access log. */
export const SMS_ACTOR = 'sms-gateway';

/**
 * Sends the SMS outbox. Each message is handled in its own transaction holding its row (FOR UPDATE SKIP
 * LOCKED, so replicas share the work) and the person's consent lock (so a revocation cannot slip
 * between the consent check and the send, and the daily cap is counted without races).
 *
 * Rules, checked at send time: no live JOB_RECOMMENDATION consent naming SMS → CANCELLED; inside quiet
 * hours → deferred to their end; the person's cap for today reached → deferred to the next day's
 * opening. A sent message is never picked again. If the process dies after the provider accepted a
 * message but before the commit, the message is sent again with the same idempotency key, and the
 * provider drops the repeat.
 */
export class SmsDispatcher {
  constructor(
    private readonly ds: DataSource,
    private readonly sms: SmsRepository,
    private readonly consents: ConsentRepository,
    private readonly accessLog: AccessLogRepository,
    private readonly provider: SmsProvider,
    private readonly policy: SmsPolicy,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Handles due messages until none is left or `max` were handled; returns how many were handled. */
  async dispatchDue(max = 50): Promise<number> {
    let handled = 0;
    while (handled < max) {
      const step = await this.dispatchOne();
      if (step === null) break;
      handled += 1;
    }
    return handled;
  }

  /** Handles the next due message, if any. */
  async dispatchOne(): Promise<SmsStep | null> {
    return this.ds.transaction(async (m) => {
      const now = this.now();
      const msg = await this.sms.claimDue(m, now);
      if (!msg) return null;
      return this.handle(m, msg, now);
    });
  }

  private async handle(m: EntityManager, msg: SmsMessageRow, now: Date): Promise<SmsStep> {
    await this.consents.lockPerson(m, msg.personId);
    const consent = await this.consents.live(msg.personId, 'JOB_RECOMMENDATION', RECOMMENDER, now, m);
    if (!consent || !consent.channels.includes('SMS')) {
      await this.sms.update(m, msg.id, {
        status: 'CANCELLED',
        lastError: 'no live consent for SMS',
        finishedAt: now,
      });
      return 'CANCELLED';
    }
    const quietEnd = quietUntil(now, this.policy.quietHours);
    if (quietEnd) {
      await this.sms.update(m, msg.id, { nextAttemptAt: quietEnd });
      return 'DEFERRED_QUIET_HOURS';
    }
    const sentToday = await this.sms.sentSince(m, msg.personId, chinaStartOfToday(now));
    if (sentToday >= this.policy.maxPerDay) {
      await this.sms.update(m, msg.id, { nextAttemptAt: nextDayOpening(now, this.policy.quietHours) });
      return 'DEFERRED_CAP';
    }

    const result = await this.provider.send({
      id: msg.id,
      personId: msg.personId,
      template: msg.template,
      params: msg.params,
    });
    const attempts = msg.attempts + 1;
    const at = this.now();
    if (result.outcome === 'SENT') {
      await this.sms.update(m, msg.id, {
        status: 'SENT',
        attempts,
        sentAt: at,
        finishedAt: at,
        lastError: null,
        providerMessageId: result.providerMessageId,
      });
      await this.accessLog.add(
        [
          {
            personId: msg.personId,
            actorKind: 'service',
            actorId: SMS_ACTOR,
            actorRegion: null,
            action: AccessAction.SMS_SENT,
            purpose: 'JOB_RECOMMENDATION',
            detail: `sent job recommendation SMS ${msg.id} through the ${this.provider.name} SMS gateway`,
            occurredAt: at,
          },
        ],
        m,
      );
      return 'SENT';
    }
    if (result.outcome === 'RETRY' && attempts < this.policy.maxAttempts) {
      const delay = Math.max(
        retryDelayMs(attempts, this.policy.retryBaseMs, this.policy.retryMaxMs),
        result.retryAfterMs ?? 0,
      );
      await this.sms.update(m, msg.id, {
        attempts,
        lastError: result.error,
        nextAttemptAt: new Date(at.getTime() + delay),
      });
      this.logger.warn(
        { smsId: msg.id, attempts, error: result.error, retryInMs: delay },
        'SMS send failed; will retry',
      );
      return 'RETRY';
    }
    await this.sms.update(m, msg.id, { status: 'FAILED', attempts, lastError: result.error, finishedAt: at });
    this.logger.error({ smsId: msg.id, attempts, error: result.error }, 'SMS given up');
    return 'FAILED';
  }
}
