import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { uuidv7 } from '@vtv/kit';
import { OperatorMembershipChangedSchema, buildEvent, type EventRecord } from '../src';
import { kafkajsIdleTimerGuarded } from '../src/kafkajs-idle-timer';
import { kafkaHarness, sleep, testTopic, type BusHarness } from './helpers';

jest.setTimeout(30_000);

// The class whose prototype the guard changed; the spy counts how often connections check their queue.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as {
  prototype: { checkPendingRequests(): void };
};

const TOPIC = testTopic('test.idle.v1');
let harness: BusHarness;

function membershipChanged(): EventRecord {
  const institutionId = uuidv7();
  return buildEvent({
    schema: OperatorMembershipChangedSchema,
    topic: TOPIC.name,
    subject: institutionId,
    source: '/vtv/training',
    data: {
      institutionId,
      operatorPersonId: uuidv7(),
      enabled: true,
      main: true,
      changedAt: timestampFromDate(new Date()),
    },
  });
}

beforeAll(async () => {
  harness = await kafkaHarness([TOPIC]);
});
afterAll(() => harness.cleanup());

it('idle broker connections do not spin a 1 ms timer, and requests still flow after the idle spell', async () => {
  expect(kafkajsIdleTimerGuarded).toBe(true);
  // Admin and producer connections, each having answered requests.
  await harness.bus.ping();
  await harness.bus.publish([membershipChanged()]);
  await sleep(100);

  const spy = jest.spyOn(RequestQueue.prototype, 'checkPendingRequests');
  try {
    await sleep(1_000);
    // Unguarded, every connection used so far checks its empty queue about once per millisecond.
    const idleChecks = spy.mock.calls.length;
    expect(idleChecks).toBeLessThan(20);

    // After the idle spell requests are sent and answered as before.
    await harness.bus.ping();
    await harness.bus.publish([membershipChanged()]);
    expect(spy.mock.calls.length).toBeGreaterThan(idleChecks);
  } finally {
    spy.mockRestore();
  }
});
