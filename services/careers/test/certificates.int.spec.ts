/**
 * Certificates against real PostgreSQL and Kafka: imports through the graph (integrator clients, region
 * scoped, duplicates refused, Idempotency-Key) and through CertificateImported events (redeliveries and
 * identical re-imports are harmless, conflicting content is refused), CertificateRecorded emitted, and
 * who may read what.
 */
import { fromBinary } from '@bufbuild/protobuf';
import {
  CertificateImportedSchema,
  CertificateKind,
  CertificateRecordedSchema,
  KafkaBus,
  TOPICS,
  type EventRecord,
  type Subscription,
} from '@vtv/events';
import { createLogger, uuidv7, type Caller } from '@vtv/kit';
import { contractEvent, daysFromToday, eventually, person, startHarness, ts, type Harness } from './harness';

const integrator: Caller = {
  kind: 'client',
  id: `client-${uuidv7()}`,
  regionCode: '420100',
  permissions: ['careers:certificates:import'],
};
const wuhanReader: Caller = {
  kind: 'staff',
  id: uuidv7(),
  regionCode: '420100',
  permissions: ['careers:read'],
};
const henanReader: Caller = {
  kind: 'staff',
  id: uuidv7(),
  regionCode: '410000',
  permissions: ['careers:read'],
};

const IMPORT = `mutation ($input: ImportCertificateInput!) {
  importCertificate(input: $input) {
    certificate { id holder { id } kind occupation level issuer number issuedOn regionCode source recordedAt }
    errors { code message field }
  }
}`;
const PERSON = `query ($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on Person {
      id
      certificates { id number }
      archive { edges { node { type summary certificate { id } } } }
      dataAccessLog { edges { node { action actorKind actorId actorRegionCode detail } } }
    }
  }
}`;

