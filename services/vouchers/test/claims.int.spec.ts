/**
 * General vouchers (通用券): templates, eligibility, and the claim gate under a flash crowd — Redis sheds
 * the sold-out crowd and same-person repeats before the database, which stays the final word.
 */
import { uuidv7, type Caller } from '@vtv/kit';
import Redis from 'ioredis';
import { infraEnv } from '@vtv/testing';
import { eventually, facts, person, staff, startHarness, type Harness } from './harness';

jest.setTimeout(120_000);

let h: Harness;
let redis: Redis;
beforeAll(async () => {
  h = await startHarness('vclaim');
  redis = new Redis(infraEnv().REDIS_URL);
});
afterAll(async () => {
  redis?.disconnect();
  await h?.stop();
});

const XIANTAO = staff('429004', ['vouchers:issue', 'vouchers:read']);
const TYPE = '岗前培训';

const CREATE = `mutation($i: CreateVoucherTemplateInput!) { createVoucherTemplate(input: $i) {
  template { id quantity claimed remaining faceValueFen state eligibleRegionCode audienceOnly } errors { code field message } } }`;
const CLAIM = `mutation($t: ID!, $p: String!) { claimVoucher(templateId: $t, proof: $p) {
  voucher { id kind state faceValueFen validUntil template { id } } errors { code message field } } }`;

const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

async function template(input: Record<string, unknown>): Promise<string> {
  const res = await h
    .gql(XIANTAO, CREATE, {
      i: {
        name: '仙桃市通用培训券',
        trainingType: TYPE,
        faceValueFen: 60_000,
        quantity: 10,
        claimEndsAt: inAnHour(),
        validityType: 'DAYS_AFTER_CLAIM',
        validDays: 90,
        ...input,
      },
    })
    .expect(200);
  expect(res.body.data.createVoucherTemplate.errors).toEqual([]);
  return res.body.data.createVoucherTemplate.template.id;
}

/** People with an e-SSC in a region, straight into the projection (bulk set-up for the crowd tests). */
async function cardholders(n: number, regionCode = '429004', birthYear = 1990): Promise<string[]> {
  const ids = Array.from({ length: n }, () => uuidv7());
  await h.sql(
    `INSERT INTO people (person_id, region_code, birth_year, card_issued_at)
     SELECT unnest($1::uuid[]), $2, $3, now()`,
    [ids, regionCode, birthYear],
  );
  return ids;
}

async function claim(caller: Caller, templateId: string, key?: string) {
  const proof = await h.proof(caller.id!, 'CLAIM_VOUCHER');
  const res = await h.gql(caller, CLAIM, { t: templateId, p: proof }, key).expect(200);
  return res.body.data.claimVoucher as { voucher: { id: string } | null; errors: { code: string }[] };
}

const codes = (results: { errors: { code: string }[] }[]) =>
  results.reduce<Record<string, number>>((acc, r) => {
    const c = r.errors[0]?.code ?? 'OK';
    acc[c] = (acc[c] ?? 0) + 1;
    return acc;
  }, {});

