import { createTestDatabase, type TestDatabase } from '@vtv/testing';
import {
  createDataSource,
  DomainError,
  ErrorCode,
  KitTables1732200000000,
  requestHash,
  runMigrations,
  uuidv7,
  withIdempotency,
  type DataSource,
  type EntityManager,
} from '../src';

jest.setTimeout(30_000);

describe('withIdempotency on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('idem');
    ds = createDataSource({ url: db.url, entities: [], migrations: [KitTables1732200000000], poolSize: 20 });
    await ds.initialize();
    expect(await runMigrations(ds)).toEqual(['KitTables1732200000000']);
    // A second run (another replica starting) finds nothing to do.
    expect(await runMigrations(ds)).toEqual([]);
    await ds.query(
      `CREATE TABLE vouchers (id uuid PRIMARY KEY, person_id text NOT NULL, amount_fen integer NOT NULL)`,
    );
  });

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  /** The effect under test: issues one voucher and returns its id. */
  function issueVoucher(input: { personId: string; amountFen: number }, calls?: { n: number }) {
    return async (m: EntityManager) => {
      if (calls) calls.n += 1;
      const id = uuidv7();
      await m.query('INSERT INTO vouchers (id, person_id, amount_fen) VALUES ($1, $2, $3)', [
        id,
        input.personId,
        input.amountFen,
      ]);
      return { id };
    };
  }

  async function vouchersOf(personId: string): Promise<{ id: string }[]> {
    return ds.query('SELECT id FROM vouchers WHERE person_id = $1', [personId]);
  }

  async function storedKeys(
    scope: string,
    key: string,
  ): Promise<{ request_hash: string; response: unknown }[]> {
    return ds.query('SELECT request_hash, response FROM idempotency_keys WHERE scope = $1 AND key = $2', [
      scope,
      key,
    ]);
  }

  const key = () => `key-${uuidv7()}`;

  it('50 concurrent calls with one key run the work once and all see the same result', async () => {
    const personId = uuidv7();
    const input = { personId, amountFen: 80_000 };
    const req = { scope: 'issueVoucher:caller-1', key: key(), input };
    const calls = { n: 0 };

    const settled = await Promise.allSettled(
      Array.from({ length: 50 }, () => withIdempotency(ds, req, issueVoucher(input, calls))),
    );

    const rows = await vouchersOf(personId);
    expect(rows).toHaveLength(1);
    expect(calls.n).toBe(1);

    const successes = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    expect(successes.length).toBeGreaterThanOrEqual(1);
    for (const s of successes) expect(s).toEqual({ id: rows[0]!.id });
    // Only a bounded wait behind the first call may fail, and then as a retryable domain error.
    for (const f of failures) {
      expect(f).toBeInstanceOf(DomainError);
      expect(f).toMatchObject({ code: ErrorCode.IDEMPOTENCY_IN_PROGRESS, retryable: true });
    }

    const stored = await storedKeys(req.scope, req.key);
    expect(stored).toEqual([{ request_hash: requestHash(input), response: { value: { id: rows[0]!.id } } }]);

    // A later retry returns the stored result without running the work.
    const again = await withIdempotency(ds, req, issueVoucher(input, calls));
    expect(again).toEqual({ id: rows[0]!.id });
    expect(calls.n).toBe(1);
    expect(await vouchersOf(personId)).toHaveLength(1);
  });

  it('treats inputs with the same content in another key order as the same request', async () => {
    const personId = uuidv7();
    const req = { scope: 'issueVoucher:caller-1', key: key() };
    const first = await withIdempotency(
      ds,
      { ...req, input: { personId, amountFen: 1 } },
      issueVoucher({ personId, amountFen: 1 }),
    );
    const second = await withIdempotency(
      ds,
      { ...req, input: { amountFen: 1, personId, note: undefined } },
      issueVoucher({ personId, amountFen: 1 }),
    );
    expect(second).toEqual(first);
    expect(await vouchersOf(personId)).toHaveLength(1);
  });

  it('refuses the same key with a different input', async () => {
    const personId = uuidv7();
    const req = { scope: 'issueVoucher:caller-1', key: key() };
    await withIdempotency(
      ds,
      { ...req, input: { personId, amountFen: 100 } },
      issueVoucher({ personId, amountFen: 100 }),
    );

    const reused = withIdempotency(
      ds,
      { ...req, input: { personId, amountFen: 999 } },
      issueVoucher({ personId, amountFen: 999 }),
    );
    await expect(reused).rejects.toBeInstanceOf(DomainError);
    await expect(reused).rejects.toMatchObject({
      code: ErrorCode.IDEMPOTENCY_KEY_REUSED,
      field: 'idempotencyKey',
      retryable: false,
    });
    const rows: { amount_fen: number }[] = await ds.query(
      'SELECT amount_fen FROM vouchers WHERE person_id = $1',
      [personId],
    );
    expect(rows).toEqual([{ amount_fen: 100 }]);
  });

  it('keeps scopes apart: the same key in two scopes runs twice', async () => {
    const personId = uuidv7();
    const input = { personId, amountFen: 5 };
    const k = key();
    const a = await withIdempotency(
      ds,
      { scope: 'issueVoucher:caller-a', key: k, input },
      issueVoucher(input),
    );
    const b = await withIdempotency(
      ds,
      { scope: 'issueVoucher:caller-b', key: k, input },
      issueVoucher(input),
    );
    expect(a.id).not.toBe(b.id);
    expect(await vouchersOf(personId)).toHaveLength(2);
  });

  it.each([
    ['too short', 'x'],
    ['seven characters', 'abcdefg'],
    ['too long', 'k'.repeat(300)],
    ['129 characters', 'k'.repeat(129)],
    ['with spaces', 'my key 12345'],
    ['with a slash', 'abc/defgh'],
    ['empty', ''],
  ])('rejects an invalid key (%s) as BAD_USER_INPUT without running the work', async (_what, badKey) => {
    const calls = { n: 0 };
    const personId = uuidv7();
    const attempt = withIdempotency(
      ds,
      { scope: 'issueVoucher:caller-1', key: badKey, input: {} },
      issueVoucher({ personId, amountFen: 1 }, calls),
    );
    await expect(attempt).rejects.toBeInstanceOf(DomainError);
    await expect(attempt).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT, field: 'idempotencyKey' });
    expect(calls.n).toBe(0);
    expect(await storedKeys('issueVoucher:caller-1', badKey)).toEqual([]);
  });

  it.each([
    ['8 characters', 'abcdefgh'],
    ['128 characters', 'k'.repeat(128)],
    ['every allowed symbol', 'Az09_.:-'],
  ])('accepts a valid key (%s)', async (_what, goodKey) => {
    const personId = uuidv7();
    const input = { personId, amountFen: 2 };
    const scope = `valid-keys:${uuidv7()}`;
    const result = await withIdempotency(ds, { scope, key: goodKey, input }, issueVoucher(input));
    expect(await vouchersOf(personId)).toEqual([result]);
  });

  it('stores nothing when the work fails, so a retry with the same key runs', async () => {
    const personId = uuidv7();
    const input = { personId, amountFen: 300 };
    const req = { scope: 'issueVoucher:caller-1', key: key(), input };

    await expect(
      withIdempotency(ds, req, async (m) => {
        await issueVoucher(input)(m); // Written, then rolled back with the key.
        throw new DomainError(ErrorCode.INVALID_STATE, 'class plan not approved');
      }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE });
    expect(await vouchersOf(personId)).toEqual([]);
    expect(await storedKeys(req.scope, req.key)).toEqual([]);

    const calls = { n: 0 };
    const retried = await withIdempotency(ds, req, issueVoucher(input, calls));
    expect(calls.n).toBe(1);
    expect(await vouchersOf(personId)).toEqual([retried]);
    expect(await storedKeys(req.scope, req.key)).toHaveLength(1);
  });

  it('lets a waiting duplicate run the work when the first attempt rolls back', async () => {
    const personId = uuidv7();
    const input = { personId, amountFen: 7 };
    const req = { scope: 'issueVoucher:caller-1', key: key(), input };
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const firstEntered = new Promise<void>((resolve) => (entered = resolve));

    const first = withIdempotency(ds, req, async (m) => {
      await issueVoucher(input)(m);
      entered();
      await gate;
      throw new Error('first attempt failed');
    });
    await firstEntered;
    const calls = { n: 0 };
    const duplicate = withIdempotency(ds, req, issueVoucher(input, calls));
    await new Promise((resolve) => setTimeout(resolve, 200)); // The duplicate is now blocked on the key.
    expect(calls.n).toBe(0);
    release();

    await expect(first).rejects.toThrow('first attempt failed');
    const result = await duplicate;
    expect(calls.n).toBe(1);
    expect(await vouchersOf(personId)).toEqual([result]);
  });

  it('gives up waiting behind a duplicate that runs too long with IDEMPOTENCY_IN_PROGRESS', async () => {
    const personId = uuidv7();
    const input = { personId, amountFen: 9 };
    const req = { scope: 'issueVoucher:caller-1', key: key(), input };
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const firstEntered = new Promise<void>((resolve) => (entered = resolve));
    const first = withIdempotency(ds, req, async (m) => {
      const result = await issueVoucher(input)(m);
      entered();
      await gate;
      return result;
    });
    try {
      await firstEntered;
      const calls = { n: 0 };
      const started = Date.now();
      const duplicate = withIdempotency(ds, req, issueVoucher(input, calls));
      await expect(duplicate).rejects.toMatchObject({
        code: ErrorCode.IDEMPOTENCY_IN_PROGRESS,
        retryable: true,
      });
      // The lock wait is bounded (lock_timeout 5 s), not the pool's or the client's timeout.
      expect(Date.now() - started).toBeGreaterThanOrEqual(4_500);
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(calls.n).toBe(0);
    } finally {
      release();
    }
    const result = await first;
    expect(await vouchersOf(personId)).toEqual([result]);
    // Once the first call committed, a retry gets its result.
    expect(await withIdempotency(ds, req, issueVoucher(input))).toEqual(result);
  });
});
