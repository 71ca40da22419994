/** Anything that runs SQL: the data source (autocommit) or a transaction's entity manager. */
export interface Queryable {
  // TypeORM's own signature returns any; rows are typed where they are read.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query(sql: string, parameters?: unknown[]): Promise<any>;
}

/** True for a unique violation, optionally of one named constraint or index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as {
    code?: string;
    constraint?: string;
    driverError?: { code?: string; constraint?: string };
  };
  const code = e?.code ?? e?.driverError?.code;
  const name = e?.constraint ?? e?.driverError?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}

/** True when a lock could not be taken within lock_timeout. */
export function isLockTimeout(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  return (e?.code ?? e?.driverError?.code) === '55P03';
}

/** A bigint for a query parameter (pg takes BIGINT as text, exactly). */
export const fenParam = (v: bigint | null): string | null => (v === null ? null : v.toString());
