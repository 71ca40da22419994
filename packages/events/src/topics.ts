import type { DescMessage } from '@bufbuild/protobuf';
import { CardIssuedSchema } from './gen/vtv/identity/v1/person_pb';
import { ClassPlanApprovedSchema } from './gen/vtv/training/v1/class_plan_pb';

export interface TopicSpec {
  name: string;
  description: string;
  /** What the Kafka key holds. */
  key: string;
  partitions: number;
  retentionMs: number;
  cleanupPolicy: 'delete' | 'compact';
  producer: string;
  consumers: string[];
  events: DescMessage[];
}

const DAY = 24 * 60 * 60 * 1000;

/**
 * The one registry of topics: topic creation, documentation and consumers all read it.
 * Names follow <producing service>.<aggregate>.v<major>.
 */
export const TOPICS = {
  identityPerson: {
    name: 'identity.person.v1',
    description: 'Facts about people and their e-SSC (电子社保卡). No names, ID numbers or phones.',
    key: 'person id',
    partitions: 6,
    retentionMs: 30 * DAY,
    cleanupPolicy: 'delete',
    producer: 'identity',
    consumers: [],
    events: [CardIssuedSchema],
  },
  trainingClass: {
    name: 'training.class.v1',
    description: 'Class plans (开班方案): approval and roster changes.',
    key: 'class id',
    partitions: 6,
    retentionMs: 30 * DAY,
    cleanupPolicy: 'delete',
    producer: 'training',
    consumers: ['vouchers'],
    events: [ClassPlanApprovedSchema],
  },
} satisfies Record<string, TopicSpec>;

export const SERVICES = ['identity', 'vouchers', 'training', 'settlement', 'careers'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Where a service's consumer parks events it could not handle after its retries. */
export function deadLetterTopic(service: string): string {
  return `${service}.deadletter.v1`;
}

export function allTopicSpecs(): TopicSpec[] {
  const domain: TopicSpec[] = Object.values(TOPICS);
  const deadLetters: TopicSpec[] = SERVICES.map((s) => ({
    name: deadLetterTopic(s),
    description: `Events the ${s} consumers gave up on, with the failure in the x-error header; re-drivable.`,
    key: 'original key',
    partitions: 1,
    retentionMs: 90 * DAY,
    cleanupPolicy: 'delete',
    producer: s,
    consumers: [],
    events: [],
  }));
  return [...domain, ...deadLetters];
}
