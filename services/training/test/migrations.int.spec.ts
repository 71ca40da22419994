/**
 * The Operations migration on a database that already holds data from the first schema: rosters move from
 * the classes' array column into enrollment rows (roster, active), the counters follow, and the service
 * then runs on the migrated database.
 */
import { KitTables1732200000000, createDataSource, runMigrations, uuidv7 } from '@vtv/kit';
import { createTestDatabase, type TestDatabase } from '@vtv/testing';
import { Institutions1732200000100 } from '../src/data/migrations/1732200000100-Institutions';
import { migrations } from '../src/data/migrations';
import { creditCode } from './helpers';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('training_mig');
});

afterAll(async () => {
  await db?.drop();
});

it('moves existing rosters into enrollments and keeps the counts', async () => {
  const first = createDataSource({
    url: db.url,
    entities: [],
    migrations: [KitTables1732200000000, Institutions1732200000100],
  });
  await first.initialize();
  await runMigrations(first);
  const institutionId = uuidv7();
  const classId = uuidv7();
  const roster = [uuidv7(), uuidv7(), uuidv7()];
  await first.query(
    `INSERT INTO institutions (id, name, credit_code, region_code, address, latitude, longitude) VALUES ($1, '旧机构', $2, '420102', '地址', 30.6, 114.3)`,
    [institutionId, creditCode()],
  );
  await first.query(
    `INSERT INTO classes (id, institution_id, region_code, name, occupation, training_type, headcount, start_date, end_date, state, roster_person_ids)
     VALUES ($1, $2, '420102', '旧班', '电工', '岗前培训', 10, '2025-01-01', '2025-01-10', 'APPROVED', $3)`,
    [classId, institutionId, roster],
  );
  await first.destroy();

  const all = createDataSource({ url: db.url, entities: [], migrations });
  await all.initialize();
  try {
    expect(await runMigrations(all)).toEqual(['Operations1732200000200']);
    const enrollments = await all.query(
      `SELECT person_id, source, state FROM enrollments WHERE class_id = $1 ORDER BY person_id`,
      [classId],
    );
    expect(enrollments).toEqual(
      [...roster].sort().map((person_id) => ({ person_id, source: 'ROSTER', state: 'ACTIVE' })),
    );
    const [cls] = await all.query(
      `SELECT roster_size, enrolled_count, session_count FROM classes WHERE id = $1`,
      [classId],
    );
    expect(cls).toEqual({ roster_size: 3, enrolled_count: 3, session_count: 0 });
    const columns = await all.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'classes' AND column_name = 'roster_person_ids'`,
    );
    expect(columns).toEqual([]);
    // The audit log refuses edits.
    await all.query(
      `INSERT INTO audit_log (id, at, actor_kind, actor_id, action, subject_type, subject_id) VALUES ($1, now(), 'staff', 'x', 'test', 'Test', $1)`,
      [uuidv7()],
    );
    await expect(all.query(`UPDATE audit_log SET action = 'tampered'`)).rejects.toThrow(/append-only/);
    await expect(all.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
  } finally {
    await all.destroy();
  }
});
