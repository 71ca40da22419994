/**
 * The worked integrator example: a provincial subgraph composed with the platform's five subgraphs,
 * served by the platform's gateway without any change to its code, consuming training's events from
 * the real broker.
 */
import request from 'supertest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { CompletionRecordedSchema, KafkaBus, TOPICS, buildEvent } from '@vtv/events';
import { TokenIssuer, TokenVerifier, createLogger, generateSigningKey, loadConfig, uuidv7 } from '@vtv/kit';
import { startService, type RunningService } from '@vtv/runtime';
import {
  createKafkaNamespace,
  createTestDatabase,
  type KafkaNamespace,
  type TestDatabase,
} from '@vtv/testing';
import { compose } from '../../../scripts/lib/schema-check';
import { createGateway, type Gateway } from '../../../gateway/src/app';
import { gatewayConfig } from '../../../gateway/src/config';
import { hubeiCarers } from '../src/service';

const repo = join(__dirname, '..', '..', '..');
const secret = 'example-test-secret-0123456789abcdef';
let db: TestDatabase;
let kafka: KafkaNamespace;
let service: RunningService;
let gateway: Gateway;
let issuer: TokenIssuer;
let dir: string;

beforeAll(async () => {
  [db, kafka] = await Promise.all([createTestDatabase('carers'), createKafkaNamespace('carers')]);
  service = await startService(hubeiCarers, {
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PORT: '0',
      DATABASE_URL: db.url,
      INTERNAL_AUTH_SECRET: secret,
      KAFKA_BROKERS: kafka.brokers,
      EVENTS_NAMESPACE: kafka.namespace,
    },
  });

  const { subgraphs } = JSON.parse(readFileSync(join(repo, 'schema', 'subgraphs.json'), 'utf8')) as {
    subgraphs: { name: string; schema: string; url: string }[];
  };
  const { supergraph, errors } = compose([
    ...subgraphs.map((s) => ({
      name: s.name,
      url: s.url,
      file: s.schema,
      sdl: readFileSync(join(repo, s.schema), 'utf8'),
    })),
    {
      name: 'hubei-carers',
      url: service.url,
      file: 'examples/hubei-carers/src/schema.graphql',
      sdl: readFileSync(join(__dirname, '..', 'src', 'schema.graphql'), 'utf8'),
    },
  ]);
  expect(errors).toEqual([]);
  dir = mkdtempSync(join(tmpdir(), 'carers-'));
  writeFileSync(join(dir, 'supergraph.graphql'), supergraph!);
  issuer = new TokenIssuer([await generateSigningKey()]);
  gateway = await createGateway({
    config: loadConfig(gatewayConfig, {
      NODE_ENV: 'test',
      PORT: '0',
      SUPERGRAPH_PATH: join(dir, 'supergraph.graphql'),
      INTERNAL_AUTH_SECRET: secret,
    }),
    logger: createLogger('gateway', 'warn'),
    verifier: new TokenVerifier({ jwks: issuer.jwks() }),
  });
});

afterAll(async () => {
  await gateway?.stop();
  await service?.stop();
  await Promise.all([db?.drop(), kafka?.cleanup()]);
  rmSync(dir, { recursive: true, force: true });
});

const gql = (token: string, query: string, variables: Record<string, unknown> = {}) =>
  request(gateway.app)
    .post('/graphql')
    .set('content-type', 'application/json')
    .set('authorization', `Bearer ${token}`)
    .send({ query, variables });

async function eventually<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('the province designates a class; passing it certifies a registered carer (via Kafka)', async () => {
  const classId = uuidv7();
  const personId = uuidv7();
  const province = await issuer.issue({
    kind: 'staff',
    id: uuidv7(),
    regionCode: '420000',
    permissions: ['hubei-carers:write'],
  });
  const city = await issuer.issue({
    kind: 'staff',
    id: uuidv7(),
    regionCode: '420100',
    permissions: ['hubei-carers:write'],
  });
  const person = await issuer.issue({ kind: 'person', id: personId, permissions: [] });
  const designate =
    'mutation($c: ID!, $f: Int!) { designateCarerClass(classId: $c, careType: ELDERLY, topUpFen: $f) { carerProgramme { careType topUpFen } errors { code field } } }';

  expect((await gql(city, designate, { c: classId, f: 50000 })).body.data.designateCarerClass.errors).toEqual(
    [{ code: 'FORBIDDEN', field: null }],
  );
  expect(
    (await gql(province, designate, { c: classId, f: -1 })).body.data.designateCarerClass.errors,
  ).toEqual([{ code: 'BAD_USER_INPUT', field: 'topUpFen' }]);
  const ok = await gql(province, designate, { c: classId, f: 50000 }).expect(200);
  expect(ok.body.data.designateCarerClass).toEqual({
    carerProgramme: { careType: 'ELDERLY', topUpFen: 50000 },
    errors: [],
  });

  const reg = await gql(
    person,
    'mutation { registerAsCarer(careTypes: [ELDERLY, MEDICAL]) { carerRegistration { careTypes certifiedAt } errors { code } } }',
  ).expect(200);
  expect(reg.body.data.registerAsCarer.carerRegistration).toEqual({
    careTypes: ['ELDERLY', 'MEDICAL'],
    certifiedAt: null,
  });

  // training publishes the completion result; the example consumes it from its own group.
  const bus = new KafkaBus({
    brokers: kafka.brokers.split(','),
    clientId: 'test',
    logger: createLogger('test', 'warn'),
    namespace: kafka.namespace,
  });
  await bus.publish([
    buildEvent({
      schema: CompletionRecordedSchema,
      topic: TOPICS.trainingEnrollment.name,
      subject: classId,
      source: '/vtv/training',
      data: {
        enrollmentId: uuidv7(),
        classId,
        personId,
        institutionId: uuidv7(),
        regionCode: '420102',
        passed: true,
        attendanceRateBp: 9500,
        recordedAt: timestampFromDate(new Date()),
      },
    }),
  ]);
  await bus.close();

  const certified = await eventually(async () => {
    const res = await gql(person, '{ myCarerRegistration { certifiedAt } }');
    return res.body.data?.myCarerRegistration?.certifiedAt ?? undefined;
  });
  expect(new Date(certified).getTime()).toBeGreaterThan(0);

  // Another person sees no registration of theirs.
  const stranger = await issuer.issue({ kind: 'person', id: uuidv7(), permissions: [] });
  expect(
    (await gql(stranger, '{ myCarerRegistration { certifiedAt } }')).body.data.myCarerRegistration,
  ).toBeNull();
});
