import { createLogger, ConfigError } from '@vtv/kit';
import type { ServiceDefinition } from './definition';
import { startService } from './start';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyServiceDefinition = ServiceDefinition<any, any>;

/**
 * Process entry for one service (call after startTelemetry). A bad configuration prints every problem
 * and exits 78 (EX_CONFIG) without a stack trace; SIGTERM drains and exits 0.
 */
export async function runMain(def: AnyServiceDefinition): Promise<void> {
  const logger = createLogger(def.name);
  try {
    const running = await startService(def, { logger });
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => void running.stop(signal).then(() => process.exit(0)));
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${def.name}: ${err.message}\n`);
      process.exit(78);
    }
    logger.fatal({ err }, 'failed to start');
    process.exit(1);
  }
}
