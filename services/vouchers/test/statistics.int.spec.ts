/**
 * Quotas and statistics (SPEC §4.7): the seed tables' targets, and roll-ups up the region tree that match
 * the vouchers actually created through the real flows; then the dashboard query timed over 50,000 facts.
 * The service clock is set to October 2021, the year the seed targets are for.
 */
import { ClassPlanApprovedSchema, SubsidyDisbursedSchema, TOPICS } from '@vtv/events';
import { uuidv7, type Caller } from '@vtv/kit';
import { SEED_TARGETS_2021 } from '../src/data/migrations/1732200000300-Quotas2021';
import { event, eventually, facts, person, staff, startHarness, ts, type Harness } from './harness';

jest.setTimeout(120_000);

let h: Harness;
const NOW = new Date('2021-10-20T02:00:00.000Z'); // 10:00 in China
const ADMIN = staff('420000', [
  'vouchers:rules:write',
  'vouchers:issue',
  'vouchers:invalidate',
  'vouchers:statistics',
]);
const HENAN = staff('410000', [
  'vouchers:rules:write',
  'vouchers:issue',
  'vouchers:invalidate',
  'vouchers:statistics',
]);
const WUHAN_STATS = staff('420100', ['vouchers:statistics']);

const COUNTS =
  'issued claimed used settled expired invalidated issuedFaceValueFen usedFaceValueFen settledFaceValueFen';
const STATS = `query($r: ID!, $y: Int!) { voucherStatistics(regionCode: $r, year: $y) {
  regionCode year currentlyHeld counts { ${COUNTS} } ownCounts { ${COUNTS} }
  quota { issuedTarget usedTarget source } progress { issuedTarget usedTarget issuedBp usedBp }
  childTargets { issuedTarget usedTarget }
  byChildRegion { regionCode counts { issued used } quota { issuedTarget usedTarget } }
  byInstitution { institution { id } counts { issued used settled } }
  byTrainingType { trainingType counts { issued claimed } }
  byMonth { month counts { issued used } } } }`;

async function stats(caller: Caller, regionCode: string, year = 2021) {
  const res = await h.gql(caller, STATS, { r: regionCode, y: year }).expect(200);
  expect(res.body.errors).toBeUndefined();
  return res.body.data.voucherStatistics;
}

/** Ground truth straight from the vouchers table for a region prefix. */
async function truth(prefix: string) {
  const [row] = await h.sql<Record<string, number>>(
    `SELECT count(*)::int AS issued,
            count(*) FILTER (WHERE kind = 'GENERAL')::int AS claimed,
            count(*) FILTER (WHERE used_at IS NOT NULL)::int AS used,
            count(*) FILTER (WHERE state = 'SETTLED')::int AS settled,
            count(*) FILTER (WHERE state = 'EXPIRED')::int AS expired,
            count(*) FILTER (WHERE state = 'INVALIDATED')::int AS invalidated,
            coalesce(sum(face_value_fen), 0)::float AS "issuedFaceValueFen",
            coalesce(sum(face_value_fen) FILTER (WHERE used_at IS NOT NULL), 0)::float AS "usedFaceValueFen",
            coalesce(sum(face_value_fen) FILTER (WHERE state = 'SETTLED'), 0)::float AS "settledFaceValueFen"
     FROM vouchers WHERE region_code LIKE $1 || '%' AND training_type <> 'synthetic'`,
    [prefix],
  );
  return row;
}

beforeAll(async () => {
  h = await startHarness('vstats');
  h.services.deps.now = () => NOW;
});
afterAll(async () => {
  await h?.stop();
});

describe('quotas from the seed tables', () => {
  it('holds the 2021 targets as absolute numbers, including the zones whose use target is not 10 %', async () => {
    const quota = async (caller: Caller, code: string) =>
      (
        await h
          .gql(
            caller,
            `query($r: [_Any!]!) { _entities(representations: $r) { ... on Region { voucherQuota(year: 2021) { issuedTarget usedTarget source } } } }`,
            {
              r: [{ __typename: 'Region', code }],
            },
          )
          .expect(200)
      ).body.data._entities[0].voucherQuota;
    expect(await quota(WUHAN_STATS, '420113')).toMatchObject({ issuedTarget: 11_000, usedTarget: 1_400 });
    expect(await quota(WUHAN_STATS, '420171')).toMatchObject({ issuedTarget: 11_000, usedTarget: 1_400 });
    expect(await quota(WUHAN_STATS, '420102')).toMatchObject({ issuedTarget: 6_500, usedTarget: 600 });
    expect(await quota(WUHAN_STATS, '420104')).toMatchObject({ issuedTarget: 8_000, usedTarget: 800 });
    expect(await quota(HENAN, '410471')).toMatchObject({ issuedTarget: 1_000, usedTarget: 100 });
    expect(await quota(HENAN, '410472')).toMatchObject({ issuedTarget: 1_000, usedTarget: 100 });
    expect(await quota(ADMIN, '429004')).toMatchObject({ issuedTarget: 3_000, usedTarget: 300 });
    // Not yours: null, like a region without a target.
    expect(await quota(WUHAN_STATS, '410471')).toBeNull();
    const rows = await h.sql<{ n: number }>('SELECT count(*)::int AS n FROM quota_targets WHERE year = 2021');
    expect(rows[0]!.n).toBe(SEED_TARGETS_2021.length);
  });
});

