/**
 * Shared pieces of the reliability tests that run a subgraph as a real child process (sigterm,
 * kafka-outage): starting it, waiting for its exit, reading its database, sending it signed GraphQL
 * over raw HTTP (so connection-level failures are seen as such), registering institutions as load, and
 * reading a topic straight from the broker.
 */
import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Client } from 'pg';
import { KafkaBus, type EventRecord } from '@vtv/events';
import { createLogger, signCaller, uuidv7, type Caller } from '@vtv/kit';
import { spawnTs, type ManagedProcess } from '@vtv/testing';
import { creditCodeCheckChar } from '../../../services/training/src/services/credit-code';

const ROOT = join(__dirname, '..', '..', '..');
const quiet = createLogger('reliability-test', 'silent');

/** services/<service>/src/main.ts as a child process; resolves once it listens, with its GraphQL URL. */
export async function startChildService(
  service: string,
  env: NodeJS.ProcessEnv,
): Promise<{ proc: ManagedProcess; url: string }> {
  const proc = spawnTs(join(ROOT, 'services', service, 'src', 'main.ts'), {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: '0',
    ...env,
  });
  try {
    await proc.waitFor(new RegExp(`${service} ready`), 90_000);
  } catch (err) {
    proc.kill('SIGKILL'); // never left running behind a failed start
    throw err;
  }
  const url = /"url":"(http:\/\/[^"]+)"/.exec(proc.output())![1]!;
  return { proc, url };
}

/** Resolves with the exit code, or with a message when the process is still running after `ms`. */
export async function exitWithin(proc: ManagedProcess, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      proc.exited,
      new Promise<string>((r) => (timer = setTimeout(() => r(`still running after ${ms} ms`), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** One query on its own connection (the service's pool is in another process). */
export async function sql<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

/**
 * A GraphQL POST carrying the gateway's signed caller header. Never rejects: the status is the HTTP
 * status, or the connection error's code (`SOCKET_HANG_UP` when the connection closed unanswered).
 */
export function postSigned(
  url: string,
  agent: Agent | false,
  caller: Caller,
  secret: string,
  body: unknown,
  timeoutMs?: number,
): Promise<{ status: number | string; body?: string }> {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          'apollo-require-preflight': 'true',
          'x-vtv-caller': signCaller(caller, secret),
        },
      },
      (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? 'SOCKET_HANG_UP' }));
      },
    );
    if (timeoutMs) req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ status: err.message === 'socket hang up' ? 'SOCKET_HANG_UP' : (err.code ?? err.message) }),
    );
    req.end(payload);
  });
}

let sequence = Math.floor(Math.random() * 1e8);
/** A valid, unused unified social credit code (GB 32100-2015) for a Wuhan institution. */
function creditCode(): string {
  sequence += 1;
  const first17 = `91420100${String(sequence).padStart(9, '0')}`;
  return first17 + creditCodeCheckChar(first17);
}

const REGISTER = `mutation ($input: RegisterInstitutionInput!) {
  registerInstitution(input: $input) { institution { id } errors { code message } } }`;

/** A bureau of 武汉市 allowed to register institutions: the caller of `registerInstitution`. */
export const bureau: Caller = {
  kind: 'staff',
  id: uuidv7(),
  regionCode: '420100',
  permissions: ['training:institution:write'],
};

export interface RegisterOutcome {
  creditCode: string;
  sentAt: number;
  doneAt: number;
  /** HTTP status, or the connection error's code. */
  result: number | string;
  body?: string;
  /** Answered 200 with the institution and no errors. */
  ok: boolean;
}

/** One `registerInstitution` (a write that commits a row and an outbox event) sent to training. */
export async function registerInstitution(
  url: string,
  agent: Agent | false,
  secret: string,
  timeoutMs?: number,
): Promise<RegisterOutcome> {
  const code = creditCode();
  const sentAt = Date.now();
  const input = {
    name: '武汉市江岸区职业培训学校',
    creditCode: code,
    regionCode: '420102',
    address: '江岸区解放大道1000号',
    latitude: 30.6,
    longitude: 114.3,
    mainOperatorPersonId: uuidv7(),
  };
  const res = await postSigned(
    url,
    agent,
    bureau,
    secret,
    { query: REGISTER, variables: { input } },
    timeoutMs,
  );
  let ok = false;
  if (res.status === 200) {
    const parsed = JSON.parse(res.body!) as {
      data?: { registerInstitution: { institution: { id: string } | null; errors: unknown[] } };
    };
    ok =
      !!parsed.data?.registerInstitution.institution && parsed.data.registerInstitution.errors.length === 0;
  }
  return { creditCode: code, sentAt, doneAt: Date.now(), result: res.status, body: res.body, ok };
}

/**
 * Everything that reaches `topic` of the namespace, read straight from `brokers` by a group of its own
 * (`probe`) from the beginning; `stop` leaves the group and closes the client.
 */
export async function probeTopic(
  brokers: string,
  namespace: string,
  topic: string,
): Promise<{ received: EventRecord[]; stop: () => Promise<void> }> {
  const bus = new KafkaBus({
    brokers: brokers.split(','),
    clientId: 'reliability-probe',
    logger: quiet,
    namespace,
  });
  const received: EventRecord[] = [];
  const sub = await bus.subscribe({
    group: 'probe',
    topics: [topic],
    fromBeginning: true,
    handler: async (e) => {
      received.push(e);
    },
  });
  await sub.ready();
  return {
    received,
    stop: async () => {
      await sub.stop();
      await bus.close();
    },
  };
}
