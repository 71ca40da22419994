/**
 * The integrator's path end to end: scaffold a subgraph into a temporary copy of the repository,
 * run its generated test-worthy service, compose it with the platform's subgraphs and query its field
 * through the unchanged gateway.
 */
import request from 'supertest';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenIssuer, TokenVerifier, createLogger, generateSigningKey, loadConfig, uuidv7 } from '@vtv/kit';
import { startService, type AnyServiceDefinition, type RunningService } from '@vtv/runtime';
import { createTestDatabase, type TestDatabase } from '@vtv/testing';
import { compose } from '../../scripts/lib/schema-check';
import { scaffold } from '../../scripts/new-subgraph';
import { createGateway, type Gateway } from '../../gateway/src/app';
import { gatewayConfig } from '../../gateway/src/config';

const repo = join(__dirname, '..', '..');
const secret = 'scaffold-test-secret-0123456789abcdef';
let root: string;
let db: TestDatabase;
let service: RunningService | undefined;
let gateway: Gateway | undefined;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'vtv-scaffold-'));
  for (const path of ['schema', 'services', 'README.md'])
    cpSync(join(repo, path), join(root, path), {
      recursive: true,
      filter: (p) => !p.includes('node_modules'),
    });
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
});

afterAll(async () => {
  await gateway?.stop();
  await service?.stop();
  await db?.drop();
  rmSync(root, { recursive: true, force: true });
});

test('a scaffolded subgraph composes, starts and answers through the gateway', async () => {
  const result = scaffold({ name: 'hubei-reporting', dir: 'services', root });
  expect(result.files).toEqual(
    expect.arrayContaining([
      'services/hubei-reporting/src/schema.graphql',
      'services/hubei-reporting/test/service.int.spec.ts',
    ]),
  );
  const registry = JSON.parse(readFileSync(join(root, 'schema', 'subgraphs.json'), 'utf8')) as {
    subgraphs: { name: string; schema: string; url: string }[];
  };
  expect(registry.subgraphs.map((s) => s.name)).toContain('hubei-reporting');
  expect(readFileSync(join(root, 'README.md'), 'utf8')).toMatch(/\| hubei-reporting \| 4006 \|/);
  expect(() => scaffold({ name: 'hubei-reporting', dir: 'services', root })).toThrow('already registered');
  expect(() => scaffold({ name: 'Bad_Name', dir: 'services', root })).toThrow('not a valid name');

  // Start the generated service as generated.
  const { hubeiReporting } = (await import(
    join(root, 'services', 'hubei-reporting', 'src', 'service.ts')
  )) as { hubeiReporting: AnyServiceDefinition };
  db = await createTestDatabase('scaffold');
  service = await startService(hubeiReporting, {
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PORT: '0',
      DATABASE_URL: db.url,
      INTERNAL_AUTH_SECRET: secret,
    },
  });

  // Compose the candidate graph with the service's real address; the gateway's code is untouched.
  const { supergraph, errors } = compose(
    registry.subgraphs.map((s) => ({
      name: s.name,
      file: s.schema,
      url: s.name === 'hubei-reporting' ? service!.url : s.url,
      sdl: readFileSync(join(root, s.schema), 'utf8'),
    })),
  );
  expect(errors).toEqual([]);
  const supergraphPath = join(root, 'schema', 'candidate.graphql');
  writeFileSync(supergraphPath, supergraph!);
  const issuer = new TokenIssuer([await generateSigningKey()]);
  gateway = await createGateway({
    config: loadConfig(gatewayConfig, {
      NODE_ENV: 'test',
      PORT: '0',
      SUPERGRAPH_PATH: supergraphPath,
      INTERNAL_AUTH_SECRET: secret,
    }),
    logger: createLogger('gateway', 'warn'),
    verifier: new TokenVerifier({ jwks: issuer.jwks() }),
  });
  const token = await issuer.issue({
    kind: 'staff',
    id: uuidv7(),
    regionCode: '420000',
    permissions: ['hubei-reporting:write', 'hubei-reporting:read'],
  });
  const gql = (query: string, variables: Record<string, unknown> = {}) =>
    request(gateway!.app)
      .post('/graphql')
      .set('content-type', 'application/json')
      .set('authorization', `Bearer ${token}`)
      .send({ query, variables });

  const created = await gql(
    'mutation { createHubeiReportingItem(title: "月报", regionCode: "420100") { item { id } errors { code } } }',
  ).expect(200);
  expect(created.body.data.createHubeiReportingItem.errors).toEqual([]);
  const id = created.body.data.createHubeiReportingItem.item.id;
  const read = await gql('query($id: ID!) { hubeiReportingItem(id: $id) { title regionCode } }', {
    id,
  }).expect(200);
  expect(read.body.data.hubeiReportingItem).toEqual({ title: '月报', regionCode: '420100' });
});
