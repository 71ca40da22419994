/**
 * `npm run bench`: the platform's performance, measured side by side in one run against real PostgreSQL,
 * Redis and Kafka (`infraEnv()`), on a disposable platform (fresh databases, a private Kafka namespace).
 * Prints a table, writes `.bench/results.json` and regenerates `docs/performance.md`.
 *
 *   npm run bench                      # the full run (about 4–6 minutes on 2 cores)
 *   npm run bench -- --quick           # shorter windows (a smoke run; docs/performance.md is not rewritten)
 *   npm run bench -- --profile         # also --cpu-prof the gateway and vouchers (.bench/profiles)
 *   npm run bench -- --render          # rewrite docs/performance.md from .bench/results.json
 *   npm run bench -- --quick --only=reads,redemption   # just some phases (raw, redemption, flash, reads,
 *                                      # events), for iterating on one path; implies docs are not rewritten
 *
 * BENCH_SECONDS (measured window per phase, default 12), BENCH_CONCURRENCY (default 32),
 * BENCH_GATEWAY_ENV (settings for our gateway to try, e.g. `MAX_CONCURRENT_REQUESTS=64,TOKEN_CACHE_SIZE=0`;
 * they apply to both of our gateways).
 *
 * Redemption also runs through our gateway in cluster mode (GATEWAY_WORKERS=2, a second instance started
 * for that phase only), so single process and cluster appear side by side on the same machine and run.
 */
import { idNumberCheckChar, signCaller, uuidv7, type Caller } from '@vtv/kit';
import {
  InstitutionActivationChangedSchema,
  KafkaBus,
  OperatorMembershipChangedSchema,
  buildEvent,
} from '@vtv/events';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { createLogger } from '@vtv/kit';
import { infraEnv, uniqueName } from '@vtv/testing';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { closedLoop, poster, summarise, type LoadResult, type Sample } from './load';
import { OPS, opId, writeManifest, type OpName } from './operations';
import { ROOT, SECRET, rssMiB, startGateway, startPlatform, type Platform, type Proc } from './platform';
import { renderMarkdown, renderTable, type Results } from './report';
import { components, cpuMeter, type Component } from './cpu';
import { startPeerGateway } from './peer';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const PROFILE = args.has('--profile');
const PHASES = ['raw', 'redemption', 'flash', 'reads', 'events'] as const;
const ONLY = [...args]
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
for (const p of ONLY ?? [])
  if (!(PHASES as readonly string[]).includes(p))
    throw new Error(`--only: unknown phase "${p}" (phases: ${PHASES.join(', ')})`);
const runs = (phase: (typeof PHASES)[number]) => !ONLY || ONLY.includes(phase);
const MEASURE_S = Number(process.env.BENCH_SECONDS ?? (QUICK ? 4 : 12));
const WARMUP_S = QUICK ? 1 : 3;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const VOUCHERS_PER_TARGET = Number(process.env.BENCH_VOUCHERS ?? (QUICK ? 4_000 : 12_000));
const CLUSTER_WORKERS = 2;
/** Redemption targets, each with its own vouchers: direct, our gateway, its cluster mode, the peer. */
const REDEMPTION_TARGETS = 4;
const CLAIMERS = 5_000;
const FLASH_QUANTITY = 1_000;
const OPERATORS = 8;
const WALLET_PEOPLE = 20;
const POOL_SIZE = 10; // the vouchers subgraph's DATABASE_POOL_SIZE (its default), also the raw loop's
const OUT = join(ROOT, '.bench');
const YEAR = new Date().getFullYear();
/** Every process of the run (set once the platform is up), CPU-metered in the closed-loop phases. */
let metered: Component[] = [];

const log = (msg: string) =>
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

interface Target {
  name: string;
  url: string;
  kind: 'gateway' | 'direct' | 'peer';
}

interface Voucher {
  id: string;
  holder: string;
  token?: string;
  proof?: string;
}

/** A GraphQL call as the given target wants it: bearer token (gateways) or signed caller (subgraph). */
class Caller2 {
  constructor(
    private readonly http: ReturnType<typeof poster>,
    private readonly target: Target,
  ) {}

