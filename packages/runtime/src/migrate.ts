import { ConfigError, baseConfig, createDataSource, createLogger, loadConfig, runMigrations } from '@vtv/kit';
import type { AnyServiceDefinition } from './main';

const migrationConfig = baseConfig.pick({ DATABASE_URL: true, LOG_LEVEL: true });

/**
 * Migration entry for a service, run by the Helm pre-install/pre-upgrade hook Job with the service's
 * image. Applies pending migrations under the kit's advisory lock (safe beside replicas that migrate at
 * start) and resolves to an exit code: 0 when the schema is current, 78 (EX_CONFIG) when the
 * environment is invalid, 1 when a migration fails. Needs only DATABASE_URL (and LOG_LEVEL), so the
 * Job gets no other secret.
 */
export async function migrateMain(
  service: AnyServiceDefinition,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let config: ReturnType<typeof migrationConfig.parse>;
  try {
    config = loadConfig(migrationConfig, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${service.name} migrate: ${err.message}\n`);
    return 78;
  }
  const logger = createLogger(service.name, config.LOG_LEVEL);
  const ds = createDataSource({
    url: config.DATABASE_URL,
    entities: service.entities,
    migrations: service.migrations,
    // One connection holds the advisory lock while another applies the migrations.
    poolSize: 2,
    applicationName: `${service.name}-migrate`,
  });
  try {
    await ds.initialize();
    const applied = await runMigrations(ds, logger);
    logger.info({ applied }, 'schema is current');
    return 0;
  } catch (err) {
    logger.fatal({ err }, 'migration failed');
    return 1;
  } finally {
    if (ds.isInitialized) await ds.destroy();
  }
}
