import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { DomainError, ErrorCode } from './errors';

export interface IdempotentRequest {
  /** Operation name plus the caller, so two callers never share a key space. */
  scope: string;
  key: string;
  input: unknown;
}

const KEY_RE = /^[A-Za-z0-9_.:-]{8,128}$/;

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

export function requestHash(input: unknown): string {
  return createHash('sha256').update(canonical(input)).digest('hex');
}

/**
 * Executes `work` at most once per (scope, key). The key row is inserted in the same transaction as the
 * effect: a concurrent duplicate blocks on the uncommitted row, then reads the committed result; if the
 * first attempt rolls back, the duplicate runs instead. Same key with a different input is refused.
 */
export async function withIdempotency<T>(
  ds: DataSource,
  req: IdempotentRequest,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (!KEY_RE.test(req.key)) {
    throw new DomainError(
      ErrorCode.BAD_USER_INPUT,
      'Idempotency key must be 8-128 characters of [A-Za-z0-9_.:-]',
      'idempotencyKey',
    );
  }
  const hash = requestHash(req.input);
  return ds.transaction(async (manager) => {
    // Bound the wait behind a concurrent duplicate; the client may retry after this.
    await manager.query(`SET LOCAL lock_timeout = '5s'`);
    let inserted: unknown[];
    try {
      inserted = await manager.query(
        `INSERT INTO idempotency_keys (scope, key, request_hash, response) VALUES ($1, $2, $3, 'null'::jsonb)
         ON CONFLICT DO NOTHING RETURNING key`,
        [req.scope, req.key, hash],
      );
    } catch (err) {
      if ((err as { code?: string }).code === '55P03') {
        throw new DomainError(
          ErrorCode.IDEMPOTENCY_IN_PROGRESS,
          'A request with this idempotency key is still running',
          'idempotencyKey',
          true,
        );
      }
      throw err;
    }
    if (inserted.length === 0) {
      const rows: { request_hash: string; response: { value: T } }[] = await manager.query(
        'SELECT request_hash, response FROM idempotency_keys WHERE scope = $1 AND key = $2',
        [req.scope, req.key],
      );
      const row = rows[0]!;
      if (row.request_hash !== hash) {
        throw new DomainError(
          ErrorCode.IDEMPOTENCY_KEY_REUSED,
          'This idempotency key was used with a different request',
          'idempotencyKey',
        );
      }
      return row.response.value;
    }
    const result = await work(manager);
    await manager.query('UPDATE idempotency_keys SET response = $3 WHERE scope = $1 AND key = $2', [
      req.scope,
      req.key,
      JSON.stringify({ value: result ?? null }),
    ]);
    return result;
  });
}
