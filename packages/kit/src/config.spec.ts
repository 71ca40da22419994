import { ConfigError, baseConfig, loadConfig } from './config';

const good = { DATABASE_URL: 'postgres://u:p@localhost:5432/db', INTERNAL_AUTH_SECRET: 'x'.repeat(32) };

describe('loadConfig', () => {
  it('parses and applies defaults', () => {
    const c = loadConfig(baseConfig, good);
    expect(c).toMatchObject({ PORT: 4000, NODE_ENV: 'development', DATABASE_POOL_SIZE: 10 });
  });

  it('lists every bad variable at once, by name', () => {
    let error: unknown;
    try {
      loadConfig(baseConfig, { PORT: 'eighty', DATABASE_URL: 'mysql://x', KAFKA_BROKERS: 'localhost' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/PORT:/);
    expect(message).toMatch(/DATABASE_URL: must be a URL with scheme postgres:/);
    expect(message).toMatch(/KAFKA_BROKERS: must be a comma-separated list of host:port/);
    expect(message).toMatch(/INTERNAL_AUTH_SECRET: is required/);
    expect((error as ConfigError).problems).toHaveLength(4);
  });
});
