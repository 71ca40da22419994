import { badInput } from './errors';

/** Relay connection arguments, validated once for every list. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount?: number;
}

export const MAX_PAGE = 100;

/** Keyset pagination over a unique, ordered column (UUIDv7 ids sort by creation time). */
export function parsePage(args: PageArgs, defaultSize = 20): { limit: number; afterKey: string | null } {
  const first = args.first ?? defaultSize;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE)
    throw badInput('first', `first must be between 1 and ${MAX_PAGE}`);
  if (args.after == null) return { limit: first, afterKey: null };
  if (args.after.length > 200) throw badInput('after', 'Invalid cursor');
  const key = Buffer.from(args.after, 'base64url').toString('utf8');
  if (!key.startsWith('k:')) throw badInput('after', 'Invalid cursor');
  return { limit: first, afterKey: key.slice(2) };
}

/** Builds a connection from up to limit + 1 rows fetched in key order. */
export function toConnection<T>(rows: T[], limit: number, keyOf: (row: T) => string): Connection<T> {
  const page = rows.slice(0, limit);
  const edges = page.map((node) => ({ cursor: Buffer.from(`k:${keyOf(node)}`).toString('base64url'), node }));
  return { edges, pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null } };
}
