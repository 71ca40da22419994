import { randomBytes } from 'node:crypto';

let lastMs = -1;
let sequence = 0;

/**
 * UUIDv7 (RFC 9562): time-ordered, so primary-key inserts stay append-mostly in B-tree indexes. Ids made
 * in the same millisecond by this process are monotonic (a 12-bit counter in rand_a, RFC 9562 §6.2
 * method 1), so rows ordered by id — the outbox relay's publishing order — keep their creation order.
 */
export function uuidv7(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  if (now === lastMs && sequence < 0xfff) {
    sequence += 1;
  } else {
    // A fresh millisecond starts the counter low enough to leave room for increments.
    lastMs = now;
    sequence = ((bytes[6]! & 0x0f) << 8) | bytes[7]!;
    sequence &= 0x7ff;
  }
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}
