import { DomainError, toUserError, type RequestContext, type UserError } from '@vtv/kit';
import type { IdentityServices } from '../service';
import { actorOf, type Actor } from '../services/audit';
import { PinLockedError } from '../services/pins';

export type Ctx = RequestContext & IdentityServices;

export const actor = (ctx: Ctx): Actor => actorOf(ctx);

export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/**
 * mutationPayload plus `retryAt` for a locked PIN: expected failures come back in the payload, with the
 * moment the next attempt will be accepted when the PIN is locked.
 */
export async function payloadWithRetry<T extends object>(
  body: () => Promise<T>,
): Promise<(T & { errors: UserError[]; retryAt: null }) | { errors: UserError[]; retryAt: string | null }> {
  try {
    return { ...(await body()), errors: [], retryAt: null };
  } catch (err) {
    if (err instanceof PinLockedError)
      return { errors: [toUserError(err)], retryAt: err.retryAt.toISOString() };
    if (err instanceof DomainError) return { errors: [toUserError(err)], retryAt: null };
    throw err;
  }
}
