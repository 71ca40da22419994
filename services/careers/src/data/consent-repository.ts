import { uuidv7 } from '@vtv/kit';
import type { DataSource, EntityManager } from 'typeorm';
import { returnedRows } from './sql';
import { ConsentRow, type ConsentChannel, type ConsentPurpose, type ConsentRecipient } from './entities';

export interface NewConsent {
  personId: string;
  purpose: ConsentPurpose;
  recipient: ConsentRecipient;
  channels: ConsentChannel[];
  regionCode: string | null;
  grantedAt: Date;
  expiresAt: Date;
}

export class ConsentRepository {
  constructor(private readonly ds: DataSource) {}

  /** Serialises consent changes for one person (grant, revoke, and the recommender reading them). */
  async lockPerson(m: EntityManager, personId: string): Promise<void> {
    await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('consent:' || $1, 0))`, [personId]);
  }

  byId(id: string, m: EntityManager = this.ds.manager): Promise<ConsentRow | null> {
    return m.getRepository(ConsentRow).findOneBy({ id });
  }

  /** The live consent for a purpose and recipient (granted, not expired, not revoked), if any. */
  live(
    personId: string,
    purpose: ConsentPurpose,
    recipient: ConsentRecipient,
    now: Date,
    m: EntityManager = this.ds.manager,
  ): Promise<ConsentRow | null> {
    return m
      .getRepository(ConsentRow)
      .createQueryBuilder('c')
      .where('c.person_id = :personId AND c.purpose = :purpose AND c.recipient = :recipient', {
        personId,
        purpose,
        recipient,
      })
      .andWhere('c.revoked_at IS NULL AND c.granted_at <= :now AND c.expires_at > :now', { now })
      .orderBy('c.granted_at', 'DESC')
      .getOne();
  }

  /** Closes the open consent (live or expired) for a purpose and recipient; returns the closed ids. */
  async closeOpen(
    m: EntityManager,
    personId: string,
    purpose: ConsentPurpose,
    recipient: ConsentRecipient,
    reason: 'REVOKED' | 'SUPERSEDED',
    at: Date,
  ): Promise<string[]> {
    const result: unknown = await m.query(
      `UPDATE consents SET revoked_at = $4, revoked_reason = $5
       WHERE person_id = $1 AND purpose = $2 AND recipient = $3 AND revoked_at IS NULL
       RETURNING id`,
      [personId, purpose, recipient, at, reason],
    );
    return returnedRows<{ id: string }>(result).map((r) => r.id);
  }

  async revoke(m: EntityManager, id: string, at: Date): Promise<boolean> {
    const result = await m
      .createQueryBuilder()
      .update(ConsentRow)
      .set({ revokedAt: at, revokedReason: 'REVOKED' })
      .where('id = :id AND revoked_at IS NULL', { id })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async insert(m: EntityManager, c: NewConsent): Promise<ConsentRow> {
    const id = uuidv7();
    await m.getRepository(ConsentRow).insert({ id, ...c, revokedAt: null, revokedReason: null });
    return m.getRepository(ConsentRow).findOneByOrFail({ id });
  }

  /** A page (limit + 1) of a person's consents, newest first. */
  page(personId: string, beforeId: string | null, limit: number): Promise<ConsentRow[]> {
    const qb = this.ds
      .getRepository(ConsentRow)
      .createQueryBuilder('c')
      .where('c.person_id = :personId', { personId });
    if (beforeId !== null) qb.andWhere('c.id < :beforeId', { beforeId });
    return qb
      .orderBy('c.id', 'DESC')
      .limit(limit + 1)
      .getMany();
  }
}
