import type { EntityManager } from 'typeorm';

/**
 * Maps a raw row (snake_case, from `query` or `RETURNING *`) onto an entity, using the entity's column
 * metadata and the driver's own conversions (dates, arrays), exactly as a TypeORM find would.
 */
export function hydrate<T extends object>(
  manager: EntityManager,
  target: new () => T,
  raw: Record<string, unknown>,
): T {
  const meta = manager.connection.getMetadata(target);
  const driver = manager.connection.driver;
  const out = new target();
  for (const column of meta.columns) {
    if (column.databaseName in raw) {
      (out as Record<string, unknown>)[column.propertyName] = driver.prepareHydratedValue(
        raw[column.databaseName],
        column,
      );
    }
  }
  return out;
}

export function hydrateAll<T extends object>(
  manager: EntityManager,
  target: new () => T,
  rows: Record<string, unknown>[],
): T[] {
  return rows.map((r) => hydrate(manager, target, r));
}

/** `UPDATE … RETURNING` through `manager.query` yields [rows, count] on PostgreSQL. */
export function returned(result: unknown): Record<string, unknown>[] {
  if (Array.isArray(result) && Array.isArray(result[0])) return result[0] as Record<string, unknown>[];
  return result as Record<string, unknown>[];
}

/** SQL: the region subtree rooted at `rootColumn` contains the code in `codeSql` (GB/T 2260 prefixes). */
export function subtreeContains(rootColumn: string, codeSql: string): string {
  return `${codeSql} LIKE (CASE WHEN ${rootColumn} LIKE '%0000' THEN left(${rootColumn}, 2)
    WHEN ${rootColumn} LIKE '%00' THEN left(${rootColumn}, 4) ELSE ${rootColumn} END) || '%'`;
}