  async call(
    op: OpName,
    variables: Record<string, unknown>,
    who: { caller: Caller; token: string },
  ): Promise<{
    data?: Record<string, { errors?: { code: string }[] } & Record<string, unknown>>;
    error?: string;
  }> {
    const headers: Record<string, string> =
      this.target.kind === 'direct'
        ? { 'x-vtv-caller': signCaller(who.caller, SECRET) }
        : { authorization: `Bearer ${who.token}` };
    const body =
      this.target.kind === 'gateway'
        ? { documentId: `sha256:${opId(op)}`, variables }
        : { query: OPS[op], variables };
    const res = await this.http.post(this.target.url, body, headers);
    if (res.status !== 200) return { error: `HTTP ${res.status}: ${res.body.slice(0, 160)}` };
    const json = JSON.parse(res.body) as { data?: Record<string, never>; errors?: { message: string }[] };
    if (json.errors?.length) return { error: `graphql: ${json.errors[0]!.message}` };
    const payload = json.data ? Object.values(json.data)[0] : undefined;
    const errs = (payload as { errors?: { code: string; message: string }[] } | undefined)?.errors;
    if (errs?.length) return { error: `${errs[0]!.code}: ${errs[0]!.message}` };
    return { data: json.data };
  }

  /** A setup mutation sent straight to a subgraph (not registered, so never through the gateway). */
  async callRaw(query: string, variables: Record<string, unknown>, caller: Caller): Promise<unknown> {
    const res = await this.http.post(
      this.target.url,
      { query, variables },
      { 'x-vtv-caller': signCaller(caller, SECRET) },
    );
    return JSON.parse(res.body) as unknown;
  }
}

function idNumber(seq: number): string {
  const first17 = `420102${1990 + (seq % 20)}0101${String(seq % 1000).padStart(3, '0')}`;
  return first17 + idNumberCheckChar(first17);
}

