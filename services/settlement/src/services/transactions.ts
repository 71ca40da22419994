import {
  DomainError,
  FaultPoint,
  faultPoint,
  withIdempotency,
  type DataSource,
  type EntityManager,
} from '@vtv/kit';
import { isLockTimeout } from '../data/repositories';

/**
 * Runs a mutation that moves money (or decides about it) in one transaction: under the client's
 * Idempotency-Key when one is given (the stored result is returned for a repeat), bounded lock waits
 * either way. `work` must return plain JSON (ids), since a repeat gets the stored copy.
 *
 * Crash points for the fault tests (VTV_FAULT_POINTS, ignored in production): `tx:before-commit` kills
 * the process after `work` wrote everything, before COMMIT; `tx:after-commit` after COMMIT, before the
 * answer leaves. Settlement is where money leaves, so this is where a crash must cost nothing twice.
 */
export async function moneyTransaction<T>(
  ds: DataSource,
  idempotency: { key: string | undefined; scope: string; input: unknown },
  work: (m: EntityManager) => Promise<T>,
): Promise<T> {
  const thenCrashPoint = async (m: EntityManager) => {
    const result = await work(m);
    await faultPoint(FaultPoint.BEFORE_COMMIT);
    return result;
  };
  let result: T;
  try {
    if (idempotency.key !== undefined) {
      result = await withIdempotency(
        ds,
        { scope: idempotency.scope, key: idempotency.key, input: idempotency.input },
        thenCrashPoint,
      );
    } else {
      result = await ds.transaction(async (m) => {
        await m.query(`SET LOCAL lock_timeout = '5s'`);
        return thenCrashPoint(m);
      });
    }
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
  await faultPoint(FaultPoint.AFTER_COMMIT);
  return result;
}
