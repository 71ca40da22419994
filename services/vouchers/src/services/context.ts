import type { Cache } from '@vtv/cache';
import type { DataSource, EntityManager, Logger, TokenVerifier } from '@vtv/kit';
import { uuidv7, withIdempotency, type Caller } from '@vtv/kit';
import type { VouchersConfig } from '../config';
import type { Repositories } from '../data/repositories';
import type { QrTokenCodec } from '../domain/qr-tokens';
import type { Actor } from './access';

/** What every domain service of the subgraph is built from. */
export interface Deps {
  ds: DataSource;
  repos: Repositories;
  cache: Cache;
  logger: Logger;
  config: VouchersConfig;
  /** Verifies identity's purpose-bound proofs; absent without IDENTITY_JWKS_URL (proofs are then refused). */
  tokens?: TokenVerifier;
  qr: QrTokenCodec;
  codeKey: Buffer;
  /** The clock (tests move it). */
  now(): Date;
}

/** Records an administrative action in the append-only audit log, in the action's transaction. */
export function audit(
  deps: Deps,
  manager: EntityManager,
  actor: Actor,
  action: string,
  subject: { type: string; id: string; regionCode?: string | null },
  detail: Record<string, unknown> = {},
): Promise<void> {
  return deps.repos.audit.insert(manager, {
    id: uuidv7(),
    actorKind: actor.kind,
    actorId: actor.id,
    action,
    subjectType: subject.type,
    subjectId: subject.id,
    regionCode: subject.regionCode ?? null,
    detail,
  });
}

/** Runs a write once per Idempotency-Key (when the client sent one), else in a plain transaction. */
export function keyed<T>(
  deps: Deps,
  req: { caller: Caller; key?: string; operation: string; input: unknown },
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (!req.key) return deps.ds.transaction(work);
  return withKey(deps, req, work);
}

/** The key space of an operation's idempotency keys: the operation and its caller. */
export function idempotencyScope(req: { caller: Caller; operation: string }): string {
  return `${req.operation}:${req.caller.kind}:${req.caller.id ?? ''}`;
}

function withKey<T>(
  deps: Deps,
  req: { caller: Caller; key?: string; operation: string; input: unknown },
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  return withIdempotency(deps.ds, { scope: idempotencyScope(req), key: req.key!, input: req.input }, work);
}

/**
 * A fast path (Redis) refused a keyed request. If the refusal is because this very request already
 * succeeded, the client gets the stored result, as the idempotency contract promises; otherwise the
 * refusal stands. Without a key there is nothing stored to look for.
 */
export async function refuseUnlessStored<T>(
  deps: Deps,
  req: { caller: Caller; key?: string; operation: string; input: unknown },
  refusal: Error,
): Promise<T> {
  if (!req.key) throw refusal;
  return withKey<T>(deps, req, async () => {
    throw refusal;
  });
}
