import { infraEnv } from '@vtv/testing';
import { startStack, type Stack, type StackOptions } from '../../scripts/lib/stack';

/**
 * The whole platform in this process for an end-to-end test, on the infrastructure of scripts/infra.sh:
 * databases and topics under `namespace` (dropped by `stop`), random ports, warn-level logs. `options`
 * adds to or overrides these.
 */
export function startTestStack(namespace: string, options: Partial<StackOptions> = {}): Promise<Stack> {
  const infra = infraEnv();
  return startStack({
    databaseUrl: infra.DATABASE_URL,
    databasePrefix: `${namespace}_`,
    kafkaBrokers: infra.KAFKA_BROKERS,
    redisUrl: infra.REDIS_URL,
    eventsNamespace: namespace,
    gatewayPort: 0,
    servicePorts: 0,
    logLevel: 'warn',
    nodeEnv: 'test',
    disposable: true,
    ...options,
  });
}
