/**
 * People and e-SSC issuance against real PostgreSQL and Redis: ID-number validation (TESTING.md's table),
 * encryption at rest (the database holds ciphertext and a blind index only), masking, lookups by ID number,
 * region scope that looks like not-found, and the audited reveal.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { CardIssuedSchema } from '@vtv/events';
import { idNumberCheckChar, uuidv7 } from '@vtv/kit';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  ISSUE,
  issuePerson,
  person,
  staff,
  startIdentity,
  syntheticIdNumber,
  syntheticPhone,
  type Harness,
} from './helpers';

let h: Harness;

beforeAll(async () => {
  h = await startIdentity({}, 'identity_people');
});

afterAll(async () => {
  await h?.stop();
});

const toFullWidth = (s: string) =>
  s.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d))).replace('X', 'ｘ');

function withBirth(birth: string, address = '420102'): string {
  const first17 = `${address}${birth}${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}`;
  return first17 + idNumberCheckChar(first17);
}

/** A valid number whose check character is X (searching sequence numbers until one gives X). */
function endingInX(): string {
  for (let seq = 0; ; seq += 1) {
    const first17 = `42010219851104${String(seq).padStart(3, '0')}`;
    if (idNumberCheckChar(first17) === 'X') return `${first17}X`;
  }
}

async function peopleCount(): Promise<number> {
  const rows: { n: number }[] = await h.running.deps.ds.query('SELECT count(*)::int AS n FROM people');
  return rows[0]!.n;
}

const issue = (input: Record<string, unknown>) =>
  h.gql<{ issueCard: { person: Record<string, unknown> | null; errors: { code: string; field: string }[] } }>(
    null,
    ISSUE,
    { input: { name: '张三', phone: syntheticPhone(), regionCode: '420102', ...input } },
  );

