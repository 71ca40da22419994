import { uuidv7 } from '@vtv/kit';
import type { DataSource, EntityManager } from 'typeorm';
import { InboxMessageRow, SmsMessageRow } from './entities';
import { returnedRows } from './sql';

export type NewInboxMessage = Pick<
  InboxMessageRow,
  'personId' | 'kind' | 'title' | 'body' | 'recommendationId' | 'jobPostingId'
>;

export type NewSmsMessage = Pick<
  SmsMessageRow,
  'personId' | 'template' | 'params' | 'consentId' | 'recommendationIds'
> & { nextAttemptAt?: Date };

/** The in-app inbox (站内信). */
export class InboxRepository {
  constructor(private readonly ds: DataSource) {}

  async add(m: EntityManager, messages: NewInboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await m.getRepository(InboxMessageRow).insert(messages.map((msg) => ({ ...msg, id: uuidv7() })));
  }

  /** A page (limit + 1) of a person's messages, newest first. */
  page(
    personId: string,
    unreadOnly: boolean,
    beforeId: string | null,
    limit: number,
  ): Promise<InboxMessageRow[]> {
    const qb = this.ds
      .getRepository(InboxMessageRow)
      .createQueryBuilder('i')
      .where('i.person_id = :personId', { personId });
    if (unreadOnly) qb.andWhere('i.read_at IS NULL');
    if (beforeId !== null) qb.andWhere('i.id < :beforeId', { beforeId });
    return qb
      .orderBy('i.id', 'DESC')
      .limit(limit + 1)
      .getMany();
  }

  async unreadCount(personId: string): Promise<number> {
    const [row]: { n: number }[] = await this.ds.query(
      'SELECT count(*)::int AS n FROM inbox_messages WHERE person_id = $1 AND read_at IS NULL',
      [personId],
    );
    return row?.n ?? 0;
  }

  /** Marks the person's own messages among `ids` read (others' ids are ignored); returns them. */
  async markRead(personId: string, ids: string[], at: Date): Promise<InboxMessageRow[]> {
    if (ids.length === 0) return [];
    await this.ds.query(
      `UPDATE inbox_messages SET read_at = $3 WHERE person_id = $1 AND id = ANY($2::uuid[]) AND read_at IS NULL`,
      [personId, ids, at],
    );
    return this.ds
      .getRepository(InboxMessageRow)
      .createQueryBuilder('i')
      .where('i.person_id = :personId AND i.id = ANY(:ids)', { personId, ids })
      .orderBy('i.id', 'DESC')
      .getMany();
  }
}

/** The SMS outbox (短信发送表): the SMS job claims due rows and sends them through the provider. */
export class SmsRepository {
  constructor(private readonly ds: DataSource) {}

  async add(m: EntityManager, msg: NewSmsMessage): Promise<SmsMessageRow> {
    const id = uuidv7();
    await m.getRepository(SmsMessageRow).insert({
      id,
      personId: msg.personId,
      template: msg.template,
      params: msg.params,
      consentId: msg.consentId,
      recommendationIds: msg.recommendationIds,
      status: 'PENDING',
      attempts: 0,
      nextAttemptAt: msg.nextAttemptAt ?? new Date(),
    });
    return m.getRepository(SmsMessageRow).findOneByOrFail({ id });
  }

  /** Locks the next due message (skipping those another sender holds); null when none is due. */
  async claimDue(m: EntityManager, now: Date): Promise<SmsMessageRow | null> {
    const rows: { id: string }[] = await m.query(
      `SELECT id FROM sms_messages WHERE status = 'PENDING' AND next_attempt_at <= $1
       ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [now],
    );
    if (rows.length === 0) return null;
    return m.getRepository(SmsMessageRow).findOneByOrFail({ id: rows[0]!.id });
  }

  /** Messages sent to a person since an instant (the frequency cap's count). */
  async sentSince(m: EntityManager, personId: string, since: Date): Promise<number> {
    const [row]: { n: number }[] = await m.query(
      `SELECT count(*)::int AS n FROM sms_messages WHERE person_id = $1 AND status = 'SENT' AND sent_at >= $2`,
      [personId, since],
    );
    return row?.n ?? 0;
  }

  async update(m: EntityManager, id: string, patch: Partial<SmsMessageRow>): Promise<void> {
    await m.getRepository(SmsMessageRow).update({ id }, patch);
  }

  /** Cancels a person's pending messages (consent revoked); returns their ids. */
  async cancelPending(m: EntityManager, personId: string, reason: string, at: Date): Promise<string[]> {
    const result: unknown = await m.query(
      `UPDATE sms_messages SET status = 'CANCELLED', last_error = $2, finished_at = $3
       WHERE person_id = $1 AND status = 'PENDING' RETURNING id`,
      [personId, reason, at],
    );
    return returnedRows<{ id: string }>(result).map((r) => r.id);
  }

  byId(id: string): Promise<SmsMessageRow | null> {
    return this.ds.getRepository(SmsMessageRow).findOneBy({ id });
  }

  forPerson(personId: string): Promise<SmsMessageRow[]> {
    return this.ds.getRepository(SmsMessageRow).find({ where: { personId }, order: { id: 'ASC' } });
  }
}
