import { KafkaBus, SERVICES, allTopicSpecs } from '@vtv/events';
import { createLogger } from '@vtv/kit';
import { infraEnv, uniqueName } from './infra';

export interface KafkaNamespace {
  /** Pass as EVENTS_NAMESPACE (services) or `namespace` (KafkaBus). */
  namespace: string;
  brokers: string;
  /** Deletes the namespace's topics, the services' consumer groups and any `groups` a test added. */
  cleanup(groups?: string[]): Promise<void>;
}

/**
 * A private slice of the real broker for one test file: every registry topic created under a unique
 * prefix, deleted afterwards so partitions do not pile up on the shared test broker.
 */
export async function createKafkaNamespace(prefix = 'test'): Promise<KafkaNamespace> {
  const brokers = infraEnv().KAFKA_BROKERS;
  const namespace = uniqueName(prefix);
  const admin = new KafkaBus({
    brokers: brokers.split(','),
    clientId: 'test-admin',
    logger: createLogger('test', 'warn'),
    namespace,
  });
  try {
    await admin.ensureTopics(allTopicSpecs());
  } catch (err) {
    // A loaded broker can fail half-way: remove what was created rather than leak it.
    await admin.deleteNamespace().catch(() => undefined);
    await admin.close();
    throw err;
  }
  return {
    namespace,
    brokers,
    cleanup: async (groups: string[] = []) => {
      try {
        await admin.deleteNamespace([...SERVICES, ...groups]);
      } finally {
        await admin.close();
      }
    },
  };
}