describe('ID numbers on issuance (GB 11643-1999)', () => {
  test('a valid number is accepted and shown masked', async () => {
    const idNumber = syntheticIdNumber({ birth: '19900307' });
    const res = await issue({ idNumber });
    expect(res.errors).toBeUndefined();
    expect(res.data.issueCard.errors).toEqual([]);
    expect(res.data.issueCard.person).toMatchObject({
      maskedIdNumber: `${idNumber.slice(0, 4)}**********${idNumber.slice(14)}`,
      maskedName: '张*',
      birthYear: 1990,
      region: { code: '420102' },
      card: { status: 'ACTIVE', channel: 'SELF_SERVICE' },
    });
  });

  test('full-width digits and a lower-case x are normalised before storing and looking up', async () => {
    const idNumber = endingInX();
    const res = await issue({ idNumber: toFullWidth(idNumber) });
    expect(res.data.issueCard.errors).toEqual([]);
    expect(res.data.issueCard.person!.maskedIdNumber).toBe(`4201**********${idNumber.slice(14)}`);
    const reader = staff('420000', ['person:read']);
    const found = await h.gql<{ personByIdNumber: { id: string } | null }>(
      reader,
      `query ($n: String!) { personByIdNumber(idNumber: $n) { id } }`,
      { n: idNumber.toLowerCase() },
    );
    expect(found.data.personByIdNumber).toEqual({ id: res.data.issueCard.person!.id });
    // The same number again, written differently, is the same person.
    const again = await issue({ idNumber: idNumber.replace('X', 'x') });
    expect(again.data.issueCard.errors).toEqual([
      expect.objectContaining({ code: 'CONFLICT', field: 'idNumber' }),
    ]);
  });

  const valid = syntheticIdNumber({ address: '410402', birth: '19850615' });
  test.each([
    ['wrong check digit', valid.slice(0, 17) + (valid[17] === '1' ? '2' : '1'), 'ID_NUMBER_BAD_CHECK_DIGIT'],
    ['impossible date 19900230', withBirth('19900230'), 'ID_NUMBER_BAD_BIRTH_DATE'],
    ['month 00', withBirth('19900015'), 'ID_NUMBER_BAD_BIRTH_DATE'],
    ['a birth date in the future', withBirth('20991231'), 'ID_NUMBER_BAD_BIRTH_DATE'],
    ['17 characters', valid.slice(0, 17), 'ID_NUMBER_WRONG_LENGTH'],
    ['19 characters', `${valid}0`, 'ID_NUMBER_WRONG_LENGTH'],
    ['empty', '', 'ID_NUMBER_WRONG_LENGTH'],
    ['a megabyte-ish string', '4'.repeat(200_000), 'ID_NUMBER_WRONG_LENGTH'],
    ['injection text', "42'); DROP TABLE people;--", 'ID_NUMBER_WRONG_LENGTH'],
    ['a letter inside', `4201021990A307123${valid[17]}`, 'ID_NUMBER_BAD_CHARACTERS'],
    ['unknown province 99', withBirth('19900101', '990102'), 'ID_NUMBER_UNKNOWN_REGION'],
    ['unknown province 00', withBirth('19900101', '000102'), 'ID_NUMBER_UNKNOWN_REGION'],
  ])('refused: %s, with a clear code and nothing written', async (_label, idNumber, code) => {
    const before = await peopleCount();
    const res = await issue({ idNumber });
    expect(res.errors).toBeUndefined();
    expect(res.data.issueCard).toEqual({
      person: null,
      errors: [expect.objectContaining({ code, field: 'idNumber' })],
    });
    if (idNumber.length >= 17) {
      expect(res.data.issueCard.errors[0]).not.toHaveProperty(
        'message',
        expect.stringContaining(idNumber.slice(0, 17)),
      );
    }
    expect(await peopleCount()).toBe(before);
  });

  test('bad names, phones, regions and PINs are refused field by field', async () => {
    const idNumber = syntheticIdNumber();
    expect((await issue({ idNumber, name: '' })).data.issueCard.errors[0]).toMatchObject({
      code: 'NAME_INVALID',
    });
    expect((await issue({ idNumber, name: '<script>' })).data.issueCard.errors[0]).toMatchObject({
      code: 'NAME_INVALID',
    });
    expect((await issue({ idNumber, phone: '12345' })).data.issueCard.errors[0]).toMatchObject({
      code: 'PHONE_INVALID',
      field: 'phone',
    });
    expect((await issue({ idNumber, regionCode: '999999' })).data.issueCard.errors[0]).toMatchObject({
      code: 'NOT_FOUND',
      field: 'regionCode',
    });
    expect((await issue({ idNumber, pin: '12345' })).data.issueCard.errors[0]).toMatchObject({
      code: 'PIN_FORMAT',
    });
    expect((await issue({ idNumber, pin: '123456' })).data.issueCard.errors[0]).toMatchObject({
      code: 'PIN_TOO_WEAK',
    });
    expect((await issue({ idNumber, pin: '888888' })).data.issueCard.errors[0]).toMatchObject({
      code: 'PIN_TOO_WEAK',
    });
  });

  test('a lookup with a malformed number is a typed error, never a 5xx', async () => {
    const res = await h.gql(
      staff('420000', ['person:read']),
      `{ personByIdNumber(idNumber: "4201021990") { id } }`,
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'ID_NUMBER_WRONG_LENGTH', field: 'idNumber' });
  });
});

