/**
 * The whole lifecycle of a voucher through the gateway against real PostgreSQL, Kafka and Redis, using
 * only the named operations of schema/operations: the same steps `npm run smoke` runs
 * (scripts/lib/lifecycle.ts). SMS go to a local HTTP gateway started here.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { uniqueName } from '@vtv/testing';
import type { Stack } from '../scripts/lib/stack';
import { startTestStack } from './support/stack';
import { LIFECYCLE, GraphClient, type LifecycleState } from '../scripts/lib/lifecycle';
import { syntheticIdNumber } from '../scripts/lib/synthetic';

jest.setTimeout(180_000);

const namespace = uniqueName('lifecycle');
const adminIdNumber = syntheticIdNumber('420102');
const sms: string[] = [];
let smsServer: Server;
let stack: Stack;
const state = {} as LifecycleState;

beforeAll(async () => {
  smsServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        sms.push((JSON.parse(body) as { recipient: { personId: string } }).recipient.personId);
      } catch {
        // not ours
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ACCEPTED"}');
    });
  });
  await new Promise<void>((r) => smsServer.listen(0, '127.0.0.1', r));
  const smsUrl = `http://127.0.0.1:${(smsServer.address() as AddressInfo).port}/sms`;
  stack = await startTestStack(namespace, {
    // The run signs in, verifies PINs and scans codes some twenty times from 127.0.0.1, and the counters
    // live in the Redis every e2e suite shares: throttling has its own tests (gateway), not this one.
    gatewayEnv: { RATE_LIMIT_GUARDED_PER_ADDRESS: '1000/60s', RATE_LIMIT_GUARDED: '1000/60s' },
    serviceEnv: {
      identity: {
        BOOTSTRAP_ADMIN_ID_NUMBER: adminIdNumber,
        BOOTSTRAP_ADMIN_NAME: '湖北省管理员',
        BOOTSTRAP_ADMIN_REGION_CODE: '420000',
      },
      careers: {
        SMS_PROVIDER_URL: smsUrl,
        SMS_API_KEY: 'lifecycle-test-key',
        SMS_QUIET_HOURS: 'none',
        SMS_POLL_MS: '200',
      },
    },
  });
  Object.assign(state, {
    g: new GraphClient(stack.gatewayUrl),
    o: {
      gatewayUrl: stack.gatewayUrl,
      adminIdNumber,
      smsRecipients: () => sms,
      sessionSeconds: 15,
      eventTimeoutMs: 30_000,
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  await new Promise((r) => smsServer?.close(r));
});

// One test per step, in order; a failed step fails the ones after it.
let failed: string | undefined;
for (const step of LIFECYCLE) {
  test(step.name, async () => {
    if (failed) throw new Error(`skipped: an earlier step failed (${failed})`);
    try {
      await step.run(state);
    } catch (err) {
      failed = step.name;
      throw err;
    }
  });
}