describe('templates and claims', () => {
  it('takes eligibility from identity’s card event and gives a clear reason for every refusal', async () => {
    const id = await template({ minAge: 18, maxAge: 45 });
    const local = uuidv7();
    const elsewhere = uuidv7();
    const old = uuidv7();
    await h.publish(
      facts.card(local, '429004', 1995),
      facts.card(elsewhere, '420102', 1995),
      facts.card(old, '429004', 1950),
    );
    await eventually(async () => ((await h.services.deps.repos.projections.person(old)) ? true : undefined));

    expect((await claim(person(elsewhere), id)).errors).toEqual([
      expect.objectContaining({ code: 'INELIGIBLE' }),
    ]);
    expect((await claim(person(old), id)).errors).toEqual([
      expect.objectContaining({ code: 'INELIGIBLE', message: 'This voucher is for people aged 45 or under' }),
    ]);
    expect((await claim(person(uuidv7()), id)).errors).toEqual([
      expect.objectContaining({ code: 'INELIGIBLE' }),
    ]);

    // A proof is required, for this person and this purpose.
    let res = await h.gql(person(local), CLAIM, { t: id, p: 'not-a-proof' }).expect(200);
    expect(res.body.data.claimVoucher.errors).toEqual([
      expect.objectContaining({ code: 'IDENTITY_PROOF_INVALID', field: 'proof' }),
    ]);
    const wrongPurpose = await h.proof(local, 'USE_VOUCHER');
    res = await h.gql(person(local), CLAIM, { t: id, p: wrongPurpose }).expect(200);
    expect(res.body.data.claimVoucher.errors).toEqual([
      expect.objectContaining({ code: 'IDENTITY_PROOF_INVALID' }),
    ]);
    const someoneElses = await h.proof(elsewhere, 'CLAIM_VOUCHER');
    res = await h.gql(person(local), CLAIM, { t: id, p: someoneElses }).expect(200);
    expect(res.body.data.claimVoucher.errors).toEqual([
      expect.objectContaining({ code: 'IDENTITY_PROOF_INVALID' }),
    ]);

    const ok = await claim(person(local), id);
    expect(ok.errors).toEqual([]);
    expect(ok.voucher).toMatchObject({
      kind: 'GENERAL',
      state: 'HELD',
      faceValueFen: 60_000,
      template: { id },
    });
    expect((await claim(person(local), id)).errors).toEqual([
      expect.objectContaining({ code: 'ALREADY_CLAIMED' }),
    ]);

    const later = await template({
      claimStartsAt: inAnHour(),
      claimEndsAt: new Date(Date.now() + 7200_000).toISOString(),
    });
    expect((await claim(person(local), later)).errors).toEqual([
      expect.objectContaining({ code: 'CLAIM_WINDOW_CLOSED' }),
    ]);
  });

  it('targets a pre-computed audience and refuses everyone else', async () => {
    const id = await template({ targetGroups: ['农村转移劳动力'] });
    const [inside, outside] = await cardholders(2);
    const add = await h
      .gql(
        XIANTAO,
        `mutation($id: ID!, $p: [ID!]!) { addVoucherTemplateAudience(id: $id, personIds: $p) { added errors { code } } }`,
        {
          id,
          p: [inside],
        },
      )
      .expect(200);
    expect(add.body.data.addVoucherTemplateAudience).toEqual({ added: 1, errors: [] });
    expect((await claim(person(outside!), id)).errors).toEqual([
      expect.objectContaining({
        code: 'INELIGIBLE',
        message: 'This voucher is only for its target groups (农村转移劳动力)',
      }),
    ]);
    expect((await claim(person(inside!), id)).errors).toEqual([]);
    const published = await h.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE type = 'vtv.vouchers.v1.VoucherTemplateAudienceAdded' AND key = $1`,
      [id],
    );
    expect(published[0]!.n).toBe(1);
  });

  it('SOLD_OUT once the quantity is gone; closing stops claims at once', async () => {
    const id = await template({ quantity: 2 });
    const people = await cardholders(4);
    const results = [];
    for (const p of people.slice(0, 3)) results.push(await claim(person(p), id));
    expect(codes(results)).toEqual({ OK: 2, SOLD_OUT: 1 });

    const other = await template({ quantity: 5 });
    const close = await h
      .gql(
        XIANTAO,
        `mutation($id: ID!) { closeVoucherTemplate(id: $id, reason: '预算调整') { template { state closeReason } errors { code } } }`.replace(
          `'预算调整'`,
          '"预算调整"',
        ),
        { id: other },
      )
      .expect(200);
    expect(close.body.data.closeVoucherTemplate.template).toEqual({
      state: 'CLOSED',
      closeReason: '预算调整',
    });
    await new Promise((r) => setTimeout(r, 2_100)); // the claim path's template cache
    expect((await claim(person(people[3]!), other)).errors).toEqual([
      expect.objectContaining({ code: 'CLAIM_WINDOW_CLOSED' }),
    ]);
  });

  it('one person claiming 200 times at once gets exactly one voucher', async () => {
    const id = await template({ quantity: 50 });
    const [me] = await cardholders(1);
    const caller = person(me);
    const proof = await h.proof(me!, 'CLAIM_VOUCHER');
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        h
          .gql(caller, CLAIM, { t: id, p: proof })
          .expect(200)
          .then((r) => r.body.data.claimVoucher),
      ),
    );
    const elapsed = Date.now() - started;
    const tally = codes(results);
    expect(tally.OK).toBe(1);
    expect((tally.ALREADY_CLAIMED ?? 0) + (tally.CLAIM_IN_PROGRESS ?? 0)).toBe(199);
    const held = await h.sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM vouchers WHERE template_id = $1 AND holder_person_id = $2',
      [id, me],
    );
    expect(held[0]!.n).toBe(1);
    const t = await h.services.deps.repos.templates.byId(id);
    expect(t!.claimed).toBe(1);
    console.log(`200 concurrent claims by one person over HTTP: ${elapsed} ms, ${JSON.stringify(tally)}`);
  });

  it('5,000 people claiming a 1,000-voucher template at once get exactly 1,000; stock never negative', async () => {
    const id = await template({ quantity: 1_000, faceValueFen: 50_000 });
    const people = await cardholders(5_000);
    const proofs = await Promise.all(people.map((p) => h.proof(p, 'CLAIM_VOUCHER')));
    // Driven through the service layer: 5,000 HTTP round trips through Apollo would measure supertest, not the gate.
    const started = Date.now();
    const results = await Promise.all(
      people.map((p, i) =>
        h.services.claims
          .claim(person(p), id, proofs[i]!)
          .then((voucherId) => ({ voucherId, errors: [] as { code: string }[] }))
          .catch((err: { code?: string }) => ({
            voucherId: null,
            errors: [{ code: err.code ?? String(err) }],
          })),
      ),
    );
    const elapsed = Date.now() - started;
    const tally = codes(results);
    expect(tally).toEqual({ OK: 1_000, SOLD_OUT: 4_000 });
    const [db] = await h.sql<{ vouchers: number; holders: number; claimed: number }>(
      `SELECT (SELECT count(*)::int FROM vouchers WHERE template_id = $1) AS vouchers,
              (SELECT count(DISTINCT holder_person_id)::int FROM vouchers WHERE template_id = $1) AS holders,
              (SELECT claimed FROM voucher_templates WHERE id = $1) AS claimed`,
      [id],
    );
    expect(db).toEqual({ vouchers: 1_000, holders: 1_000, claimed: 1_000 });
    expect(Number(await redis.get(`vouchers:tpl:${id}:stock`))).toBe(0);
    const events = await h.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox o JOIN vouchers v ON v.id::text = o.key
       WHERE v.template_id = $1 AND o.type = 'vtv.vouchers.v1.VoucherIssued'`,
      [id],
    );
    expect(events[0]!.n).toBe(1_000);
    console.log(`5,000 concurrent claims of 1,000 (service layer, Redis + PostgreSQL): ${elapsed} ms`);
  });

  it('initialises a cold stock counter from the database and compensates it when the database refuses', async () => {
    const id = await template({ quantity: 10 });
    const people = await cardholders(14);
    for (const p of people.slice(0, 3)) expect((await claim(person(p), id)).errors).toEqual([]);
    const key = `vouchers:tpl:${id}:stock`;
    expect(Number(await redis.get(key))).toBe(7);

    // Redis lost the counter: the next claim rebuilds it from what the database has left.
    await redis.del(key);
    const results = await Promise.all(people.slice(3).map((p) => claim(person(p), id)));
    expect(codes(results)).toEqual({ OK: 7, SOLD_OUT: 4 });
    expect(Number(await redis.get(key))).toBe(0);

    // The per-person marker lost too: Redis admits the repeat, the database refuses it, the counter is given back.
    const repeat = await template({ quantity: 5 });
    const [p] = people;
    expect((await claim(person(p!), repeat)).errors).toEqual([]);
    await redis.del(`vouchers:claim:${repeat}:${p}`);
    expect(Number(await redis.get(`vouchers:tpl:${repeat}:stock`))).toBe(4);
    expect((await claim(person(p!), repeat)).errors).toEqual([
      expect.objectContaining({ code: 'ALREADY_CLAIMED' }),
    ]);
    expect(Number(await redis.get(`vouchers:tpl:${repeat}:stock`))).toBe(4);
  });

  it('a retry with the same Idempotency-Key gets the original voucher, not ALREADY_CLAIMED', async () => {
    const id = await template({ quantity: 5 });
    const [p] = await cardholders(1);
    const key = `claim-${uuidv7()}`;
    const first = await claim(person(p!), id, key);
    expect(first.errors).toEqual([]);
    const again = await claim(person(p!), id, key);
    expect(again).toEqual(first);
    expect(Number(await redis.get(`vouchers:tpl:${id}:stock`))).toBe(4);
  });

  it('the key is kept in the database too: with Redis’s marker gone, a retry still gets the original voucher', async () => {
    const id = await template({ quantity: 5 });
    const [p] = await cardholders(1);
    const key = `claim-${uuidv7()}`;
    const first = await claim(person(p!), id, key);
    expect(first.errors).toEqual([]);
    await redis.del(`vouchers:claim:${id}:${p}`);
    expect(await claim(person(p!), id, key)).toEqual(first);
    expect(Number(await redis.get(`vouchers:tpl:${id}:stock`))).toBe(4);
    const [row] = await h.sql<{ n: number; claimed: number }>(
      `SELECT (SELECT count(*)::int FROM vouchers WHERE template_id = $1) AS n,
              (SELECT claimed FROM voucher_templates WHERE id = $1) AS claimed`,
      [id],
    );
    expect(row).toEqual({ n: 1, claimed: 1 });

    // The same key for another template is another request: refused, nothing claimed.
    const other = await template({ quantity: 5 });
    await redis.del(`vouchers:claim:${other}:${p}`);
    const reused = await claim(person(p!), other, key);
    expect(reused.errors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED' })]);
    const [none] = await h.sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM vouchers WHERE template_id = $1',
      [other],
    );
    expect(none!.n).toBe(0);
  });

  it('a claim the database refuses leaves nothing behind: no voucher, no event, no transition, no stored key', async () => {
    const id = await template({ quantity: 1 });
    const [a, b] = await cardholders(2);
    expect((await claim(person(a!), id)).errors).toEqual([]);
    // Redis believes there is stock again (as after losing its keys): only the database can refuse.
    await redis.set(`vouchers:tpl:${id}:stock`, '5');
    const key = `claim-${uuidv7()}`;
    const refused = await claim(person(b!), id, key);
    expect(refused.errors).toEqual([expect.objectContaining({ code: 'SOLD_OUT' })]);
    const [row] = await h.sql<Record<string, number>>(
      `SELECT (SELECT count(*)::int FROM vouchers WHERE template_id = $1) AS vouchers,
              (SELECT claimed FROM voucher_templates WHERE id = $1) AS claimed,
              (SELECT count(*)::int FROM voucher_transitions WHERE template_id = $1) AS transitions,
              (SELECT count(*)::int FROM outbox o JOIN vouchers v ON v.id::text = o.key
                 WHERE v.template_id = $1 AND o.type = 'vtv.vouchers.v1.VoucherIssued') AS events,
              (SELECT count(*)::int FROM idempotency_keys WHERE key = $2) AS keys`,
      [id, key],
    );
    expect(row).toEqual({ vouchers: 1, claimed: 1, transitions: 1, events: 1, keys: 0 });
  });

  it('lists open templates to the people they are for (领券中心)', async () => {
    const id = await template({ quantity: 3 });
    const [local] = await cardholders(1);
    const [other] = await cardholders(1, '410402');
    const LIST = `{ voucherTemplates(first: 100) { edges { node { id remaining } } } }`;
    let res = await h.gql(person(local), LIST).expect(200);
    expect(res.body.data.voucherTemplates.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(
      id,
    );
    res = await h.gql(person(other), LIST).expect(200);
    expect(res.body.data.voucherTemplates.edges).toEqual([]);
  });
});