describe('personal data at rest', () => {
  test('the database holds ciphertext and a blind index only', async () => {
    const someone = await issuePerson(h, { name: '欧阳娜娜' });
    const { ds } = h.running.deps;

    // SELECT * FROM people: the row has no plaintext column, and the encrypted ones are not the data.
    const [row] = await ds.query('SELECT * FROM people WHERE id = $1', [someone.id]);
    expect(Object.keys(row).sort()).toEqual(
      [
        'birth_year',
        'card_issued_at',
        'id',
        'id_blind_index',
        'id_number_enc',
        'name_enc',
        'phone_enc',
        'pii_key_id',
        'region_code',
      ].sort(),
    );
    expect(row.id_blind_index).toHaveLength(32);

    // Every text, bytea and json column of every table, as text and as raw bytes.
    const needles = [
      someone.idNumber,
      someone.phone,
      someone.name,
      someone.idNumber.slice(6, 14) + someone.idNumber.slice(14),
    ];
    const columns: { table_name: string; column_name: string; data_type: string }[] = await ds.query(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = 'public' AND data_type IN ('text', 'character', 'character varying', 'bytea', 'jsonb', 'ARRAY')`,
    );
    expect(columns.length).toBeGreaterThan(20);
    for (const c of columns) {
      const values: { v: unknown }[] = await ds.query(
        `SELECT "${c.column_name}" AS v FROM "${c.table_name}"`,
      );
      for (const { v } of values) {
        if (v == null) continue;
        const bytes = Buffer.isBuffer(v)
          ? v
          : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8');
        for (const needle of needles) {
          expect({
            where: `${c.table_name}.${c.column_name}`,
            found: bytes.includes(Buffer.from(needle, 'utf8')),
          }).toEqual({
            where: `${c.table_name}.${c.column_name}`,
            found: false,
          });
        }
      }
    }

    // And what an operator's pg_dump would show (when the client tools are installed).
    if (existsSync('/usr/bin/pg_dump')) {
      const dump = execFileSync('pg_dump', ['--data-only', '--no-owner', h.db.url], {
        maxBuffer: 64 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      expect(dump.includes(Buffer.from('INSERT INTO')) || dump.includes(Buffer.from('COPY'))).toBe(true);
      for (const needle of needles) expect(dump.includes(Buffer.from(needle, 'utf8'))).toBe(false);
      expect(dump.includes(Buffer.from(Buffer.from(someone.idNumber).toString('hex')))).toBe(false);
    }
  });

  test('the CardIssued event carries the opaque id, region and birth year only', async () => {
    const someone = await issuePerson(h, { regionCode: '410402' });
    const [row] = await h.running.deps.ds.query(
      `SELECT type, key, payload FROM outbox WHERE key = $1 AND type = 'vtv.identity.v1.CardIssued'`,
      [someone.id],
    );
    const event = fromBinary(CardIssuedSchema, row.payload);
    expect(event).toMatchObject({
      personId: someone.id,
      regionCode: '410402',
      birthYear: Number(someone.idNumber.slice(6, 10)),
    });
    for (const needle of [someone.idNumber, someone.phone, someone.name]) {
      expect(Buffer.from(row.payload).includes(Buffer.from(needle))).toBe(false);
    }
  });
});

describe('who sees whom', () => {
  const PERSON_Q = `query ($id: ID!) { person(id: $id) { id maskedName maskedPhone maskedIdNumber hasPin } }`;

  test('a person sees themself (masked); another person sees nothing', async () => {
    const someone = await issuePerson(h, { name: '李小龙' });
    const mine = await h.gql<{ me: Record<string, unknown> }>(
      person(someone.id),
      `{ me { id maskedName maskedPhone hasPin } }`,
    );
    expect(mine.data.me).toEqual({
      id: someone.id,
      maskedName: '李**',
      maskedPhone: `${someone.phone.slice(0, 3)}****${someone.phone.slice(7)}`,
      hasPin: true,
    });
    const other = await h.gql<{ person: unknown }>(person(uuidv7()), PERSON_Q, { id: someone.id });
    expect(other.data.person).toBeNull();
  });

  test('staff outside the region get exactly what a non-existent person gives', async () => {
    const wuhanPerson = await issuePerson(h, { regionCode: '420111' });
    const henan = staff('410000', ['person:read', 'person:reveal']);
    const hubei = staff('420000', ['person:read']);

    const inScope = await h.gql<{ person: { id: string; hasPin: null } }>(hubei, PERSON_Q, {
      id: wuhanPerson.id,
    });
    expect(inScope.data.person).toMatchObject({ id: wuhanPerson.id, hasPin: null });

    const outOfScope = await h.gql(henan, PERSON_Q, { id: wuhanPerson.id });
    const missing = await h.gql(henan, PERSON_Q, { id: uuidv7() });
    expect(outOfScope).toEqual(missing);
    expect(outOfScope.data).toEqual({ person: null });

    const byNumberOut = await h.gql(henan, `query ($n: String!) { personByIdNumber(idNumber: $n) { id } }`, {
      n: wuhanPerson.idNumber,
    });
    const byNumberMissing = await h.gql(
      henan,
      `query ($n: String!) { personByIdNumber(idNumber: $n) { id } }`,
      {
        n: syntheticIdNumber(),
      },
    );
    expect(byNumberOut).toEqual(byNumberMissing);

    const REVEAL = `mutation ($input: RevealIdNumberInput!) { revealIdNumber(input: $input) { idNumber errors { code message field } } }`;
    const revealOut = await h.gql(henan, REVEAL, { input: { personId: wuhanPerson.id, reason: '核对身份' } });
    const revealMissing = await h.gql(henan, REVEAL, { input: { personId: uuidv7(), reason: '核对身份' } });
    expect(revealOut).toEqual(revealMissing);
    expect(revealOut.data).toEqual({
      revealIdNumber: {
        idNumber: null,
        errors: [{ code: 'NOT_FOUND', message: 'Person not found', field: 'personId' }],
      },
    });
  });

  test('lists are masked and confined to the subtree', async () => {
    await issuePerson(h, { regionCode: '420115', name: '王五' });
    await issuePerson(h, { regionCode: '410422', name: '赵六' });
    const LIST = `query ($r: ID, $after: String) { people(regionCode: $r, first: 100, after: $after) {
      edges { node { maskedName maskedIdNumber maskedPhone region { code } } } pageInfo { hasNextPage endCursor } } }`;
    const wuhan = staff('420100', ['person:read']);
    const res = await h.gql<{
      people: {
        edges: {
          node: { maskedName: string; maskedIdNumber: string; maskedPhone: string; region: { code: string } };
        }[];
      };
    }>(wuhan, LIST);
    const nodes = res.data.people.edges.map((e) => e.node);
    expect(nodes.length).toBeGreaterThan(0);
    for (const n of nodes) {
      expect(n.region.code.startsWith('4201')).toBe(true);
      expect(n.maskedIdNumber).toMatch(/^\d{4}\*{10}[\dX]{4}$/);
      expect(n.maskedPhone).toMatch(/^\d{3}\*{4}\d{4}$/);
      expect(n.maskedName).toMatch(/^\p{L}{1,2}\*+$/u);
    }
    expect(nodes.some((n) => n.maskedName === '王*')).toBe(true);
    expect(nodes.some((n) => n.maskedName === '赵*')).toBe(false);
    const elsewhere = await h.gql<{ people: { edges: unknown[] } }>(wuhan, LIST, { r: '410422' });
    expect(elsewhere.data.people.edges).toEqual([]);
    const noPermission = await h.gql(staff('420100', ['vouchers:read']), LIST);
    expect(noPermission.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('revealing a full ID number', () => {
  const REVEAL = `mutation ($input: RevealIdNumberInput!) { revealIdNumber(input: $input) { idNumber errors { code field } } }`;

  test('needs person:reveal and a reason, and leaves an audit record', async () => {
    const someone = await issuePerson(h, { regionCode: '420106' });
    const reader = staff('420100', ['person:read']);
    const denied = await h.gql(reader, REVEAL, { input: { personId: someone.id, reason: '窗口核验' } });
    expect(denied.data).toEqual({
      revealIdNumber: { idNumber: null, errors: [{ code: 'FORBIDDEN', field: null }] },
    });

    const revealer = staff('420100', ['person:reveal', 'audit:read']);
    const noReason = await h.gql(revealer, REVEAL, { input: { personId: someone.id, reason: ' ' } });
    expect(noReason.data).toEqual({
      revealIdNumber: { idNumber: null, errors: [{ code: 'BAD_USER_INPUT', field: 'reason' }] },
    });

    const ok = await h.gql(revealer, REVEAL, { input: { personId: someone.id, reason: '窗口核验' } });
    expect(ok.data).toEqual({ revealIdNumber: { idNumber: someone.idNumber, errors: [] } });

    const log = await h.gql<{ auditLog: { edges: { node: Record<string, unknown> }[] } }>(
      revealer,
      `query ($t: ID) { auditLog(action: ID_NUMBER_REVEALED, targetId: $t, first: 10) {
        edges { node { action actorKind actorId targetType targetId regionCode details } } } }`,
      { t: someone.id },
    );
    expect(log.data.auditLog.edges).toHaveLength(1);
    const record = log.data.auditLog.edges[0]!.node;
    expect(record).toMatchObject({
      action: 'ID_NUMBER_REVEALED',
      actorKind: 'staff',
      actorId: revealer.id,
      targetType: 'PERSON',
      targetId: someone.id,
      regionCode: '420106',
    });
    expect(JSON.parse(record.details as string)).toEqual({ reason: '窗口核验' });
    expect(record.details).not.toContain(someone.idNumber);
  });
});

describe('issuance by staff and channels', () => {
  test('needs person:card:issue and stays inside the region', async () => {
    const counter = staff('420100', ['person:card:issue']);
    const inRegion = await h.gql<{ issueCard: { person: { card: { channel: string } }; errors: unknown[] } }>(
      counter,
      ISSUE,
      {
        input: { name: '钱七', idNumber: syntheticIdNumber(), phone: syntheticPhone(), regionCode: '420103' },
      },
    );
    expect(inRegion.data.issueCard.errors).toEqual([]);
    expect(inRegion.data.issueCard.person.card.channel).toBe('STAFF');

    const outside = await h.gql<{ issueCard: { errors: unknown[] } }>(counter, ISSUE, {
      input: { name: '钱七', idNumber: syntheticIdNumber(), phone: syntheticPhone(), regionCode: '410402' },
    });
    expect(outside.data.issueCard.errors).toEqual([
      expect.objectContaining({ code: 'NOT_FOUND', field: 'regionCode' }),
    ]);

    const withoutPermission = await h.gql<{ issueCard: { errors: unknown[] } }>(staff('420100', []), ISSUE, {
      input: { name: '钱七', idNumber: syntheticIdNumber(), phone: syntheticPhone(), regionCode: '420103' },
    });
    expect(withoutPermission.data.issueCard.errors).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
  });
});

describe('regions (GB/T 2260) as the seed notices name them', () => {
  const CHILDREN = `query ($c: ID) { regions(parentCode: $c) { code name level } }`;
  const names = async (code?: string) =>
    (await h.gql<{ regions: { name: string }[] }>(null, CHILDREN, { c: code ?? null })).data.regions.map(
      (r) => r.name,
    );

  test('all 34 province-level divisions', async () => {
    const provinces = await names();
    expect(provinces).toHaveLength(34);
    expect(provinces).toEqual(
      expect.arrayContaining(['河南省', '湖北省', '北京市', '新疆维吾尔自治区', '澳门特别行政区']),
    );
  });

  test('Pingdingshan: every county, district and zone of the quota table (seed 000, Annex 1)', async () => {
    expect(await names('410000')).toContain('平顶山市');
    expect((await names('410400')).sort()).toEqual(
      [
        '舞钢市',
        '宝丰县',
        '郏县',
        '鲁山县',
        '叶县',
        '新华区',
        '卫东区',
        '湛河区',
        '石龙区',
        '城乡一体化示范区',
        '高新区',
      ].sort(),
    );
  });

  test('Hubei: the 17 cities and areas of the provincial plan (seed 003, Annex 2)', async () => {
    const cities = await names('420000');
    const directlyAdministered = await names('429000');
    const all = [...cities.filter((n) => n !== '省直辖县级行政区划'), ...directlyAdministered];
    expect(all).toHaveLength(17);
    for (const short of [
      '武汉',
      '宜昌',
      '襄阳',
      '十堰',
      '黄石',
      '荆州',
      '荆门',
      '黄冈',
      '孝感',
      '鄂州',
      '咸宁',
      '随州',
      '恩施',
      '仙桃',
      '天门',
      '潜江',
      '神农架林区',
    ]) {
      expect(all.some((n) => n.startsWith(short))).toBe(true);
    }
  });

  test('Wuhan: the 14 districts and zones of the city plan', async () => {
    const districts = await names('420100');
    expect(districts).toHaveLength(14);
    expect(districts).toEqual(
      expect.arrayContaining(['江岸区', '经开(汉南)区', '东湖新技术开发区', '新洲区']),
    );
  });

  test('entity references and parents resolve', async () => {
    const res = await h.gql(
      null,
      `{ region(code: "410472") { name level parent { name parent { name } } } }`,
    );
    expect(res.data).toEqual({
      region: {
        name: '城乡一体化示范区',
        level: 'COUNTY',
        parent: { name: '平顶山市', parent: { name: '河南省' } },
      },
    });
    expect((await h.gql(null, `{ region(code: "42'--") { name } }`)).data).toEqual({ region: null });
  });
});

test('without a configured provider, face verification says so and points to the PIN', async () => {
  const someone = await issuePerson(h);
  const res = await h.gql(
    person(someone.id),
    `mutation { startFaceVerification(input: { purpose: USE_VOUCHER }) { nonce errors { code } } }`,
  );
  expect(res.data).toEqual({
    startFaceVerification: { nonce: null, errors: [{ code: 'FACE_VERIFICATION_UNAVAILABLE' }] },
  });
});