async function main(): Promise<void> {
  if (args.has('--render')) {
    // Re-render docs/performance.md from the last results (after editing scripts/bench/analysis.md).
    const last = JSON.parse(readFileSync(join(OUT, 'results.json'), 'utf8')) as Results;
    writeDocs(last);
    process.stdout.write(`${renderTable(last)}\n`);
    return;
  }
  const infra = infraEnv();
  const id = uniqueName('bench');
  mkdirSync(OUT, { recursive: true });
  const manifest = join(OUT, 'operations.json');
  writeManifest(manifest);
  const profileEnv = PROFILE
    ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(OUT, 'profiles')}` }
    : undefined;

  log(`starting a disposable platform (${id}): five subgraphs and the gateway, each its own process`);
  const platform = await startPlatform({
    databaseUrl: infra.DATABASE_URL,
    redisUrl: infra.REDIS_URL,
    kafkaBrokers: infra.KAFKA_BROKERS,
    prefix: `${id}_`,
    namespace: id,
    vouchersEnv: { DATABASE_POOL_SIZE: String(POOL_SIZE), ...profileEnv },
  });
  const cleanup: (() => Promise<void>)[] = [() => platform.stop()];
  const results: Results = {
    startedAt: new Date().toISOString(),
    machine: machine(),
    settings: {
      measureS: MEASURE_S,
      warmupS: WARMUP_S,
      concurrency: CONCURRENCY,
      poolSize: POOL_SIZE,
      quick: QUICK,
    },
    redemption: [],
    reads: [],
    notes: [],
  };
  try {
    const gatewayOptions = {
      redisUrl: infra.REDIS_URL,
      manifests: [join(ROOT, 'schema', 'operations', 'manifest.json'), manifest],
      env: { ...profileEnv, ...gatewayEnvOverrides() },
    };
    const gateway = await startGateway(platform, gatewayOptions);
    platform.gateway = gateway;
    // Cluster mode, for the redemption phase only (stopped after it, so later phases see one gateway).
    let clustered: Proc | undefined;
    if (runs('redemption')) {
      clustered = await startGateway(platform, {
        ...gatewayOptions,
        env: { ...gatewayOptions.env, GATEWAY_WORKERS: String(CLUSTER_WORKERS) },
        name: `gateway (${CLUSTER_WORKERS} workers)`,
      });
      platform.extra.push(clustered);
    }
    let peer: Proc | undefined;
    try {
      peer = await startPeerGateway(platform);
      platform.extra.push(peer);
    } catch (err) {
      results.peer = { available: false, reason: (err as Error).message.split('\n')[0]!.slice(0, 400) };
      log(`peer gateway unavailable: ${results.peer.reason}`);
    }
    metered = components(
      [
        ...Object.values(platform.services),
        gateway,
        ...(clustered ? [clustered] : []),
        ...(peer ? [peer] : []),
      ].map((p) => ({
        name: p.name,
        pid: p.proc.child.pid!,
      })),
    );
    const world = await setUp(platform, infra.REDIS_URL);
    cleanup.unshift(() => world.vouchersDb.end());

    const targets: Target[] = [
      { name: 'vouchers subgraph (direct)', url: platform.services.vouchers!.url, kind: 'direct' },
      { name: 'our gateway', url: gateway.url, kind: 'gateway' },
      ...(clustered
        ? [{ name: `our gateway (${CLUSTER_WORKERS} workers)`, url: clustered.url, kind: 'gateway' as const }]
        : []),
      ...(peer ? [{ name: 'Hive Gateway (peer)', url: peer.url, kind: 'peer' as const }] : []),
    ];

    // 5. The physical limit first (cold tables for everybody): raw conditional UPDATE … RETURNING.
    if (runs('raw')) {
      log(`raw conditional UPDATE … RETURNING with ${POOL_SIZE} connections`);
      results.raw = await rawUpdateLimit(platform.dbUrl('vouchers'));
      log(`  ${results.raw.throughput}/s p50 ${results.raw.p50} ms`);
    }

    // 1, 2, 6. Redemption: dynamic QR + scan of distinct vouchers, per target.
    const redeemWindows: { target: string; from: Date; to: Date }[] = [];
    for (const target of runs('redemption') ? targets : []) {
      const pool = world.redemptionVouchers.splice(0, VOUCHERS_PER_TARGET);
      await mintCredentials(platform, pool);
      await settle(world);
      log(`redemption through ${target.name} (${pool.length} vouchers ready)`);
      const from = new Date();
      const r = await redemption(target, pool, world);
      redeemWindows.push({ target: target.name, from, to: new Date() });
      results.redemption.push(r);
      log(
        `  ${r.pairs.throughput}/s  p50 ${r.pairs.p50}  p95 ${r.pairs.p95}  p99 ${r.pairs.p99} ms  errors ${r.pairs.errors}`,
      );
      if (clustered && target.url === clustered.url) {
        const rss = rssMiB(clustered.proc.child.pid!);
        const note = `${clustered.name}: RSS ${rss.tree} MiB in all, largest process ${rss.server} MiB, after its redemption run`;
        results.notes.push(note);
        log(`  ${note}; stopping it`);
        clustered.proc.kill('SIGTERM');
        await clustered.proc.exited;
      }
    }

    // 3. Flash crowd: 5,000 concurrent claimers of a 1,000-voucher template, through our gateway.
    if (runs('flash')) {
      await settle(world);
      log(`flash crowd: ${CLAIMERS} concurrent claimers of ${FLASH_QUANTITY} vouchers`);
      results.flash = await flashCrowd(platform, gateway, world);
      log(
        `  sold out in ${results.flash.soldOutMs} ms; ${results.flash.vouchersInDatabase} vouchers; p99 ${results.flash.latency.p99} ms`,
      );
    }

    // 4. Read mix through our gateway (and the peer); the cluster instance was stopped after redemption.
    const readTargets = targets.filter((t) => t.kind !== 'direct' && t.url !== clustered?.url);
    for (const target of runs('reads') ? readTargets : []) {
      await settle(world);
      log(`read mix through ${target.name}`);
      results.reads.push(await readMix(target, world));
    }

    // 7. Event latency: vouchers' outbox (commit) → settlement's inbox (handled), over Kafka.
    if (runs('events')) {
      await settle(world);
      log('event latency under load and at a paced rate');
      results.events = await eventLatency(platform, world, redeemWindows);
    }

    // 8. Memory after the run.
    results.rss = [...Object.values(platform.services), gateway, ...(peer ? [peer] : [])].map((p) => ({
      process: p.name,
      ...rssMiB(p.proc.child.pid!),
    }));
    results.finishedAt = new Date().toISOString();
  } catch (err) {
    log(`failed: ${(err as Error).stack ?? String(err)}`);
    throw err;
  } finally {
    log('stopping the platform and dropping its databases and topics');
    for (const c of cleanup) await c().catch((err) => log(`cleanup failed: ${(err as Error).message}`));
  }

  writeFileSync(join(OUT, 'results.json'), JSON.stringify(results, null, 2));
  process.stdout.write(`\n${renderTable(results)}\n`);
  if (!QUICK && !ONLY) {
    writeDocs(results);
    log('wrote .bench/results.json and docs/performance.md');
  } else log('wrote .bench/results.json (quick or partial run: docs/performance.md left alone)');
}

/** BENCH_GATEWAY_ENV=NAME=value,NAME=value: our gateway's settings for an experiment. */
function gatewayEnvOverrides(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (process.env.BENCH_GATEWAY_ENV ?? '').split(',').filter(Boolean)) {
    const [name, ...value] = pair.split('=');
    if (!name || !/^[A-Z_]+$/.test(name) || !value.length)
      throw new Error(`BENCH_GATEWAY_ENV: expected NAME=value pairs, got "${pair}"`);
    out[name] = value.join('=');
  }
  return out;
}

/** docs/performance.md, formatted as the repository's Prettier check wants it. */
function writeDocs(r: Results): void {
  const path = join(ROOT, 'docs', 'performance.md');
  writeFileSync(path, renderMarkdown(r));
  spawnSync(join(ROOT, 'node_modules', '.bin', 'prettier'), ['--write', path], { stdio: 'ignore' });
}

function machine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

interface World {
  institutionId: string;
  operators: { caller: Caller; token: string }[];
  redemptionVouchers: Voucher[];
  flashTemplateId: string;
  claimers: { caller: Caller; token: string; proof?: string }[];
  walletPeople: { caller: Caller; token: string }[];
  statsStaff: { caller: Caller; token: string };
  vouchersDb: Pool;
}

const person = (id: string): Caller => ({ kind: 'person', id, permissions: [] });

async function setUp(platform: Platform, _redisUrl: string): Promise<World> {
  log('setting up: institution and operators (training events), templates, vouchers, people');
  const direct = poster(16);
  const vouchers = { name: 'vouchers', url: platform.services.vouchers!.url, kind: 'direct' as const };
  const identity = { name: 'identity', url: platform.services.identity!.url, kind: 'direct' as const };
  const db = new Pool({ connectionString: platform.dbUrl('vouchers'), max: 4 });
  db.on('error', () => undefined); // idle connections are terminated when the databases are dropped
  const issuer = platform.issuer;
  const staffCaller: Caller = {
    kind: 'staff',
    id: uuidv7(),
    regionCode: '420100',
    permissions: ['vouchers:issue', 'vouchers:read', 'vouchers:statistics', 'person:card:issue'],
  };
  const staffWho = {
    caller: staffCaller,
    token: await issuer.issue({ ...staffCaller, id: staffCaller.id! }),
  };

  // Training's facts, as training publishes them: an active institution in 江岸区 and its operators.
  const institutionId = uuidv7();
  const operatorIds = Array.from({ length: OPERATORS }, () => uuidv7());
  const bus = new KafkaBus({
    brokers: infraEnv().KAFKA_BROKERS.split(','),
    clientId: 'bench-training',
    logger: createLogger('bench', 'warn'),
    namespace: platform.namespace,
  });
  const at = timestampFromDate(new Date());
  await bus.publish([
    buildEvent({
      schema: InstitutionActivationChangedSchema,
      topic: 'training.institution.v1',
      subject: institutionId,
      source: '/vtv/training',
      data: { institutionId, regionCode: '420102', active: true, changedAt: at },
    }),
    ...operatorIds.map((operatorPersonId) =>
      buildEvent({
        schema: OperatorMembershipChangedSchema,
        topic: 'training.institution.v1',
        subject: institutionId,
        source: '/vtv/training',
        data: { institutionId, operatorPersonId, enabled: true, main: false, changedAt: at },
      }),
    ),
  ]);
  await bus.close();

  // Templates: a large one to seed redemption vouchers from, and the flash-crowd one.
  const createTemplate = async (name: string, quantity: number) => {
    const r = await new Caller2(direct, vouchers).callRaw(
      `mutation($input: CreateVoucherTemplateInput!) { createVoucherTemplate(input: $input) { template { id } errors { code message } } }`,
      {
        input: {
          name,
          trainingType: '岗位技能提升培训',
          faceValueFen: 120_000,
          quantity,
          claimEndsAt: new Date(Date.now() + 2 * 3600_000).toISOString(),
          validityType: 'DAYS_AFTER_CLAIM',
          validDays: 30,
        },
      },
      staffWho.caller,
    );
    const t = (
      r as { data: { createVoucherTemplate: { template: { id: string } | null; errors: unknown[] } } }
    ).data.createVoucherTemplate;
    if (!t.template) throw new Error(`createVoucherTemplate failed: ${JSON.stringify(t.errors)}`);
    return t.template.id;
  };
  const seedTemplateId = await createTemplate('基准测试券（核销）', 1_000_000);
  const flashTemplateId = await createTemplate('基准测试券（抢券）', FLASH_QUANTITY);

  // One real claim on the seed template, then clone it for every redemption voucher (bulk SQL is the
  // only way to have tens of thousands of distinct vouchers ready in seconds).
  const seedHolder = uuidv7();
  await db.query(`INSERT INTO people (person_id, region_code, birth_year) VALUES ($1, '420102', 1990)`, [
    seedHolder,
  ]);
  await waitFor(async () => {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM operators WHERE enabled`);
    return rows[0].n >= OPERATORS;
  }, 'operator projection');
  const claimed = await new Caller2(direct, vouchers).call(
    'claim',
    {
      templateId: seedTemplateId,
      proof: await issuer.issueProof({ personId: seedHolder, purpose: 'CLAIM_VOUCHER', method: 'PIN' }),
    },
    { caller: person(seedHolder), token: '' },
  );
  if (claimed.error) throw new Error(`seed claim failed: ${claimed.error}`);
  const seedId = (claimed.data!.claimVoucher as unknown as { voucher: { id: string } }).voucher.id;

  const total = VOUCHERS_PER_TARGET * REDEMPTION_TARGETS + WALLET_PEOPLE * 3 + 400;
  const ids = Array.from({ length: total }, () => uuidv7());
  const holders = Array.from({ length: total }, () => uuidv7());
  for (let i = 0; i < total; i += 5_000) {
    await db.query(
      `INSERT INTO vouchers
         SELECT (jsonb_populate_record(NULL::vouchers,
                   to_jsonb(v) || jsonb_build_object('id', x.id, 'holder_person_id', x.holder, 'code_digest', NULL))).*
           FROM vouchers v, unnest($2::uuid[], $3::uuid[]) AS x(id, holder)
          WHERE v.id = $1`,
      [seedId, ids.slice(i, i + 5_000), holders.slice(i, i + 5_000)],
    );
  }
  const redemptionVouchers = ids.map((vid, i) => ({ id: vid, holder: holders[i]! }));

  // Wallet readers: real e-SSCs issued by identity (CardIssued reaches vouchers over Kafka), each
  // holding three vouchers.
  const walletPeople: World['walletPeople'] = [];
  for (let i = 0; i < WALLET_PEOPLE; i++) {
    const r = await new Caller2(direct, identity).call(
      'issueCard',
      {
        input: {
          name: `基准${'甲乙丙丁戊己庚辛壬癸'[i % 10]}${'子丑寅卯辰巳午未申酉戌亥'[Math.floor(i / 10) % 12]}`,
          idNumber: idNumber(i),
          phone: `138${String(10_000_000 + i).slice(-8)}`,
          regionCode: '420102',
        },
      },
      staffWho,
    );
    if (r.error) throw new Error(`issueCard failed: ${r.error}`);
    const pid = (r.data!.issueCard as unknown as { person: { id: string } }).person.id;
    const mine = redemptionVouchers.splice(0, 1).map((v) => v.id); // one claim per template and person
    await db.query(`UPDATE vouchers SET holder_person_id = $1 WHERE id = ANY($2::uuid[])`, [pid, mine]);
    walletPeople.push({ caller: person(pid), token: await issuer.issue({ ...person(pid), id: pid }) });
  }

  // Flash-crowd claimers: people with an e-SSC in 江岸区 (the projection CardIssued fills), tokens, proofs.
  const claimerIds = Array.from({ length: CLAIMERS }, () => uuidv7());
  await db.query(
    `INSERT INTO people (person_id, region_code, birth_year) SELECT unnest($1::uuid[]), '420102', 1990`,
    [claimerIds],
  );
  const claimers = await Promise.all(
    claimerIds.map(async (pid) => ({
      caller: person(pid),
      token: await issuer.issue({ ...person(pid), id: pid }),
    })),
  );
  const operators = await Promise.all(
    operatorIds.map(async (oid) => ({
      caller: person(oid),
      token: await issuer.issue({ ...person(oid), id: oid }),
    })),
  );
  const statsCaller: Caller = {
    kind: 'staff',
    id: uuidv7(),
    regionCode: '420000',
    permissions: ['vouchers:statistics'],
  };
  const statsStaff = {
    caller: statsCaller,
    token: await issuer.issue({ ...statsCaller, id: statsCaller.id! }),
  };
  direct.close();
  log(
    `  ${redemptionVouchers.length} redemption vouchers, ${CLAIMERS} claimers, ${WALLET_PEOPLE} wallets ready`,
  );
  return {
    institutionId,
    operators,
    redemptionVouchers,
    flashTemplateId,
    claimers,
    walletPeople,
    statsStaff,
    vouchersDb: db,
  };
}

