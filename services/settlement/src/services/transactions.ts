import { DomainError, withIdempotency, type DataSource, type EntityManager } from '@vtv/kit';
import { isLockTimeout } from '../data/repositories';

/**
 * Runs a mutation that moves money (or decides about it) in one transaction: under the client's
 * Idempotency-Key when one is given (the stored result is returned for a repeat), bounded lock waits
 * either way. `work` must return plain JSON (ids), since a repeat gets the stored copy.
 */
export async function moneyTransaction<T>(
  ds: DataSource,
  idempotency: { key: string | undefined; scope: string; input: unknown },
  work: (m: EntityManager) => Promise<T>,
): Promise<T> {
  try {
    if (idempotency.key !== undefined) {
      return await withIdempotency(
        ds,
        { scope: idempotency.scope, key: idempotency.key, input: idempotency.input },
        work,
      );
    }
    return await ds.transaction(async (m) => {
      await m.query(`SET LOCAL lock_timeout = '5s'`);
      return work(m);
    });
  } catch (err) {
    if (isLockTimeout(err)) {
      throw new DomainError(
        'APPLICATION_BUSY',
        'Another operation on the same application or budget is still running; retry shortly',
        undefined,
        true,
      );
    }
    throw err;
  }
}
