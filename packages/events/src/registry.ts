import { createRegistry, fromBinary, type DescMessage, type Message } from '@bufbuild/protobuf';
import { allTopicSpecs } from './topics';

const registry = createRegistry(...allTopicSpecs().flatMap((t) => t.events));

export function schemaFor(type: string): DescMessage | undefined {
  return registry.getMessage(type);
}

/** Decodes a payload by its ce_type; throws for unknown types. */
export function decode(type: string, data: Uint8Array): Message {
  const schema = registry.getMessage(type);
  if (!schema) throw new Error(`Unknown event type ${type}`);
  return fromBinary(schema, data);
}