describe('certificates', () => {
  let h: Harness;
  let observer: KafkaBus;
  let subscription: Subscription;
  const recorded: EventRecord[] = [];

  beforeAll(async () => {
    h = await startHarness('careers_cert', { kafka: true });
    observer = new KafkaBus({
      brokers: h.kafka!.brokers.split(','),
      clientId: 'careers-test-observer',
      logger: createLogger('careers-test', 'warn'),
      namespace: h.kafka!.namespace,
    });
    subscription = await observer.subscribe({
      group: 'careers-test-observer',
      topics: [TOPICS.careersCertificate.name],
      handler: async (e) => void recorded.push(e),
    });
  });

  afterAll(async () => {
    await subscription?.stop().catch(() => undefined);
    await observer?.deleteNamespace(['careers-test-observer']).catch(() => undefined);
    await observer?.close();
    await h?.stop();
  });

  function input(overrides: Record<string, unknown> = {}) {
    return {
      holderId: uuidv7(),
      regionCode: '420102',
      kind: 'SKILL_LEVEL',
      occupation: '电工',
      level: 'LEVEL_4',
      issuer: '武汉市职业技能鉴定指导中心',
      number: `420102${Date.now()}${Math.floor(Math.random() * 1e6)}`,
      issuedOn: daysFromToday(-30),
      ...overrides,
    };
  }

  async function importErrors(caller: Caller | null, overrides: Record<string, unknown>) {
    const res = await h.gql(caller, IMPORT, { input: input(overrides) });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.importCertificate.certificate).toBeNull();
    return res.body.data.importCertificate.errors as { code: string; field: string | null }[];
  }

  describe('through the graph', () => {
    it('records a certificate for an integrator in region, emits CertificateRecorded and files it in the archive', async () => {
      const data = input();
      const res = await h.gql(integrator, IMPORT, { input: data });
      expect(res.body.errors).toBeUndefined();
      const { certificate, errors } = res.body.data.importCertificate;
      expect(errors).toEqual([]);
      expect(certificate).toMatchObject({
        holder: { id: data.holderId },
        kind: 'SKILL_LEVEL',
        occupation: '电工',
        level: 'LEVEL_4',
        issuer: data.issuer,
        number: data.number,
        issuedOn: data.issuedOn,
        regionCode: '420102',
        source: 'GRAPH',
      });

      const event = await eventually(
        async () => recorded.find((e) => e.subject === data.holderId),
        30_000,
        'CertificateRecorded on Kafka',
      );
      expect(event.type).toBe('vtv.careers.v1.CertificateRecorded');
      const message = fromBinary(CertificateRecordedSchema, event.data);
      expect(message).toMatchObject({
        certificateId: certificate.id,
        personId: data.holderId,
        regionCode: '420102',
        kind: CertificateKind.SKILL_LEVEL,
        occupation: '电工',
        level: 'LEVEL_4',
        issuedOn: data.issuedOn,
        source: 'GRAPH',
      });

      const own = await h.gql(person(data.holderId), PERSON, {
        reps: [{ __typename: 'Person', id: data.holderId }],
      });
      expect(own.body.errors).toBeUndefined();
      const p = own.body.data._entities[0];
      expect(p.certificates).toEqual([{ id: certificate.id, number: data.number }]);
      expect(p.archive.edges).toEqual([
        {
          node: {
            type: 'CERTIFICATE',
            summary: `取得职业技能等级证书：电工（四级），发证机构：${data.issuer}`,
            certificate: { id: certificate.id },
          },
        },
      ]);
      expect(p.dataAccessLog.edges.map((e: { node: unknown }) => e.node)).toEqual([
        expect.objectContaining({
          action: 'CERTIFICATE_IMPORTED',
          actorKind: 'CLIENT',
          actorId: integrator.id,
        }),
      ]);
    });

    it('refuses the same issuer and number twice with CONFLICT, whatever the content', async () => {
      const first = input();
      const ok = await h.gql(integrator, IMPORT, { input: first });
      expect(ok.body.data.importCertificate.errors).toEqual([]);
      // Same content again, and different content under the same issuer and number.
      for (const again of [first, { ...first, holderId: uuidv7(), level: 'LEVEL_3' }]) {
        const res = await h.gql(integrator, IMPORT, { input: again });
        expect(res.body.data.importCertificate).toEqual({
          certificate: null,
          errors: [expect.objectContaining({ code: 'CONFLICT', field: 'number' })],
        });
      }
      const rows = await h.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM certificates WHERE issuer = $1 AND number = $2',
        [first.issuer, first.number],
      );
      expect(rows[0]!.n).toBe(1);
      // The same number from another issuer is another certificate.
      const other = await h.gql(integrator, IMPORT, { input: { ...first, issuer: '武汉某职业培训学校' } });
      expect(other.body.data.importCertificate.errors).toEqual([]);
    });

    it('answers a retry with the same Idempotency-Key with the first result, and refuses the key with other input', async () => {
      const data = input();
      const key = `import-${uuidv7()}`;
      const first = await h.gql(integrator, IMPORT, { input: data }, { 'idempotency-key': key });
      const again = await h.gql(integrator, IMPORT, { input: data }, { 'idempotency-key': key });
      expect(first.body.data.importCertificate.errors).toEqual([]);
      expect(again.body.data.importCertificate).toEqual(first.body.data.importCertificate);
      const reused = await h.gql(
        integrator,
        IMPORT,
        { input: { ...data, number: 'other' } },
        { 'idempotency-key': key },
      );
      expect(reused.body.data.importCertificate.errors).toEqual([
        expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED' }),
      ]);
    });

    it('refuses callers without the permission, outside the region, or of the wrong kind', async () => {
      expect(await importErrors(null, {}).catch(() => null)).toBeNull(); // no gateway signature: 401
      expect(await importErrors({ kind: 'anonymous', permissions: [] }, {})).toEqual([
        expect.objectContaining({ code: 'UNAUTHENTICATED' }),
      ]);
      expect(await importErrors({ ...integrator, permissions: ['careers:read'] }, {})).toEqual([
        expect.objectContaining({ code: 'FORBIDDEN' }),
      ]);
      expect(
        await importErrors({ ...person(uuidv7()), permissions: ['careers:certificates:import'] }, {}),
      ).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
      expect(await importErrors(integrator, { regionCode: '410402' })).toEqual([
        expect.objectContaining({ code: 'FORBIDDEN', field: 'regionCode' }),
      ]);
      // Staff holding the permission may import too, in their region.
      const staffImporter: Caller = {
        kind: 'staff',
        id: uuidv7(),
        regionCode: '410000',
        permissions: ['careers:certificates:import'],
      };
      const res = await h.gql(staffImporter, IMPORT, { input: input({ regionCode: '410402' }) });
      expect(res.body.data.importCertificate.errors).toEqual([]);
    });

    it.each([
      ['holderId', { holderId: 'not-a-person-id' }],
      ['regionCode', { regionCode: '4201' }],
      ['occupation', { occupation: '  ' }],
      ['occupation', { occupation: '工'.repeat(101) }],
      ['level', { kind: 'SKILL_LEVEL', level: null }],
      ['issuer', { issuer: '' }],
      ['number', { number: 'x'.repeat(101) }],
      ['issuedOn', { issuedOn: '2024-02-30' }],
      ['issuedOn', { issuedOn: daysFromToday(1) }],
    ])('answers BAD_USER_INPUT on %s for %j and records nothing', async (field, overrides) => {
      const data = input(overrides);
      const res = await h.gql(integrator, IMPORT, { input: data });
      expect(res.body.data.importCertificate.errors).toEqual([
        expect.objectContaining({ code: 'BAD_USER_INPUT', field }),
      ]);
      const rows = await h.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM certificates WHERE number = $1',
        [String(data.number)],
      );
      expect(rows[0]!.n).toBe(0);
    });
  });

  describe('through events', () => {
    const topic = TOPICS.careersCertificateImport.name;
    const imported = (personId: string, overrides: Record<string, unknown> = {}) =>
      contractEvent(CertificateImportedSchema, topic, personId, '/integrators/hubei-osta', {
        importId: uuidv7(),
        personId,
        regionCode: '420106',
        kind: CertificateKind.VOCATIONAL_QUALIFICATION,
        occupation: '育婴员',
        level: '四级/中级工',
        issuer: '湖北省职业技能鉴定中心',
        number: `HB${uuidv7().slice(-12)}`,
        issuedOn: daysFromToday(-10),
        integratorId: 'client-hubei-osta',
        importedAt: ts(new Date()),
        ...overrides,
      });

    it('records an import once: a redelivery and an identical re-import are no-ops; conflicting content is refused', async () => {
      const holder = uuidv7();
      const first = imported(holder);
      const message = fromBinary(CertificateImportedSchema, first.data);
      const sameContent = imported(holder, { number: message.number, importId: uuidv7() });
      const conflicting = imported(holder, { number: message.number, occupation: '保育员' });
      const invalid = imported(holder, { personId: 'not-a-person', number: 'INVALID-1' });
      const sentinel = imported(holder, { occupation: '家政服务员', level: '' });
      await h.publish([first]);
      await h.publish([first]); // the same ce_id again: a redelivery
      await h.publish([sameContent, conflicting, invalid, sentinel]);

      const certificates = await eventually(
        async () => {
          const rows = await h.query<{
            number: string;
            occupation: string;
            source: string;
            level: string | null;
          }>(
            'SELECT number, occupation, source, level FROM certificates WHERE holder_person_id = $1 ORDER BY id',
            [holder],
          );
          return rows.length === 2 ? rows : undefined;
        },
        30_000,
        'both certificates recorded',
      );
      expect(certificates).toEqual([
        { number: message.number, occupation: '育婴员', source: 'EVENT', level: 'LEVEL_4' },
        expect.objectContaining({ occupation: '家政服务员', source: 'EVENT', level: null }),
      ]);
      const rejections = await h.query<{ event_id: string; code: string; reason: string }>(
        'SELECT event_id, code, reason FROM certificate_import_rejections WHERE event_id = ANY($1) ORDER BY received_at',
        [[first.id, sameContent.id, conflicting.id, invalid.id, sentinel.id]],
      );
      expect(rejections).toEqual([
        expect.objectContaining({ event_id: conflicting.id, code: 'CONFLICT' }),
        expect.objectContaining({
          event_id: invalid.id,
          code: 'BAD_USER_INPUT',
          reason: expect.stringMatching(/^holderId/),
        }),
      ]);
      // Each event handled once (the redelivery was skipped by the inbox); none dead-lettered.
      const inbox = await h.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM inbox WHERE event_id = ANY($1)',
        [[first.id, sameContent.id, conflicting.id, invalid.id, sentinel.id]],
      );
      expect(inbox[0]!.n).toBe(5);
      // Exactly one archive entry and one CertificateRecorded per certificate.
      const entries = await h.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM archive_entries WHERE person_id = $1 AND type = 'CERTIFICATE'`,
        [holder],
      );
      expect(entries[0]!.n).toBe(2);
      await eventually(async () =>
        recorded.filter((e) => e.subject === holder).length === 2 ? true : undefined,
      );
    });

    it('a certificate imported by event conflicts with the graph', async () => {
      const holder = uuidv7();
      const event = imported(holder, { regionCode: '420102' });
      const m = fromBinary(CertificateImportedSchema, event.data);
      await h.publish([event]);
      await eventually(async () => {
        const rows = await h.query('SELECT 1 FROM certificates WHERE holder_person_id = $1', [holder]);
        return rows.length ? true : undefined;
      });
      const errors = await importErrors(integrator, {
        holderId: holder,
        issuer: m.issuer,
        number: m.number,
        regionCode: '420102',
      });
      expect(errors).toEqual([expect.objectContaining({ code: 'CONFLICT', field: 'number' })]);
    });
  });

  describe('who may read', () => {
    let holder: string;
    let certificateId: string;

    beforeAll(async () => {
      holder = uuidv7();
      const res = await h.gql(integrator, IMPORT, { input: input({ holderId: holder }) });
      certificateId = res.body.data.importCertificate.certificate.id;
    });

    const CERTIFICATE = `query ($id: ID!) { certificate(id: $id) { id } }`;

    it('a holder cannot read another holder’s certificates, archive or access log', async () => {
      const stranger = person(uuidv7());
      expect((await h.gql(stranger, CERTIFICATE, { id: certificateId })).body.data.certificate).toBeNull();
      const res = await h.gql(stranger, PERSON, { reps: [{ __typename: 'Person', id: holder }] });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data._entities[0]).toEqual({
        id: holder,
        certificates: [],
        archive: null,
        dataAccessLog: null,
      });
      // The holder does see them.
      const own = await h.gql(person(holder), PERSON, { reps: [{ __typename: 'Person', id: holder }] });
      expect(own.body.data._entities[0].certificates).toEqual([
        expect.objectContaining({ id: certificateId }),
      ]);
    });

    it('staff read within their region only, and every read shows in the holder’s log', async () => {
      expect((await h.gql(henanReader, CERTIFICATE, { id: certificateId })).body.data.certificate).toBeNull();
      expect((await h.gql(wuhanReader, CERTIFICATE, { id: certificateId })).body.data.certificate).toEqual({
        id: certificateId,
      });
      const staffView = await h.gql(wuhanReader, PERSON, { reps: [{ __typename: 'Person', id: holder }] });
      expect(staffView.body.data._entities[0].certificates).toEqual([
        expect.objectContaining({ id: certificateId }),
      ]);
      expect(staffView.body.data._entities[0].archive.edges).toHaveLength(1);
      expect(staffView.body.data._entities[0].dataAccessLog).toBeNull();

      const log = await h.gql(person(holder), PERSON, { reps: [{ __typename: 'Person', id: holder }] });
      const actions = log.body.data._entities[0].dataAccessLog.edges.map(
        (e: { node: { action: string; actorId: string; actorRegionCode: string | null } }) => e.node,
      );
      expect(actions).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            action: 'CERTIFICATES_VIEWED',
            actorId: wuhanReader.id,
            actorRegionCode: '420100',
          }),
          expect.objectContaining({ action: 'ARCHIVE_VIEWED', actorId: wuhanReader.id }),
          expect.objectContaining({ action: 'CERTIFICATE_IMPORTED', actorId: integrator.id }),
        ]),
      );
      expect(actions.filter((a: { actorId: string }) => a.actorId === henanReader.id)).toEqual([]);
    });

    it('staff search certificates inside their region, and not outside it', async () => {
      const SEARCH = `query ($regionCode: ID, $holderId: ID) {
        certificates(regionCode: $regionCode, holderId: $holderId) { edges { node { id regionCode } } }
      }`;
      const inside = await h.gql(wuhanReader, SEARCH, { holderId: holder });
      expect(inside.body.errors).toBeUndefined();
      expect(inside.body.data.certificates.edges).toEqual([
        { node: { id: certificateId, regionCode: '420102' } },
      ]);
      const henan = await h.gql(henanReader, SEARCH, { holderId: holder });
      expect(henan.body.data.certificates.edges).toEqual([]);
      const outside = await h.gql(henanReader, SEARCH, { regionCode: '420100' });
      expect(outside.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'regionCode' });
      const holderSearch = await h.gql(person(holder), SEARCH, {});
      expect(holderSearch.body.errors[0].extensions.code).toBe('FORBIDDEN');
    });
  });
});
