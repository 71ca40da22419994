/**
 * The SMS adapter and sender against a local HTTP gateway (node:http on 127.0.0.1, port 0) and real
 * PostgreSQL: retries on 5xx and network errors with the same idempotency key, no resend after success,
 * permanent refusals, consent checked at send time, the daily cap and quiet hours (China time).
 */
import { uuidv7 } from '@vtv/kit';
import { AccessLogRepository, ConsentRepository, SmsRepository } from '../src/data/repositories';
import { addDays, chinaDayStart, chinaToday } from '../src/services/dates';
import { SmsDispatcher, type SmsPolicy } from '../src/services/sms/dispatcher';
import { HttpSmsProvider } from '../src/services/sms/provider';
import { parseQuietHours } from '../src/services/sms/schedule';
import { createLogger } from '@vtv/kit';
import { daysFromToday, person, startHarness, startSmsServer, type Harness, type SmsServer } from './harness';

const API_KEY = 'sms-test-key-0123456789';
const HOUR = 60 * 60 * 1000;

const GRANT = `mutation ($input: GrantConsentInput!) { grantConsent(input: $input) { consent { id } errors { code field } } }`;
const REVOKE = `mutation ($id: ID!) { revokeConsent(id: $id) { consent { status } errors { code } } }`;

describe('SMS sending', () => {
  let h: Harness;
  let gateway: SmsServer;
  let sms: SmsRepository;
  /** The dispatcher's clock: tomorrow, noon in China (always in the future, outside quiet hours). */
  let clock: Date;
  const tomorrowNoon = () => new Date(chinaDayStart(addDays(chinaToday(), 1)).getTime() + 12 * HOUR);

  function dispatcher(policy: Partial<SmsPolicy> = {}, url?: string) {
    return new SmsDispatcher(
      h.running.deps.ds,
      sms,
      new ConsentRepository(h.running.deps.ds),
      new AccessLogRepository(h.running.deps.ds),
      new HttpSmsProvider({ url: url ?? gateway.url, apiKey: API_KEY, timeoutMs: 2_000 }),
      {
        maxPerDay: 3,
        quietHours: parseQuietHours('22:00-08:00') ?? null,
        maxAttempts: 4,
        retryBaseMs: 60_000,
        retryMaxMs: HOUR,
        ...policy,
      },
      createLogger('careers-sms-test', 'silent'),
      () => clock,
    );
  }

  async function consenting(
    channels: string[] = ['IN_APP', 'SMS'],
  ): Promise<{ personId: string; consentId: string }> {
    const personId = uuidv7();
    const res = await h.gql(person(personId), GRANT, {
      input: {
        purpose: 'JOB_RECOMMENDATION',
        recipient: 'CAREERS_JOB_SERVICE',
        channels,
        validUntil: daysFromToday(30),
      },
    });
    expect(res.body.data.grantConsent.errors).toEqual([]);
    return { personId, consentId: res.body.data.grantConsent.consent.id };
  }

  async function queue(personId: string, consentId: string) {
    return h.running.deps.ds.transaction((m) =>
      sms.add(m, {
        personId,
        consentId,
        template: 'JOB_RECOMMENDATION',
        recommendationIds: [],
        params: {
          count: 1,
          jobTitle: '电工',
          employer: '某公司',
          payRange: '4,500.00 元–7,000.00 元',
          reason: 'matches your 电工 四级 certificate',
        },
      }),
    );
  }

  beforeAll(async () => {
    // No SMS_PROVIDER_URL: the service's own sender stays off, so these tests drive one with a clock.
    h = await startHarness('careers_sms');
    gateway = await startSmsServer();
    sms = new SmsRepository(h.running.deps.ds);
  });

  afterAll(async () => {
    await gateway?.close();
    await h?.stop();
  });

  beforeEach(async () => {
    // Each test starts with an empty queue: what an earlier test left pending is not its business.
    await h.query(
      `UPDATE sms_messages SET status = 'CANCELLED', finished_at = now() WHERE status = 'PENDING'`,
    );
    gateway.requests.length = 0;
    gateway.respond = () => 200;
    clock = tomorrowNoon();
  });

  it('retries 5xx with backoff and the same idempotency key, then never resends after success', async () => {
    const { personId, consentId } = await consenting();
    const msg = await queue(personId, consentId);
    gateway.respond = (_req, n) => (n <= 2 ? 503 : 200);
    const d = dispatcher();

    expect(await d.dispatchOne()).toBe('RETRY');
    expect((await sms.byId(msg.id))!).toMatchObject({
      status: 'PENDING',
      attempts: 1,
      lastError: 'HTTP 503',
    });
    // Not due again until the backoff has passed.
    expect(await d.dispatchOne()).toBeNull();
    clock = new Date(clock.getTime() + 60_000);
    expect(await d.dispatchOne()).toBe('RETRY');
    expect((await sms.byId(msg.id))!.nextAttemptAt.getTime()).toBe(clock.getTime() + 120_000); // doubled
    clock = new Date(clock.getTime() + 120_000);
    expect(await d.dispatchOne()).toBe('SENT');

    const sent = (await sms.byId(msg.id))!;
    expect(sent).toMatchObject({
      status: 'SENT',
      attempts: 3,
      lastError: null,
      providerMessageId: `gw-${msg.id}`,
    });
    expect(sent.sentAt!.getTime()).toBe(clock.getTime());
    expect(gateway.requests).toHaveLength(3);
    for (const r of gateway.requests) {
      expect(r.headers['x-api-key']).toBe(API_KEY);
      expect(r.headers['idempotency-key']).toBe(msg.id);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.body).toEqual({
        messageId: msg.id,
        recipient: { personId },
        template: 'JOB_RECOMMENDATION',
        params: msg.params,
      });
      // Careers has no phone number to send, and sends none.
      expect(JSON.stringify(r.body)).not.toMatch(/phone|mobile|1[3-9]\d{9}/i);
    }

    // Later passes, days later, find nothing to send.
    clock = new Date(clock.getTime() + 3 * 24 * HOUR);
    expect(await d.dispatchDue()).toBe(0);
    expect(gateway.requests).toHaveLength(3);

    const log = await h.query<{ action: string; actor_id: string }>(
      `SELECT action, actor_id FROM data_access_log WHERE person_id = $1 AND action = 'SMS_SENT'`,
      [personId],
    );
    expect(log).toEqual([{ action: 'SMS_SENT', actor_id: 'sms-gateway' }]);
  });

  it('retries network errors and gives up after the last attempt', async () => {
    const { personId, consentId } = await consenting();
    const dropped = await queue(personId, consentId);
    gateway.respond = (_req, n) => (n === 1 ? 'drop' : 200);
    const d = dispatcher();
    expect(await d.dispatchOne()).toBe('RETRY');
    expect((await sms.byId(dropped.id))!.lastError).toMatch(/^network: /);
    clock = new Date(clock.getTime() + 60_000);
    expect(await d.dispatchOne()).toBe('SENT');

    // A gateway that is down for good: attempts 1..4, then FAILED, then silence.
    const doomed = await queue(personId, consentId);
    gateway.requests.length = 0;
    gateway.respond = () => 502;
    for (let i = 0; i < 4; i += 1) {
      await d.dispatchDue();
      clock = new Date(clock.getTime() + HOUR);
    }
    expect((await sms.byId(doomed.id))!).toMatchObject({
      status: 'FAILED',
      attempts: 4,
      lastError: 'HTTP 502',
    });
    expect(gateway.requests).toHaveLength(4);
    clock = new Date(clock.getTime() + 24 * HOUR);
    expect(await d.dispatchDue()).toBe(0);
    expect(gateway.requests).toHaveLength(4);
  });

  it('retries against an unreachable gateway (connection refused)', async () => {
    const { personId, consentId } = await consenting();
    const msg = await queue(personId, consentId);
    const closed = await startSmsServer();
    const url = closed.url;
    await closed.close();
    expect(await dispatcher({}, url).dispatchOne()).toBe('RETRY');
    expect((await sms.byId(msg.id))!).toMatchObject({ status: 'PENDING', attempts: 1 });
    expect((await sms.byId(msg.id))!.lastError).toMatch(/^network: /);
  });

  it('does not retry a permanent refusal (4xx)', async () => {
    const { personId, consentId } = await consenting();
    const msg = await queue(personId, consentId);
    gateway.respond = () => 400;
    const d = dispatcher();
    expect(await d.dispatchOne()).toBe('FAILED');
    clock = new Date(clock.getTime() + 24 * HOUR);
    expect(await d.dispatchDue()).toBe(0);
    expect(gateway.requests).toHaveLength(1);
    expect((await sms.byId(msg.id))!).toMatchObject({ status: 'FAILED', attempts: 1, lastError: 'HTTP 400' });
  });

  it('sends nothing without a live consent naming SMS', async () => {
    const inAppOnly = await consenting(['IN_APP']);
    const a = await queue(inAppOnly.personId, inAppOnly.consentId);
    const revoked = await consenting();
    const b = await queue(revoked.personId, revoked.consentId);
    // Revocation cancels queued messages at once.
    const res = await h.gql(person(revoked.personId), REVOKE, { id: revoked.consentId });
    expect(res.body.data.revokeConsent).toEqual({ consent: { status: 'REVOKED' }, errors: [] });
    expect((await sms.byId(b.id))!).toMatchObject({ status: 'CANCELLED' });
    // And a message queued behind a consent that has since expired is cancelled at send time.
    const expired = await consenting();
    const c = await queue(expired.personId, expired.consentId);
    clock = new Date(chinaDayStart(daysFromToday(31)).getTime() + 12 * HOUR);

    expect(await dispatcher().dispatchDue()).toBe(2);
    expect(gateway.requests).toEqual([]);
    for (const id of [a.id, b.id, c.id]) expect((await sms.byId(id))!.status).toBe('CANCELLED');
    expect((await sms.byId(a.id))!.lastError).toBe('no live consent for SMS');
  });

  it('caps SMS per person per China day and defers the rest to the next day', async () => {
    const { personId, consentId } = await consenting();
    const other = await consenting();
    const msgs = [];
    for (let i = 0; i < 3; i += 1) msgs.push(await queue(personId, consentId));
    const otherMsg = await queue(other.personId, other.consentId);
    const d = dispatcher({ maxPerDay: 2 });
    const steps = [];
    for (let i = 0; i < 4; i += 1) steps.push(await d.dispatchOne());
    expect(steps.sort()).toEqual(['DEFERRED_CAP', 'SENT', 'SENT', 'SENT']);
    const third = (await sms.byId(msgs[2]!.id))!;
    expect(third.status).toBe('PENDING');
    // Next day at 08:00 China time: midnight is inside the quiet hours.
    const tomorrow = addDays(chinaToday(clock), 1);
    expect(third.nextAttemptAt.toISOString()).toBe(
      new Date(chinaDayStart(tomorrow).getTime() + 8 * HOUR).toISOString(),
    );
    expect((await sms.byId(otherMsg.id))!.status).toBe('SENT');
    expect(await d.dispatchDue()).toBe(0);
    clock = third.nextAttemptAt;
    expect(await d.dispatchOne()).toBe('SENT');
    expect(gateway.requests).toHaveLength(4);
  });

  it('defers messages in quiet hours (22:00–08:00 China time) to their end', async () => {
    const { personId, consentId } = await consenting();
    const msg = await queue(personId, consentId);
    const day = addDays(chinaToday(), 1);
    clock = new Date(chinaDayStart(day).getTime() + 23 * HOUR); // 23:00 China
    const d = dispatcher();
    expect(await d.dispatchOne()).toBe('DEFERRED_QUIET_HOURS');
    const deferred = (await sms.byId(msg.id))!;
    expect(deferred.nextAttemptAt.toISOString()).toBe(
      new Date(chinaDayStart(addDays(day, 1)).getTime() + 8 * HOUR).toISOString(),
    );
    expect(deferred.attempts).toBe(0);
    clock = new Date(chinaDayStart(addDays(day, 1)).getTime() + 7 * HOUR + 59 * 60_000); // 07:59
    expect(await d.dispatchOne()).toBeNull();
    clock = deferred.nextAttemptAt; // 08:00
    expect(await d.dispatchOne()).toBe('SENT');
    expect(gateway.requests).toHaveLength(1);
  });

  it('shares the outbox between concurrent senders without sending a message twice', async () => {
    const people = await Promise.all([consenting(), consenting(), consenting(), consenting()]);
    const ids = [];
    for (const p of people)
      for (let i = 0; i < 2; i += 1) ids.push((await queue(p.personId, p.consentId)).id);
    await Promise.all([dispatcher().dispatchDue(), dispatcher().dispatchDue(), dispatcher().dispatchDue()]);
    const sentIds = gateway.requests.map((r) => r.body.messageId).sort();
    expect(sentIds).toEqual([...ids].sort());
  });
});
