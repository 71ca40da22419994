import { signCaller, uuidv7, type Caller } from '@vtv/kit';
import { startService, type RunningService } from '@vtv/runtime';
import { createTestDatabase, type TestDatabase } from '@vtv/testing';
import request from 'supertest';
import type { CareersConfig } from '../src/config';
import { CertificateRepository, JobPostingRepository } from '../src/data/repositories';
import { careers, type CareersServices } from '../src/service';
import { chinaToday } from '../src/services/dates';

const SECRET = 'x'.repeat(32);

const pingdingshanPublisher: Caller = {
  kind: 'staff',
  id: uuidv7(),
  regionCode: '410400',
  permissions: ['careers:jobs:write'],
};
const wuhanPublisher: Caller = {
  kind: 'staff',
  id: uuidv7(),
  regionCode: '420100',
  permissions: ['careers:jobs:write'],
};
const henanReader: Caller = {
  kind: 'staff',
  id: uuidv7(),
  regionCode: '410000',
  permissions: ['careers:read'],
};
const wuhanReader: Caller = {
  kind: 'staff',
  id: uuidv7(),
  regionCode: '420100',
  permissions: ['careers:read'],
};
const anonymous: Caller = { kind: 'anonymous', permissions: [] };

/** A date `days` away from today in China, YYYY-MM-DD. */
function daysFromToday(days: number): string {
  const today = chinaToday();
  const d = new Date(`${today}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const PUBLISH = `mutation ($input: PublishJobPostingInput!) {
  publishJobPosting(input: $input) {
    jobPosting { id title employer occupation requiredCertificateKind requiredLevel regionCode payMinFen payMaxFen validUntil }
    errors { code message field }
  }
}`;

const SEARCH = `query ($regionCode: ID, $occupation: String, $first: Int, $after: String) {
  jobPostings(regionCode: $regionCode, occupation: $occupation, first: $first, after: $after) {
    edges { cursor node { id title regionCode validUntil } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe('careers subgraph', () => {
  let db: TestDatabase;
  let running: RunningService<CareersServices, CareersConfig>;

  beforeAll(async () => {
    db = await createTestDatabase('careers');
    // No KAFKA_BROKERS / REDIS_URL: the in-memory bus and cache.
    const { KAFKA_BROKERS: _k, REDIS_URL: _r, ...env } = process.env;
    running = await startService(careers, {
      env: {
        ...env,
        DATABASE_URL: db.url,
        PORT: '0',
        HOST: '127.0.0.1',
        INTERNAL_AUTH_SECRET: SECRET,
        LOG_LEVEL: 'warn',
      },
    });
  });

  afterAll(async () => {
    await running?.stop();
    await db?.drop();
  });

  function gql(caller: Caller | null, query: string, variables: Record<string, unknown> = {}) {
    const req = request(running.app)
      .post('/graphql')
      .set('apollo-require-preflight', 'true')
      .set('content-type', 'application/json');
    if (caller) req.set('x-vtv-caller', signCaller(caller, SECRET));
    return req.send({ query, variables });
  }

  function input(overrides: Record<string, unknown> = {}) {
    return {
      title: '数控车工',
      employer: '平顶山某机械有限公司',
      occupation: '车工',
      requiredCertificateKind: 'SKILL_LEVEL',
      requiredLevel: 'LEVEL_4',
      regionCode: '410402',
      payMinFen: 450_000,
      payMaxFen: 700_000,
      validUntil: daysFromToday(30),
      ...overrides,
    };
  }

  async function publishErrors(caller: Caller, overrides: Record<string, unknown>) {
    const res = await gql(caller, PUBLISH, { input: input(overrides) });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.publishJobPosting.jobPosting).toBeNull();
    return res.body.data.publishJobPosting.errors as { code: string; field: string | null }[];
  }

  describe('publishJobPosting', () => {
    it('publishes for staff in the region, and the posting shows in the public search', async () => {
      const occupation = `车工-${uuidv7()}`;
      const res = await gql(pingdingshanPublisher, PUBLISH, {
        input: input({ occupation, title: '  数控车工  ' }),
      });
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      const { jobPosting, errors } = res.body.data.publishJobPosting;
      expect(errors).toEqual([]);
      expect(jobPosting).toMatchObject({
        title: '数控车工',
        employer: '平顶山某机械有限公司',
        occupation,
        requiredCertificateKind: 'SKILL_LEVEL',
        requiredLevel: 'LEVEL_4',
        regionCode: '410402',
        payMinFen: 450_000,
        payMaxFen: 700_000,
        validUntil: daysFromToday(30),
      });

      const search = await gql(anonymous, SEARCH, { occupation });
      expect(search.body.errors).toBeUndefined();
      expect(search.body.data.jobPostings.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([
        jobPosting.id,
      ]);
    });

    it('refuses staff outside the region, and publishes nothing', async () => {
      const occupation = `电工-${uuidv7()}`;
      const errors = await publishErrors(wuhanPublisher, { occupation });
      expect(errors).toHaveLength(1);
      expect(['FORBIDDEN', 'NOT_FOUND']).toContain(errors[0]!.code);
      expect(errors[0]!.field).toBe('regionCode');

      const search = await gql(anonymous, SEARCH, { occupation });
      expect(search.body.data.jobPostings.edges).toEqual([]);
    });

    it('refuses callers without careers:jobs:write', async () => {
      expect(await publishErrors(henanReader, {})).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
      expect(
        await publishErrors({ kind: 'person', id: uuidv7(), permissions: ['careers:jobs:write'] }, {}),
      ).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
      expect(await publishErrors(anonymous, {})).toEqual([
        expect.objectContaining({ code: 'UNAUTHENTICATED' }),
      ]);
    });

    it.each([
      ['payMaxFen', { payMinFen: 500_000, payMaxFen: 499_999 }],
      ['payMinFen', { payMinFen: -1, payMaxFen: 10 }],
      ['payMaxFen', { payMinFen: 0, payMaxFen: -5 }],
      ['title', { title: '' }],
      ['title', { title: '   ' }],
      ['title', { title: '岗'.repeat(101) }],
      ['employer', { employer: '' }],
      ['occupation', { occupation: 'x'.repeat(101) }],
      ['regionCode', { regionCode: '4104' }],
      ['regionCode', { regionCode: '41040a' }],
      ['validUntil', { validUntil: '2030-02-30' }],
      ['validUntil', { validUntil: '2030/01/01' }],
      ['validUntil', { validUntil: daysFromToday(0) }],
      ['validUntil', { validUntil: daysFromToday(-1) }],
    ])('answers BAD_USER_INPUT on field %s for %j', async (field, overrides) => {
      const errors = await publishErrors(pingdingshanPublisher, overrides);
      expect(errors).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field })]);
    });

    it('accepts a 100-character title and equal pay bounds', async () => {
      const res = await gql(pingdingshanPublisher, PUBLISH, {
        input: input({ title: '岗'.repeat(100), payMinFen: 0, payMaxFen: 0 }),
      });
      expect(res.body.data.publishJobPosting.errors).toEqual([]);
      expect(res.body.data.publishJobPosting.jobPosting.title).toHaveLength(100);
    });
  });

  describe('jobPostings', () => {
    it('lists only open postings, filtered by region subtree and occupation, paged in id order', async () => {
      const occupation = `焊工-${uuidv7()}`;
      const repo = new JobPostingRepository(running.deps.ds);
      const base = {
        title: '焊工',
        employer: '某公司',
        occupation,
        requiredCertificateKind: null,
        requiredLevel: null,
        payMinFen: 1,
        payMaxFen: 2,
        publishedBy: pingdingshanPublisher.id!,
      };
      const expired = await repo.insert({ ...base, regionCode: '410402', validUntil: daysFromToday(-1) });
      const lastDay = await repo.insert({ ...base, regionCode: '410402', validUntil: daysFromToday(0) });
      const open1 = await repo.insert({ ...base, regionCode: '410421', validUntil: daysFromToday(10) });
      const open2 = await repo.insert({ ...base, regionCode: '410403', validUntil: daysFromToday(10) });
      const wuhan = await repo.insert({ ...base, regionCode: '420102', validUntil: daysFromToday(10) });
      const ids = (rows: { id: string }[]) => rows.map((r) => r.id).sort();
      const nodes = (res: request.Response) =>
        res.body.data.jobPostings.edges.map((e: { node: { id: string } }) => e.node.id);

      // Occupation matches case-insensitively as a substring.
      const all = await gql(anonymous, SEARCH, { occupation: occupation.slice(3).toUpperCase() });
      expect(all.body.errors).toBeUndefined();
      expect(nodes(all)).toEqual(ids([lastDay, open1, open2, wuhan]));
      expect(nodes(all)).not.toContain(expired.id);

      const henan = await gql(anonymous, SEARCH, { occupation, regionCode: '410000' });
      expect(nodes(henan)).toEqual(ids([lastDay, open1, open2]));
      const county = await gql(anonymous, SEARCH, { occupation, regionCode: '410421' });
      expect(nodes(county)).toEqual([open1.id]);

      const page1 = await gql(anonymous, SEARCH, { occupation, regionCode: '410400', first: 2 });
      expect(nodes(page1)).toEqual(ids([lastDay, open1, open2]).slice(0, 2));
      expect(page1.body.data.jobPostings.pageInfo.hasNextPage).toBe(true);
      const page2 = await gql(anonymous, SEARCH, {
        occupation,
        regionCode: '410400',
        first: 2,
        after: page1.body.data.jobPostings.pageInfo.endCursor,
      });
      expect(nodes(page2)).toEqual(ids([lastDay, open1, open2]).slice(2));
      expect(page2.body.data.jobPostings.pageInfo.hasNextPage).toBe(false);
    });

    it('rejects bad search arguments with BAD_USER_INPUT', async () => {
      for (const [variables, field] of [
        [{ regionCode: '41' }, 'regionCode'],
        [{ first: 0 }, 'first'],
        [{ first: 101 }, 'first'],
        [{ after: 'not-a-cursor' }, 'after'],
      ] as const) {
        const res = await gql(anonymous, SEARCH, variables);
        expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      }
    });
  });

  it('refuses requests that did not come through the gateway with 401', async () => {
    const res = await gql(null, SEARCH);
    expect(res.status).toBe(401);
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const forged = await request(running.app)
      .post('/graphql')
      .set('apollo-require-preflight', 'true')
      .set('x-vtv-caller', signCaller(henanReader, 'y'.repeat(32)))
      .send({ query: SEARCH });
    expect(forged.status).toBe(401);
  });

  describe('certificates', () => {
    const holder = uuidv7();
    let certificates: CertificateRepository;
    let skill: { id: string };
    let training: { id: string };

    const CERTIFICATE = `query ($id: ID!) {
      certificate(id: $id) { id holder { id } kind occupation level issuer number issuedOn }
    }`;
    const PERSON = `query ($reps: [_Any!]!) {
      _entities(representations: $reps) { ... on Person { id certificates { id kind level } } }
    }`;

    beforeAll(async () => {
      certificates = new CertificateRepository(running.deps.ds);
      skill = await certificates.insert({
        holderPersonId: holder,
        regionCode: '410402',
        kind: 'SKILL_LEVEL',
        occupation: '电工',
        level: 'LEVEL_3',
        issuer: '平顶山市职业技能鉴定中心',
        number: 'S000001',
        issuedOn: '2024-06-30',
      });
      training = await certificates.insert({
        holderPersonId: holder,
        regionCode: '420106',
        kind: 'TRAINING',
        occupation: '育婴员',
        issuer: '武汉某职业培训学校',
        number: 'T000001',
        issuedOn: '2023-01-15',
      });
    });

    it('refuses a second certificate with the same issuer and number (database constraint)', async () => {
      const duplicate = certificates.insert({
        holderPersonId: uuidv7(),
        regionCode: '410400',
        kind: 'VOCATIONAL_QUALIFICATION',
        occupation: '焊工',
        issuer: '平顶山市职业技能鉴定中心',
        number: 'S000001',
        issuedOn: '2024-07-01',
      });
      await expect(duplicate).rejects.toMatchObject({ code: 'CONFLICT', field: 'number' });
      const [{ count }] = await running.deps.ds.query(
        `SELECT count(*)::int AS count FROM certificates WHERE issuer = $1 AND number = $2`,
        ['平顶山市职业技能鉴定中心', 'S000001'],
      );
      expect(count).toBe(1);
      // The same number from another issuer is a different certificate.
      await expect(
        certificates.insert({
          holderPersonId: uuidv7(),
          regionCode: '410400',
          kind: 'TRAINING',
          occupation: '焊工',
          issuer: '另一发证机构',
          number: 'S000001',
          issuedOn: '2024-07-01',
        }),
      ).resolves.toMatchObject({ number: 'S000001' });
    });

    it('shows a certificate to its holder and to staff in region only', async () => {
      const own = await gql({ kind: 'person', id: holder, permissions: [] }, CERTIFICATE, { id: skill.id });
      expect(own.body.errors).toBeUndefined();
      expect(own.body.data.certificate).toEqual({
        id: skill.id,
        holder: { id: holder },
        kind: 'SKILL_LEVEL',
        occupation: '电工',
        level: 'LEVEL_3',
        issuer: '平顶山市职业技能鉴定中心',
        number: 'S000001',
        issuedOn: '2024-06-30',
      });
      expect((await gql(henanReader, CERTIFICATE, { id: skill.id })).body.data.certificate.id).toBe(skill.id);

      for (const caller of [
        wuhanReader,
        pingdingshanPublisher,
        { kind: 'person', id: uuidv7(), permissions: [] } as Caller,
        anonymous,
      ]) {
        const res = await gql(caller, CERTIFICATE, { id: skill.id });
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data.certificate).toBeNull();
      }
      expect((await gql(henanReader, CERTIFICATE, { id: 'nope' })).body.data.certificate).toBeNull();
    });

    it('contributes certificates to Person for the person themself and staff with careers:read', async () => {
      const reps = [{ __typename: 'Person', id: holder }];
      const own = await gql({ kind: 'person', id: holder, permissions: [] }, PERSON, { reps });
      expect(own.body.errors).toBeUndefined();
      expect(own.body.data._entities[0]).toEqual({
        id: holder,
        certificates: [skill, training]
          .sort((a, b) => a.id.localeCompare(b.id))
          .map((c) =>
            c.id === skill.id
              ? { id: c.id, kind: 'SKILL_LEVEL', level: 'LEVEL_3' }
              : { id: c.id, kind: 'TRAINING', level: null },
          ),
      });
      // Staff see the certificates recorded inside their region.
      expect((await gql(henanReader, PERSON, { reps })).body.data._entities[0].certificates).toEqual([
        { id: skill.id, kind: 'SKILL_LEVEL', level: 'LEVEL_3' },
      ]);
      expect((await gql(wuhanReader, PERSON, { reps })).body.data._entities[0].certificates).toEqual([
        { id: training.id, kind: 'TRAINING', level: null },
      ]);
      // Anyone else: an empty list.
      for (const caller of [
        { kind: 'person', id: uuidv7(), permissions: [] } as Caller,
        pingdingshanPublisher,
        anonymous,
      ]) {
        expect((await gql(caller, PERSON, { reps })).body.data._entities[0].certificates).toEqual([]);
      }
    });
  });
});
