/** A real service process with a bad environment stops at once and names every bad variable. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

test('bad configuration is a clear startup error naming each variable, exit code 78', () => {
  const result = spawnSync(
    join(root, 'node_modules', '.bin', 'tsx'),
    [join(root, 'services', 'vouchers', 'src', 'main.ts')],
    {
      env: {
        PATH: process.env.PATH,
        PORT: 'eighty',
        KAFKA_BROKERS: 'no-port-here',
        INTERNAL_AUTH_SECRET: 'short',
      },
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  expect(result.status).toBe(78);
  expect(result.stderr).toContain('vouchers: Invalid configuration');
  expect(result.stderr).toMatch(/PORT:/);
  expect(result.stderr).toMatch(/DATABASE_URL: is required/);
  expect(result.stderr).toMatch(/KAFKA_BROKERS: must be a comma-separated list of host:port/);
  expect(result.stderr).toMatch(/INTERNAL_AUTH_SECRET: must be at least 32 characters/);
  expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
});
