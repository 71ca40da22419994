/**
 * Consent-bound job recommendations against real PostgreSQL and Kafka, with the service's own SMS sender
 * talking to a local HTTP gateway: nothing is recommended or sent without a live consent; recommendations
 * are matched on certificates and passed trainings (and region), explained, refreshed when a certificate
 * or completion arrives or a posting is published; revoking stops everything at once.
 */
import { CertificateImportedSchema, CertificateKind, CompletionRecordedSchema, TOPICS } from '@vtv/events';
import { uuidv7, type Caller } from '@vtv/kit';
import {
  contractEvent,
  daysFromToday,
  eventually,
  person,
  startHarness,
  startSmsServer,
  ts,
  type Harness,
  type SmsServer,
} from './harness';

const API_KEY = 'recommendation-test-key-0123';
const wuhanPublisher: Caller = {
  kind: 'staff',
  id: uuidv7(),
  regionCode: '420100',
  permissions: ['careers:jobs:write'],
};
const henanPublisher: Caller = {
  kind: 'staff',
  id: uuidv7(),
  regionCode: '410000',
  permissions: ['careers:jobs:write'],
};
const integrator: Caller = {
  kind: 'client',
  id: 'client-wuhan-osta',
  regionCode: '420100',
  permissions: ['careers:certificates:import'],
};

const PUBLISH = `mutation ($input: PublishJobPostingInput!) { publishJobPosting(input: $input) { jobPosting { id } errors { code field } } }`;
const IMPORT = `mutation ($input: ImportCertificateInput!) { importCertificate(input: $input) { certificate { id } errors { code field } } }`;
const GRANT = `mutation ($input: GrantConsentInput!) {
  grantConsent(input: $input) { consent { id purpose recipient channels regionCode status grantedAt expiresAt revokedAt } errors { code field } }
}`;
const REVOKE = `mutation ($id: ID!) { revokeConsent(id: $id) { consent { id status revokedAt } errors { code field } } }`;
const MARK_READ = `mutation ($ids: [ID!]!) { markInboxMessagesRead(ids: $ids) { messages { id read } unreadCount errors { code field } } }`;
const ME = `query ($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on Person {
      recommendations { edges { node { id explanation basis basisOccupation basisLevel certificate { id } jobPosting { id title } } } }
      jobRecommendationConsent { id status channels }
      consents { edges { node { id status } } }
      inbox { unreadCount edges { node { id title body read recommendation { id } jobPosting { id } } } }
      dataAccessLog { edges { node { action actorKind actorId purpose detail } } }
    }
  }
}`;

interface Me {
  recommendations: {
    edges: {
      node: {
        id: string;
        explanation: string;
        basis: string;
        basisOccupation: string;
        basisLevel: string | null;
        certificate: { id: string } | null;
        jobPosting: { id: string; title: string };
      };
    }[];
  } | null;
  jobRecommendationConsent: { id: string; status: string; channels: string[] } | null;
  consents: { edges: { node: { id: string; status: string } }[] } | null;
  inbox: {
    unreadCount: number;
    edges: { node: { id: string; title: string; body: string; read: boolean } }[];
  } | null;
  dataAccessLog: {
    edges: { node: { action: string; actorKind: string; actorId: string; purpose: string | null } }[];
  } | null;
}

