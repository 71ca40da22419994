/**
 * Demo data for `npm start` (idempotent: run again, it changes nothing and answers the same personas).
 * Regions and the 2021 quotas are already in the seed migrations of identity and vouchers; this adds,
 * through the graph like any client: personas for each role, institutions in Wuhan and Pingdingshan
 * with real-looking coordinates and valid USCC check characters, and an approved class. All ID numbers
 * are synthetic (valid GB 11643 check character, fixed sequence numbers) — never real people.
 */
import { uuidv7, type TokenIssuer } from '@vtv/kit';
import { GraphClient, labourer, staffSignIn, TRAINING_TYPE } from '../lib/lifecycle';
import { syntheticCreditCode, syntheticIdNumber } from '../lib/synthetic';

/** The bootstrap administrator (identity's BOOTSTRAP_ADMIN_*): Hubei province. */
export const DEMO_ADMIN = {
  idNumber: syntheticIdNumber('420102', '19800101', 11),
  name: '湖北省演示管理员',
  regionCode: '420000',
  pin: '369258',
};
const LABOURER = { idNumber: syntheticIdNumber('420102', '19950315', 21), name: '王伟', pin: '258147' };
const OPERATOR = { idNumber: syntheticIdNumber('420106', '19880720', 31), name: '李敏', pin: '147258' };

const INSTITUTIONS = [
  {
    name: '武汉市江岸区职业技能培训学校',
    regionCode: '420102',
    address: '武汉市江岸区解放大道1000号',
    latitude: 30.6,
    longitude: 114.305,
    seq: 101,
  },
  {
    name: '平顶山市新华区职业培训中心',
    regionCode: '410402',
    address: '平顶山市新华区中兴路88号',
    latitude: 33.7377,
    longitude: 113.2936,
    seq: 201,
  },
];

export interface Persona {
  role: string;
  token: string;
  how: string;
}

const tolerate = (codes: string[]) => codes.every((c) => c === 'CONFLICT');

export async function seedDemo(gatewayUrl: string, tokens: TokenIssuer): Promise<Persona[]> {
  const g = new GraphClient(gatewayUrl);
  const adminPerson = await labourer(g, { ...DEMO_ADMIN, regionCode: '420102' });
  const admin = await staffSignIn(g, adminPerson);
  const worker = await labourer(g, { ...LABOURER, regionCode: '420102' });
  const operator = await labourer(g, { ...OPERATOR, regionCode: '420106' });
  const bureau = (regionCode: string) =>
    tokens.issue(
      {
        kind: 'staff',
        id: uuidv7(),
        regionCode,
        permissions: [
          'training:institution:write',
          'training:class:submit',
          'training:class:approve',
          'training:completion:review',
          'vouchers:rules:write',
          'vouchers:issue',
          'vouchers:review',
          'vouchers:read',
          'vouchers:statistics',
          'settlement:read',
          'settlement:review',
          'careers:read',
          'person:read',
        ],
      },
      3600,
    );
  const wuhan = await bureau('420100');
  const pingdingshan = await bureau('410400');

  // Institutions (a repeat answers CONFLICT on the credit code) and a class in Wuhan.
  for (const [i, inst] of INSTITUTIONS.entries()) {
    const res = await g.run(
      'RegisterInstitution',
      {
        input: {
          name: inst.name,
          creditCode: syntheticCreditCode(inst.regionCode, inst.seq),
          regionCode: inst.regionCode,
          address: inst.address,
          latitude: inst.latitude,
          longitude: inst.longitude,
          ...(i === 0 ? { mainOperatorPersonId: operator.personId, mainOperatorPosition: '教务主任' } : {}),
        },
      },
      i === 0 ? wuhan : pingdingshan,
    );
    const p = res.registerInstitution;
    if (!tolerate(p.errors.map((e: { code: string }) => e.code))) throw new Error(JSON.stringify(p.errors));
    if (i === 0 && p.institution) {
      await g.mutate('SetInstitutionActive', { id: p.institution.id, active: true }, wuhan);
      const start = new Date(Date.now() + 7 * 86_400_000);
      const day = start.toISOString().slice(0, 10);
      const plan = await g.mutate(
        'SubmitClassPlan',
        {
          input: {
            institutionId: p.institution.id,
            name: '电工（四级）培训班',
            occupation: '电工',
            trainingType: TRAINING_TYPE,
            level: '四级',
            headcount: 30,
            startDate: day,
            endDate: day,
            courses: [{ name: '低压电工作业', hours: 8 }],
            sessions: [{ startsAt: `${day}T01:00:00Z`, endsAt: `${day}T09:00:00Z`, courseIndex: 0 }],
            rosterPersonIds: [worker.personId],
          },
        },
        operator.token,
      );
      await g.mutate('ApproveClassPlan', { id: plan.trainingClass.id }, wuhan);
      await g.mutate(
        'SetFaceValueRule',
        {
          input: {
            regionCode: '420100',
            trainingType: TRAINING_TYPE,
            functionMode: 'FACE_VALUE',
            subsidyAmountFen: 150_000,
          },
        },
        admin,
      );
    }
  }
  const client = await g.mutate(
    'CreateClient',
    { input: { name: '演示鉴定中心', regionCode: '420100', permissions: ['careers:certificates:import'] } },
    admin,
  );
  const integrator = await g.mutate('SignInClient', {
    input: { clientId: client.client.id, clientSecret: client.clientSecret },
  });
  return [
    {
      role: 'labourer (王伟, Wuhan)',
      token: worker.token,
      how: `signInPerson ${LABOURER.idNumber} / PIN ${LABOURER.pin}`,
    },
    {
      role: 'operator (李敏, 江岸区职业技能培训学校)',
      token: operator.token,
      how: `signInPerson ${OPERATOR.idNumber} / PIN ${OPERATOR.pin}`,
    },
    { role: 'bureau staff, Wuhan (420100)', token: wuhan, how: 'minted for the demo, 1 h' },
    { role: 'bureau staff, Pingdingshan (410400)', token: pingdingshan, how: 'minted for the demo, 1 h' },
    {
      role: 'provincial admin, Hubei (420000)',
      token: admin,
      how: `QR sign-in; e-SSC ${DEMO_ADMIN.idNumber} / PIN ${DEMO_ADMIN.pin}`,
    },
    {
      role: 'integrator client (certificate import)',
      token: integrator.accessToken,
      how: `signInClient ${client.client.id}`,
    },
  ];
}
