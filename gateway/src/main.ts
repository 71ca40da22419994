// First import: telemetry must hook http before anything loads it.
import './instrument';
import { ConfigError, createLogger, loadConfig } from '@vtv/kit';
import { gatewayConfig } from './config';
import { createGateway } from './app';

async function main(): Promise<void> {
  const logger = createLogger('gateway');
  try {
    const config = loadConfig(gatewayConfig);
    const gateway = await createGateway({ config, logger });
    const url = await gateway.listen();
    logger.info({ url }, 'gateway ready');
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => void gateway.stop().then(() => process.exit(0)));
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gateway: ${err.message}\n`);
      process.exit(78);
    }
    logger.fatal({ err }, 'failed to start');
    process.exit(1);
  }
}

void main();