/**
 * Between phases: the previous phase's tail (outbox relay, consumers, Kafka) must not bill the next one.
 * Waits until vouchers' outbox is drained, then five quiet seconds.
 */
async function settle(world: World): Promise<void> {
  await waitFor(
    async () => {
      const { rows } = await world.vouchersDb.query(
        `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`,
      );
      return rows[0].n === 0;
    },
    'the vouchers outbox to drain',
    120_000,
  );
  await new Promise((r) => setTimeout(r, 5_000));
}

async function waitFor(probe: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Tokens and USE_VOUCHER proofs for a pool of vouchers, minted just before its phase (proofs live 15 min). */
async function mintCredentials(platform: Platform, pool: Voucher[]): Promise<void> {
  for (let i = 0; i < pool.length; i += 500) {
    await Promise.all(
      pool.slice(i, i + 500).map(async (v) => {
        v.token = await platform.issuer.issue({ ...person(v.holder), id: v.holder });
        v.proof = await platform.issuer.issueProof(
          { personId: v.holder, purpose: 'USE_VOUCHER', subject: v.id, method: 'PIN' },
          900,
        );
      }),
    );
  }
}

export interface RedemptionResult {
  target: string;
  /** present + redeem, one voucher: the unit SREs count. */
  pairs: LoadResult;
  present: LoadResult;
  redeem: LoadResult;
}

async function redemption(target: Target, pool: Voucher[], world: World): Promise<RedemptionResult> {
  const http = poster(CONCURRENCY);
  const client = new Caller2(http, target);
  const present: Sample[] = [];
  const redeem: Sample[] = [];
  let next = 0;
  let measuring = false;
  const t0 = performance.now();
  setTimeout(() => (measuring = true), WARMUP_S * 1000);
  const pairs = await closedLoop({
    name: target.name,
    concurrency: CONCURRENCY,
    warmupS: WARMUP_S,
    measureS: MEASURE_S,
    cpu: metered,
    iteration: async (w) => {
      const v = pool[next++];
      if (!v) return 'done';
      const holder = { caller: person(v.holder), token: v.token! };
      const s1 = performance.now();
      const p = await client.call('present', { voucherId: v.id, proof: v.proof }, holder);
      const s2 = performance.now();
      if (measuring) present.push({ ms: s2 - s1, ok: !p.error });
      if (p.error) return `present: ${p.error}`;
      const token = (p.data!.presentVoucher as unknown as { token: string }).token;
      const op = world.operators[w % world.operators.length]!;
      const r = await client.call('redeem', { input: { token, institutionId: world.institutionId } }, op);
      if (measuring) redeem.push({ ms: performance.now() - s2, ok: !r.error });
      return r.error ? `redeem: ${r.error}` : true;
    },
  });
  void t0;
  http.close();
  return {
    target: target.name,
    pairs,
    present: summarise('presentVoucher', CONCURRENCY, pairs.seconds, present),
    redeem: summarise('redeemVoucher', CONCURRENCY, pairs.seconds, redeem),
  };
}

export interface FlashResult {
  claimers: number;
  quantity: number;
  succeeded: number;
  soldOut: number;
  otherErrors: number;
  errorSamples: string[];
  soldOutMs: number;
  allAnsweredMs: number;
  throughput: number;
  latency: LoadResult;
  vouchersInDatabase: number;
  templateClaimed: number;
}

async function flashCrowd(platform: Platform, gateway: Proc, world: World): Promise<FlashResult> {
  await Promise.all(
    world.claimers.map(async (c) => {
      c.proof = await platform.issuer.issueProof(
        { personId: c.caller.id!, purpose: 'CLAIM_VOUCHER', method: 'PIN' },
        900,
      );
    }),
  );
  const http = poster(CLAIMERS);
  const client = new Caller2(http, { name: 'gateway', url: gateway.url, kind: 'gateway' });
  const samples: Sample[] = [];
  const errorSamples: string[] = [];
  let succeeded = 0;
  let soldOut = 0;
  let other = 0;
  let lastSuccess = 0;
  const successes: number[] = [];
  const meter = cpuMeter(metered);
  const t0 = performance.now();
  await Promise.all(
    world.claimers.map(async (c) => {
      const s = performance.now();
      let r: Awaited<ReturnType<Caller2['call']>>;
      try {
        r = await client.call('claim', { templateId: world.flashTemplateId, proof: c.proof }, c);
      } catch (err) {
        r = { error: (err as Error).message };
      }
      const e = performance.now();
      samples.push({ ms: e - s, ok: true });
      if (!r.error) {
        succeeded++;
        successes.push(e - t0);
        lastSuccess = Math.max(lastSuccess, e - t0);
      } else if (r.error.startsWith('SOLD_OUT')) soldOut++;
      else {
        other++;
        if (errorSamples.length < 5) errorSamples.push(r.error.slice(0, 200));
      }
    }),
  );
  const all = performance.now() - t0;
  const cpu = meter.stop(CLAIMERS);
  http.close();
  successes.sort((a, b) => a - b);
  const at = (n: number) => Math.round(successes[Math.min(successes.length, n) - 1] ?? 0);
  log(
    `  claims answered by: 1st ${at(1)} ms, 100th ${at(100)} ms, 500th ${at(500)} ms, ${successes.length}th ${at(successes.length)} ms`,
  );
  const { rows } = await world.vouchersDb.query(
    `SELECT (SELECT count(*)::int FROM vouchers WHERE template_id = $1) AS n,
            (SELECT claimed FROM voucher_templates WHERE id = $1) AS claimed`,
    [world.flashTemplateId],
  );
  return {
    claimers: CLAIMERS,
    quantity: FLASH_QUANTITY,
    succeeded,
    soldOut,
    otherErrors: other,
    errorSamples,
    soldOutMs: Math.round(lastSuccess),
    allAnsweredMs: Math.round(all),
    throughput: Math.round((CLAIMERS / all) * 1000),
    latency: summarise('claimVoucher (all answers)', CLAIMERS, all / 1000, samples, { cpu }),
    vouchersInDatabase: rows[0].n,
    templateClaimed: rows[0].claimed,
  };
}

export interface ReadMixResult {
  target: string;
  all: LoadResult;
  byOperation: LoadResult[];
}

async function readMix(target: Target, world: World): Promise<ReadMixResult> {
  const http = poster(CONCURRENCY);
  const client = new Caller2(http, target);
  const per: Record<string, Sample[]> = { wallet: [], catalogue: [], statistics: [] };
  let i = 0;
  let measuring = false;
  setTimeout(() => (measuring = true), WARMUP_S * 1000);
  const before = target.kind === 'gateway' ? await subgraphFetches(target.url) : undefined;
  const all = await closedLoop({
    name: target.name,
    concurrency: CONCURRENCY,
    warmupS: WARMUP_S,
    cpu: metered,
    measureS: Math.max(3, Math.round(MEASURE_S / 2)),
    iteration: async () => {
      const n = i++;
      // Wallets dominate (labourers), then course search, then a bureau's statistics.
      const kind = n % 10 < 6 ? 'wallet' : n % 10 < 9 ? 'catalogue' : 'statistics';
      const s = performance.now();
      let r: Awaited<ReturnType<Caller2['call']>>;
      if (kind === 'wallet') {
        const who = world.walletPeople[n % world.walletPeople.length]!;
        r = await client.call('wallet', {}, who);
        const me = r.data?.me as unknown as { id?: string; voucherWallet?: unknown } | undefined;
        // A wallet is only right if it is the caller's own: a gateway sharing fetches across callers
        // would answer fast and wrong.
        if (!r.error && !me?.voucherWallet) r = { error: 'wallet missing' };
        else if (!r.error && me?.id !== who.caller.id) r = { error: 'another person’s wallet' };
      } else if (kind === 'catalogue') {
        r = await client.call('catalogue', { filter: { regionCode: '420100' } }, world.walletPeople[0]!);
      } else {
        r = await client.call('statistics', { regionCode: '420000', year: YEAR }, world.statsStaff);
      }
      if (measuring) per[kind]!.push({ ms: performance.now() - s, ok: !r.error });
      return r.error ?? true;
    },
  });
  http.close();
  if (before) {
    const after = await subgraphFetches(target.url);
    log(
      `  our gateway: ${after.sent - before.sent} subgraph fetches sent, ${after.shared - before.shared} reads shared an identical fetch in flight`,
    );
  }
  return {
    target: target.name,
    all,
    byOperation: Object.entries(per).map(([k, s]) => summarise(k, CONCURRENCY, all.seconds, s)),
  };
}

export interface EventLatencyResult {
  path: string;
  underLoad: { events: number; p50: number; p99: number; max: number };
  paced: { events: number; ratePerS: number; p50: number; p99: number; max: number };
}

async function eventLatency(
  platform: Platform,
  world: World,
  windows: { target: string; from: Date; to: Date }[],
): Promise<EventLatencyResult> {
  // A paced run: 100 redemptions at ~20/s through the subgraph, after the load.
  const pacedFrom = new Date();
  const pool = world.redemptionVouchers.splice(0, 100);
  await mintCredentials(platform, pool);
  const http = poster(4);
  const client = new Caller2(http, {
    name: 'vouchers',
    url: platform.services.vouchers!.url,
    kind: 'direct',
  });
  for (const v of pool) {
    const p = await client.call(
      'present',
      { voucherId: v.id, proof: v.proof },
      { caller: person(v.holder), token: '' },
    );
    if (!p.error) {
      const token = (p.data!.presentVoucher as unknown as { token: string }).token;
      await client.call(
        'redeem',
        { input: { token, institutionId: world.institutionId } },
        world.operators[0]!,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  http.close();
  await new Promise((r) => setTimeout(r, 3_000)); // let the last events arrive
  const pacedTo = new Date();

  const settlement = new Client({ connectionString: platform.dbUrl('settlement') });
  await settlement.connect();
  const outbox = await world.vouchersDb.query<{ id: string; created_at: Date }>(
    `SELECT id::text, created_at FROM outbox WHERE type LIKE '%VoucherStateChanged'`,
  );
  const inbox = await settlement.query<{ event_id: string; handled_at: Date }>(
    `SELECT event_id, handled_at FROM inbox WHERE topic LIKE '%vouchers.voucher.v1'`,
  );
  await settlement.end();
  const handled = new Map(inbox.rows.map((r) => [r.event_id, r.handled_at.getTime()]));
  const lat = (from: Date, to: Date) => {
    const ms: number[] = [];
    for (const r of outbox.rows) {
      const t = r.created_at.getTime();
      const h = handled.get(r.id);
      if (h !== undefined && t >= from.getTime() && t <= to.getTime()) ms.push(h - t);
    }
    ms.sort((a, b) => a - b);
    const s = summarise(
      'events',
      1,
      1,
      ms.map((m) => ({ ms: m, ok: true })),
    );
    return { events: ms.length, p50: s.p50, p99: s.p99, max: s.max };
  };
  const gw = windows.find((w) => w.target === 'our gateway') ?? windows[0];
  return {
    path: 'vouchers outbox (VoucherStateChanged, redemption transaction) → Kafka → settlement inbox row',
    underLoad: gw ? lat(gw.from, gw.to) : { events: 0, p50: 0, p99: 0, max: 0 },
    paced: { ...lat(pacedFrom, pacedTo), ratePerS: 20 },
  };
}

/** Our gateway's subgraph fetch counters (its Prometheus /metrics). */
async function subgraphFetches(graphqlUrl: string): Promise<{ sent: number; shared: number }> {
  const text = await (await fetch(new URL('/metrics', graphqlUrl))).text();
  const sum = (name: string) =>
    [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
  const shared = sum('subgraph_requests_deduplicated_total');
  return { sent: sum('subgraph_requests_total') - shared, shared };
}

/** The same PostgreSQL, the same connection count: a single-row conditional UPDATE … RETURNING loop. */
async function rawUpdateLimit(url: string): Promise<LoadResult> {
  const setup = new Client({ connectionString: url });
  await setup.connect();
  const rows = 400_000;
  await setup.query(
    `CREATE TABLE bench_raw (id bigint PRIMARY KEY, state text NOT NULL, used_at timestamptz)`,
  );
  await setup.query(`INSERT INTO bench_raw SELECT g, 'HELD', NULL FROM generate_series(1, $1) g`, [rows]);
  await setup.query('VACUUM ANALYZE bench_raw');
  const clients = await Promise.all(
    Array.from({ length: POOL_SIZE }, async () => {
      const c = new Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  let next = 1;
  const r = await closedLoop({
    name: `raw UPDATE … RETURNING (${POOL_SIZE} connections)`,
    concurrency: POOL_SIZE,
    warmupS: 1,
    measureS: Math.max(3, Math.round(MEASURE_S / 2)),
    iteration: async (w) => {
      const id = next++;
      if (id > rows) return 'done';
      const res = await clients[w]!.query({
        name: 'redeem',
        text: `UPDATE bench_raw SET state = 'USED', used_at = now() WHERE id = $1 AND state = 'HELD' RETURNING id`,
        values: [id],
      });
      return res.rowCount === 1;
    },
  });
  await Promise.all(clients.map((c) => c.end()));
  await setup.query('DROP TABLE bench_raw');
  await setup.end();
  return r;
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