describe('statistics rolled up the region tree', () => {
  const inst1 = uuidv7(); // 经开(汉南)区
  const inst2 = uuidv7(); // 高新区 (Pingdingshan)
  const inst3 = uuidv7(); // 仙桃
  const op1 = uuidv7();
  const op3 = uuidv7();

  beforeAll(async () => {
    await h.publish(
      facts.institution(inst1, '420113'),
      facts.institution(inst2, '410471'),
      facts.institution(inst3, '429004'),
      facts.operator(inst1, op1),
      facts.operator(inst3, op3),
    );
    // Rules: face values from the provinces, AUTO issuance without review in the two zones.
    await h.services.rules.setFaceValueRule(ADMIN, {
      regionCode: '420000',
      trainingType: '岗位技能提升培训',
      subsidyAmountFen: 150_000,
    });
    await h.services.rules.setFaceValueRule(HENAN, {
      regionCode: '410000',
      trainingType: '岗前培训',
      subsidyAmountFen: 80_000,
    });
    await h.services.rules.setIssuanceRule(ADMIN, { regionCode: '420113', reviewMode: 'NONE', flow: 'AUTO' });
    await h.services.rules.setIssuanceRule(HENAN, { regionCode: '410471', reviewMode: 'NONE', flow: 'AUTO' });
  });

  it('counts exactly the vouchers created, per region, child, institution, training type and month', async () => {
    // Directed: a class in 经开(汉南)区 (5 trainees) and one in 高新区 (3), issued by the AUTO flow.
    const class1 = uuidv7();
    const class2 = uuidv7();
    const plan = (
      classId: string,
      institutionId: string,
      regionCode: string,
      trainingType: string,
      roster: string[],
    ) =>
      event(ClassPlanApprovedSchema, TOPICS.trainingClass.name, classId, {
        classId,
        institutionId,
        regionCode,
        name: `${trainingType}班`,
        occupation: '电工',
        trainingType,
        headcount: roster.length,
        startDate: '2021-11-01',
        endDate: '2021-11-30',
        rosterPersonIds: roster,
        approvedAt: ts(NOW),
      });
    const roster1 = Array.from({ length: 5 }, () => uuidv7());
    await h.publish(
      plan(class1, inst1, '420113', '岗位技能提升培训', roster1),
      plan(class2, inst2, '410471', '岗前培训', [uuidv7(), uuidv7(), uuidv7()]),
    );
    await eventually(async () => {
      const rows = await h.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM vouchers WHERE class_id = ANY($1::uuid[])`,
        [[class1, class2]],
      );
      return rows[0]!.n === 8 ? true : undefined;
    });

    // General: 仙桃 (4 claims) and Wuhan's city-level template (2 claims).
    const template = async (caller: Caller, regionCode: string, trainingType: string, faceValueFen: number) =>
      (
        await h.services.templates.create(caller, {
          name: `${regionCode} 通用券`,
          regionCode,
          trainingType,
          faceValueFen,
          quantity: 10,
          claimEndsAt: '2021-12-31T00:00:00+08:00',
          validityType: 'DAYS_AFTER_CLAIM',
          validDays: 60,
        })
      ).id;
    const xiantao = await template(ADMIN, '429004', '岗前培训', 50_000);
    const wuhan = await template(ADMIN, '420100', '创业培训', 100_000);
    const claimants = async (templateId: string, regionCode: string, n: number) => {
      const ids = Array.from({ length: n }, () => uuidv7());
      await h.sql(
        `INSERT INTO people (person_id, region_code, birth_year) SELECT unnest($1::uuid[]), $2, 1990`,
        [ids, regionCode],
      );
      const vouchers: string[] = [];
      for (const id of ids)
        vouchers.push(
          await h.services.claims.claim(person(id), templateId, await h.proof(id, 'CLAIM_VOUCHER')),
        );
      return ids.map((holder, i) => ({ holder, voucherId: vouchers[i]! }));
    };
    const x = await claimants(xiantao, '429004', 4);
    await claimants(wuhan, '420102', 2);

    // Uses: two of class 1 at its institution, one 仙桃 voucher at 仙桃's institution.
    const class1Vouchers = await h.sql<{ id: string; holder_person_id: string }>(
      'SELECT id, holder_person_id FROM vouchers WHERE class_id = $1 ORDER BY id',
      [class1],
    );
    const scan = (op: string, institutionId: string, voucherId: string, holder: string) =>
      h.services.redemption.redeem(person(op), {
        token: h.services.deps.qr.issue(voucherId, holder, NOW).token,
        institutionId,
      });
    await scan(op1, inst1, class1Vouchers[0]!.id, class1Vouchers[0]!.holder_person_id);
    await scan(op1, inst1, class1Vouchers[1]!.id, class1Vouchers[1]!.holder_person_id);
    await scan(op3, inst3, x[0]!.voucherId, x[0]!.holder);
    // Settlement of one, invalidation of one 高新区 voucher, expiry of one 仙桃 voucher.
    await h.publish(
      event(
        SubsidyDisbursedSchema,
        TOPICS.settlementDisbursement.name,
        class1,
        {
          disbursementId: uuidv7(),
          applicationId: uuidv7(),
          institutionId: inst1,
          classId: class1,
          regionCode: '420113',
          amountFen: 150_000n,
          voucherIds: [class1Vouchers[0]!.id],
          paidAt: ts(NOW),
        },
        '/vtv/settlement',
      ),
    );
    await eventually(async () =>
      (await h.services.deps.repos.vouchers.byId(class1Vouchers[0]!.id))?.state === 'SETTLED'
        ? true
        : undefined,
    );
    const [gx] = await h.sql<{ id: string }>('SELECT id FROM vouchers WHERE class_id = $1 LIMIT 1', [class2]);
    await h.services.outcomes.invalidateVoucher(HENAN, gx!.id, '重复发放');
    await h.sql(`UPDATE vouchers SET valid_until = $2 WHERE id = $1`, [
      x[1]!.voucherId,
      new Date(NOW.getTime() - 1000),
    ]);
    expect(await h.services.lifecycle.expireDue()).toBe(1);

    // Every level matches the ground truth in the vouchers table.
    for (const [caller, code, prefix] of [
      [ADMIN, '420000', '42'],
      [ADMIN, '420100', '4201'],
      [WUHAN_STATS, '420113', '420113'],
      [ADMIN, '429000', '4290'],
      [ADMIN, '429004', '429004'],
      [HENAN, '410000', '41'],
      [HENAN, '410400', '4104'],
      [HENAN, '410471', '410471'],
    ] as const) {
      const s = await stats(caller, code);
      expect({ code, ...s.counts }).toEqual({ code, ...(await truth(prefix)) });
    }

    const zone = await stats(WUHAN_STATS, '420113');
    expect(zone.counts).toMatchObject({
      issued: 5,
      used: 2,
      settled: 1,
      issuedFaceValueFen: 750_000,
      settledFaceValueFen: 150_000,
    });
    expect(zone.quota).toMatchObject({ issuedTarget: 11_000, usedTarget: 1_400 });
    expect(zone.progress).toEqual({ issuedTarget: 11_000, usedTarget: 1_400, issuedBp: 5, usedBp: 14 });

    const wuhanStats = await stats(WUHAN_STATS, '420100');
    expect(wuhanStats.counts).toMatchObject({ issued: 7, claimed: 2, used: 2 });
    expect(wuhanStats.ownCounts).toMatchObject({ issued: 2, claimed: 2, used: 0 });
    expect(wuhanStats.quota).toMatchObject({ issuedTarget: 100_000, usedTarget: 10_000 });
    expect(wuhanStats.childTargets).toEqual({ issuedTarget: 101_500, usedTarget: 10_200 });
    expect(wuhanStats.byChildRegion.find((c: { regionCode: string }) => c.regionCode === '420113')).toEqual({
      regionCode: '420113',
      counts: { issued: 5, used: 2 },
      quota: { issuedTarget: 11_000, usedTarget: 1_400 },
    });
    expect(wuhanStats.byChildRegion).toHaveLength(14);

    const hubei = await stats(ADMIN, '420000');
    expect(hubei.counts).toMatchObject({
      issued: 11,
      claimed: 6,
      used: 3,
      settled: 1,
      expired: 1,
      invalidated: 0,
    });
    expect(hubei.quota).toMatchObject({ issuedTarget: 400_000, usedTarget: 40_000 });
    expect(hubei.childTargets).toEqual({ issuedTarget: 405_000, usedTarget: 40_500 });
    expect(hubei.byChildRegion.find((c: { regionCode: string }) => c.regionCode === '429000')).toEqual({
      regionCode: '429000',
      counts: { issued: 4, used: 1 },
      quota: null,
    });
    expect(hubei.byTrainingType).toEqual([
      { trainingType: '创业培训', counts: { issued: 2, claimed: 2 } },
      { trainingType: '岗位技能提升培训', counts: { issued: 5, claimed: 0 } },
      { trainingType: '岗前培训', counts: { issued: 4, claimed: 4 } },
    ]);
    expect(hubei.byMonth).toEqual([{ month: '2021-10', counts: { issued: 11, used: 3 } }]);
    expect(hubei.byInstitution).toEqual(
      expect.arrayContaining([
        { institution: { id: inst1 }, counts: { issued: 5, used: 2, settled: 1 } },
        { institution: { id: inst3 }, counts: { issued: 0, used: 1, settled: 0 } },
      ]),
    );
    expect(hubei.currentlyHeld).toBe(11 - 3 - 1);

    const pingdingshan = await stats(HENAN, '410400');
    expect(pingdingshan.counts).toMatchObject({ issued: 3, invalidated: 1 });
    expect(pingdingshan.quota).toMatchObject({ issuedTarget: 43_000, usedTarget: 4_300 });
    expect(pingdingshan.childTargets).toEqual({ issuedTarget: 43_000, usedTarget: 4_300 });
    expect(pingdingshan.byChildRegion.find((c: { regionCode: string }) => c.regionCode === '410471')).toEqual(
      {
        regionCode: '410471',
        counts: { issued: 3, used: 0 },
        quota: { issuedTarget: 1_000, usedTarget: 100 },
      },
    );

    // Another year has none of it; another region's staff see nothing.
    expect((await stats(ADMIN, '420000', 2022)).counts.issued).toBe(0);
    expect(await stats(WUHAN_STATS, '420000')).toBeNull();
    expect(await stats(staff('420100', ['vouchers:read']), '420100')).toBeNull();
  });

  it('answers the dashboard query over 50,000 facts and 50,000 vouchers fast (indexed, one pass)', async () => {
    await h.sql(`
      INSERT INTO voucher_transitions (id, voucher_id, from_state, to_state, at, actor_kind, actor_id, region_code,
        kind, training_type, function_mode, face_value_fen, institution_id)
      SELECT gen_random_uuid(), gen_random_uuid(), NULL,
             (ARRAY['HELD','HELD','HELD','USED','SETTLED','EXPIRED','INVALIDATED'])[1 + i % 7],
             '2021-01-01T00:00:00+08:00'::timestamptz + (i % 365) * interval '1 day',
             'SYSTEM', 'synthetic',
             (ARRAY['421002','421003','421022','421081','421083','420602','420106','429005'])[1 + i % 8],
             CASE WHEN i % 3 = 0 THEN 'GENERAL' ELSE 'DIRECTED' END,
             'synthetic', 'FACE_VALUE', 100000,
             ('00000000-0000-7000-8000-' || lpad((i % 50)::text, 12, '0'))::uuid
      FROM generate_series(1, 50000) AS i`);
    await h.sql(`
      INSERT INTO vouchers (id, holder_person_id, region_code, state, kind, function_mode, face_value_fen,
        training_type, issued_at, valid_from, valid_until, used_at, settled_at)
      SELECT gen_random_uuid(), gen_random_uuid(),
             (ARRAY['421002','421003','421022','421081','421083','420602','420106','429005'])[1 + i % 8],
             (ARRAY['HELD','USED','SETTLED'])[1 + i % 3], 'DIRECTED', 'FACE_VALUE', 100000, 'synthetic',
             '2021-06-01T00:00:00+08:00', '2021-06-01T00:00:00+08:00', '2022-06-01T00:00:00+08:00',
             CASE WHEN i % 3 > 0 THEN '2021-07-01T00:00:00+08:00'::timestamptz END,
             CASE WHEN i % 3 = 2 THEN '2021-08-01T00:00:00+08:00'::timestamptz END
      FROM generate_series(1, 50000) AS i`);
    await h.sql('ANALYZE voucher_transitions');
    await h.sql('ANALYZE vouchers');
    const timings: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const started = performance.now();
      const s = await h.services.statistics.compute('420000', 2021);
      timings.push(performance.now() - started);
      expect(s.counts.issued).toBeGreaterThan(21_000);
    }
    timings.sort((a, b) => a - b);
    const median = timings[2]!;
    console.log(
      `statistics for 湖北省 over 50,011 facts and 50,011 vouchers: median ${median.toFixed(1)} ms (${timings.map((t) => t.toFixed(0)).join(', ')})`,
    );
    expect(median).toBeLessThan(1_500);
  });
});