describe('job recommendations under consent', () => {
  let h: Harness;
  let gateway: SmsServer;
  const tag = uuidv7().slice(-6);
  const postings: Record<string, string> = {};

  async function publish(name: string, input: Record<string, unknown>, caller = wuhanPublisher) {
    const res = await h.gql(caller, PUBLISH, {
      input: {
        title: `${name}-${tag}`,
        employer: '武汉某制造有限公司',
        occupation: '电工',
        regionCode: '420106',
        payMinFen: 450_000,
        payMaxFen: 700_000,
        validUntil: daysFromToday(30),
        ...input,
      },
    });
    expect(res.body.data.publishJobPosting.errors).toEqual([]);
    postings[name] = res.body.data.publishJobPosting.jobPosting.id;
    return postings[name]!;
  }

  async function me(personId: string): Promise<Me> {
    const res = await h.gql(person(personId), ME, { reps: [{ __typename: 'Person', id: personId }] });
    expect(res.body.errors).toBeUndefined();
    return res.body.data._entities[0] as Me;
  }

  const recommendedTitles = async (personId: string) =>
    (await me(personId))
      .recommendations!.edges.map((e) => e.node.jobPosting.title.replace(`-${tag}`, ''))
      .sort();

  async function grant(personId: string, channels: string[], extra: Record<string, unknown> = {}) {
    const res = await h.gql(person(personId), GRANT, {
      input: {
        purpose: 'JOB_RECOMMENDATION',
        recipient: 'CAREERS_JOB_SERVICE',
        channels,
        validUntil: daysFromToday(180),
        ...extra,
      },
    });
    expect(res.body.data.grantConsent.errors).toEqual([]);
    return res.body.data.grantConsent.consent as { id: string; status: string; expiresAt: string };
  }

  async function importCertificate(holderId: string, occupation: string, level: string) {
    const res = await h.gql(integrator, IMPORT, {
      input: {
        holderId,
        regionCode: '420102',
        kind: 'SKILL_LEVEL',
        occupation,
        level,
        issuer: '武汉市职业技能鉴定指导中心',
        number: `WH${uuidv7()}`,
        issuedOn: daysFromToday(-5),
      },
    });
    expect(res.body.data.importCertificate.errors).toEqual([]);
    return res.body.data.importCertificate.certificate.id as string;
  }

  function completion(personId: string, occupation: string, passed = true) {
    const classId = uuidv7();
    return contractEvent(CompletionRecordedSchema, TOPICS.trainingEnrollment.name, classId, '/vtv/training', {
      enrollmentId: uuidv7(),
      classId,
      institutionId: uuidv7(),
      personId,
      regionCode: '420102',
      passed,
      attendanceRateBp: 9_500,
      reviewerId: uuidv7(),
      occupation,
      level: '',
      recordedAt: ts(new Date()),
    });
  }

  async function completionArrived(enrollmentEvent: ReturnType<typeof completion>) {
    await eventually(
      async () => {
        const rows = await h.query('SELECT 1 FROM inbox WHERE event_id = $1', [enrollmentEvent.id]);
        return rows.length ? true : undefined;
      },
      30_000,
      'completion consumed',
    );
  }

  const smsFor = (personId: string) => gateway.requests.filter((r) => r.body.recipient.personId === personId);

  beforeAll(async () => {
    gateway = await startSmsServer();
    h = await startHarness('careers_recs', {
      kafka: true,
      env: {
        SMS_PROVIDER_URL: gateway.url,
        SMS_API_KEY: API_KEY,
        SMS_QUIET_HOURS: 'none',
        SMS_POLL_MS: '50',
        SMS_RETRY_BASE_MS: '50',
        SMS_MAX_PER_DAY: '10',
      },
    });
    await publish('electrician-l4', { requiredCertificateKind: 'SKILL_LEVEL', requiredLevel: 'LEVEL_4' });
    await publish('electrician-any', { regionCode: '420111' });
    await publish('electrician-l2', { requiredCertificateKind: 'SKILL_LEVEL', requiredLevel: 'LEVEL_2' });
    await publish('welder', { occupation: '焊工' });
    await publish('electrician-henan', { regionCode: '410402' }, henanPublisher);
  });

  afterAll(async () => {
    await h?.stop();
    await gateway?.close();
  });

  describe('without consent', () => {
    it('recommends nothing and sends nothing, whatever the person’s certificates and trainings', async () => {
      const personId = uuidv7();
      await importCertificate(personId, '电工', 'LEVEL_4');
      const done = completion(personId, '电工');
      await h.publish([done]);
      await completionArrived(done);
      await publish('electrician-late', {});

      const view = await me(personId);
      expect(view.recommendations!.edges).toEqual([]);
      expect(view.jobRecommendationConsent).toBeNull();
      expect(view.inbox!.edges).toEqual([]);
      expect(view.dataAccessLog!.edges.map((e) => e.node.action)).toEqual(['CERTIFICATE_IMPORTED']);
      const rows = await h.query(
        `SELECT 'rec' FROM recommendations WHERE person_id = $1 UNION ALL SELECT 'sms' FROM sms_messages WHERE person_id = $1`,
        [personId],
      );
      expect(rows).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 300)); // a few sender polls
      expect(smsFor(personId)).toEqual([]);
    });
  });

  describe('with consent', () => {
    const holder = uuidv7();
    let certificateId: string;
    let consentId: string;

    beforeAll(async () => {
      certificateId = await importCertificate(holder, '电工', 'LEVEL_4');
    });

    it('recommends matching open postings in the qualification’s city at once, explained', async () => {
      const consent = await grant(holder, ['IN_APP', 'SMS']);
      consentId = consent.id;
      expect(consent.status).toBe('LIVE');
      const view = await me(holder);
      expect(view.jobRecommendationConsent).toEqual({
        id: consentId,
        status: 'LIVE',
        channels: ['IN_APP', 'SMS'],
      });
      const recs = view.recommendations!.edges.map((e) => e.node);
      // Not the welder, not level 2 (above the holder's level 4), not Henan (outside Wuhan).
      expect(recs.map((r) => r.jobPosting.id).sort()).toEqual(
        [postings['electrician-l4'], postings['electrician-any'], postings['electrician-late']].sort(),
      );
      for (const r of recs) {
        expect(r).toMatchObject({
          explanation: 'matches your 电工 四级 certificate',
          basis: 'CERTIFICATE',
          basisOccupation: '电工',
          basisLevel: 'LEVEL_4',
          certificate: { id: certificateId },
        });
      }
    });

    it('announces them in the inbox, with read/unread', async () => {
      const inbox = (await me(holder)).inbox!;
      expect(inbox.unreadCount).toBe(3);
      expect(inbox.edges).toHaveLength(3);
      expect(inbox.edges[0]!.node.body).toMatch(/推荐理由：matches your 电工 四级 certificate。$/);
      const first = inbox.edges[0]!.node.id;
      const res = await h.gql(person(holder), MARK_READ, { ids: [first] });
      expect(res.body.data.markInboxMessagesRead).toEqual({
        messages: [{ id: first, read: true }],
        unreadCount: 2,
        errors: [],
      });
      // Someone else cannot mark (or learn about) the holder's messages.
      const other = await h.gql(person(uuidv7()), MARK_READ, { ids: [inbox.edges[1]!.node.id] });
      expect(other.body.data.markInboxMessagesRead).toMatchObject({ messages: [], unreadCount: 0 });
      expect((await me(holder)).inbox!.unreadCount).toBe(2);
    });

    it('sends one SMS through the gateway for the batch, logged for the person', async () => {
      const [request] = await eventually(
        async () => (smsFor(holder).length ? smsFor(holder) : undefined),
        10_000,
        'SMS',
      );
      expect(request!.headers['x-api-key']).toBe(API_KEY);
      expect(request!.body).toMatchObject({
        recipient: { personId: holder },
        template: 'JOB_RECOMMENDATION',
        params: expect.objectContaining({ count: 3, reason: 'matches your 电工 四级 certificate' }),
      });
      await eventually(async () => {
        const log = (await me(holder)).dataAccessLog!.edges.map((e) => e.node.action);
        return log.includes('SMS_SENT') ? log : undefined;
      });
      const log = (await me(holder)).dataAccessLog!.edges.map((e) => e.node);
      expect(log.filter((l) => l.action === 'RECOMMENDATION_MADE')).toHaveLength(3);
      expect(log.find((l) => l.action === 'SMS_SENT')).toMatchObject({
        actorKind: 'SERVICE',
        actorId: 'sms-gateway',
        purpose: 'JOB_RECOMMENDATION',
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(smsFor(holder)).toHaveLength(1); // sent once, never again
    });

    it('recommends a newly published matching posting to consenting people', async () => {
      const id = await publish('electrician-new', { regionCode: '420103' });
      expect(await recommendedTitles(holder)).toContain('electrician-new');
      await eventually(async () => (smsFor(holder).length === 2 ? true : undefined), 10_000, 'second SMS');
      expect(smsFor(holder)[1]!.body.params).toMatchObject({ count: 1 });
      expect((await me(holder)).inbox!.edges[0]!.node).toMatchObject({ jobPosting: { id } });
    });

    it('stops at once when revoked: recommendations withdrawn, queued SMS cancelled, nothing new', async () => {
      // Make the next SMS stick in the queue (gateway failing), then revoke.
      gateway.respond = (req) => (req.body.recipient.personId === holder ? 503 : 200);
      await publish('electrician-pending', { regionCode: '420104' });
      await eventually(
        async () => (smsFor(holder).length >= 3 ? true : undefined),
        10_000,
        'failing SMS attempt',
      );
      const res = await h.gql(person(holder), REVOKE, { id: consentId });
      expect(res.body.data.revokeConsent).toMatchObject({
        consent: { id: consentId, status: 'REVOKED' },
        errors: [],
      });
      gateway.respond = () => 200;
      const attemptsAtRevocation = smsFor(holder).length;

      const view = await me(holder);
      expect(view.recommendations!.edges).toEqual([]);
      expect(view.jobRecommendationConsent).toBeNull();
      expect(view.consents!.edges.map((e) => e.node)).toEqual([{ id: consentId, status: 'REVOKED' }]);
      const pending = await h.query<{ status: string }>(
        `SELECT status FROM sms_messages WHERE person_id = $1 ORDER BY id`,
        [holder],
      );
      expect(pending.map((p) => p.status)).toEqual(['SENT', 'SENT', 'CANCELLED']);

      // New qualifications and new postings after revocation: nothing.
      await importCertificate(holder, '电工', 'LEVEL_2');
      const done = completion(holder, '焊工');
      await h.publish([done]);
      await completionArrived(done);
      await publish('electrician-after', {});
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await me(holder)).recommendations!.edges).toEqual([]);
      const live = await h.query(
        `SELECT 1 FROM recommendations WHERE person_id = $1 AND withdrawn_at IS NULL`,
        [holder],
      );
      expect(live).toEqual([]);
      expect(smsFor(holder)).toHaveLength(attemptsAtRevocation);
      expect((await h.query(`SELECT 1 FROM sms_messages WHERE person_id = $1`, [holder])).length).toBe(3);

      // Revoking twice is refused; another person's consent looks like none at all.
      const again = await h.gql(person(holder), REVOKE, { id: consentId });
      expect(again.body.data.revokeConsent.errors).toEqual([
        expect.objectContaining({ code: 'INVALID_STATE' }),
      ]);
      const foreign = await h.gql(person(uuidv7()), REVOKE, { id: consentId });
      expect(foreign.body.data.revokeConsent.errors).toEqual([
        expect.objectContaining({ code: 'NOT_FOUND' }),
      ]);
    });
  });

  describe('refresh', () => {
    it('recommends when a passed completion arrives, then when a certificate arrives by event; in-app only means no SMS', async () => {
      const personId = uuidv7();
      await grant(personId, ['IN_APP']);
      expect((await me(personId)).recommendations!.edges).toEqual([]);

      const failed = completion(personId, '焊工', false);
      await h.publish([failed]);
      await completionArrived(failed);
      expect((await me(personId)).recommendations!.edges).toEqual([]);

      const passed = completion(personId, '焊工');
      await h.publish([passed]);
      await completionArrived(passed);
      let view = await me(personId);
      expect(view.recommendations!.edges.map((e) => e.node)).toEqual([
        expect.objectContaining({
          basis: 'TRAINING',
          explanation: 'matches your completed 焊工 training',
          certificate: null,
          jobPosting: { id: postings.welder, title: `welder-${tag}` },
        }),
      ]);

      const imported = contractEvent(
        CertificateImportedSchema,
        TOPICS.careersCertificateImport.name,
        personId,
        '/integrators/osta',
        {
          personId,
          regionCode: '420102',
          kind: CertificateKind.SKILL_LEVEL,
          occupation: '电工',
          level: 'LEVEL_3',
          issuer: '湖北省职业技能鉴定中心',
          number: `HB${uuidv7()}`,
          issuedOn: daysFromToday(-1),
          integratorId: 'client-osta',
        },
      );
      await h.publish([imported]);
      await eventually(async () =>
        (await me(personId)).recommendations!.edges.length > 1 ? true : undefined,
      );
      view = await me(personId);
      const titles = (await recommendedTitles(personId)).filter((t) => t.startsWith('electrician-'));
      // Level 3 meets "level 4 or better", not "level 2 or better"; Henan is outside the city.
      expect(titles).toEqual(expect.arrayContaining(['electrician-any', 'electrician-l4']));
      expect(titles).not.toContain('electrician-l2');
      expect(titles).not.toContain('electrician-henan');
      expect(
        view.recommendations!.edges.find((e) => e.node.jobPosting.id === postings['electrician-l4'])!.node
          .explanation,
      ).toBe('matches your 电工 三级 certificate');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(smsFor(personId)).toEqual([]);
      expect((await h.query('SELECT 1 FROM sms_messages WHERE person_id = $1', [personId])).length).toBe(0);
    });

    it('limits recommendations to the consent’s region when it names one', async () => {
      const personId = uuidv7();
      await importCertificate(personId, '电工', 'LEVEL_4');
      await grant(personId, ['IN_APP'], { regionCode: '410000' });
      expect(await recommendedTitles(personId)).toEqual(['electrician-henan']);
    });

    it('a consent that has expired recommends nothing', async () => {
      const personId = uuidv7();
      const consent = await grant(personId, ['IN_APP', 'SMS']);
      // Time passes: the consent's last day is behind us.
      await h.query(
        `UPDATE consents SET granted_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE id = $1`,
        [consent.id],
      );
      await importCertificate(personId, '电工', 'LEVEL_4');
      const view = await me(personId);
      expect(view.recommendations!.edges).toEqual([]);
      expect(view.jobRecommendationConsent).toBeNull();
      expect(view.consents!.edges.map((e) => e.node.status)).toEqual(['EXPIRED']);
      expect((await h.query('SELECT 1 FROM recommendations WHERE person_id = $1', [personId])).length).toBe(
        0,
      );
    });
  });

  describe('consent input and access', () => {
    it.each([
      ['channels', { channels: [] }],
      ['validUntil', { validUntil: daysFromToday(-1) }],
      ['validUntil', { validUntil: daysFromToday(400) }],
      ['validUntil', { validUntil: '2026-13-01' }],
      ['regionCode', { regionCode: '42' }],
    ])('refuses a consent with a bad %s', async (field, overrides) => {
      const res = await h.gql(person(uuidv7()), GRANT, {
        input: {
          purpose: 'JOB_RECOMMENDATION',
          recipient: 'CAREERS_JOB_SERVICE',
          channels: ['IN_APP'],
          validUntil: daysFromToday(10),
          ...overrides,
        },
      });
      expect(res.body.data.grantConsent).toEqual({
        consent: null,
        errors: [expect.objectContaining({ code: 'BAD_USER_INPUT', field })],
      });
    });

    it('only the person consents for themself; granting again supersedes the open consent', async () => {
      const staff: Caller = {
        kind: 'staff',
        id: uuidv7(),
        regionCode: '420100',
        permissions: ['careers:read'],
      };
      const res = await h.gql(staff, GRANT, {
        input: {
          purpose: 'JOB_RECOMMENDATION',
          recipient: 'CAREERS_JOB_SERVICE',
          channels: ['IN_APP'],
          validUntil: daysFromToday(10),
        },
      });
      expect(res.body.data.grantConsent.errors).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);

      const personId = uuidv7();
      await importCertificate(personId, '焊工', 'LEVEL_5');
      const first = await grant(personId, ['IN_APP']);
      expect(await recommendedTitles(personId)).toEqual(['welder']);
      const second = await grant(personId, ['IN_APP', 'SMS']);
      const view = await me(personId);
      expect(view.consents!.edges.map((e) => e.node)).toEqual([
        { id: second.id, status: 'LIVE' },
        { id: first.id, status: 'SUPERSEDED' },
      ]);
      // The recommendation made under the first consent carries on under the second.
      expect(await recommendedTitles(personId)).toEqual(['welder']);
      // Staff never see a person's recommendations, consents, inbox or log.
      const staffView = await h.gql(staff, ME, { reps: [{ __typename: 'Person', id: personId }] });
      expect(staffView.body.data._entities[0]).toEqual({
        recommendations: null,
        jobRecommendationConsent: null,
        consents: null,
        inbox: null,
        dataAccessLog: null,
      });
    });
  });
});
