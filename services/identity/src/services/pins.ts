import { DomainError } from '@vtv/kit';
import type { Store } from '../data/repositories';
import type { PinHasher } from '../security/pin-hasher';
import { audit, AuditAction, type Actor } from './audit';

export const PinError = {
  FORMAT: 'PIN_FORMAT',
  TOO_WEAK: 'PIN_TOO_WEAK',
  INCORRECT: 'PIN_INCORRECT',
  LOCKED: 'PIN_LOCKED',
  NOT_SET: 'PIN_NOT_SET',
} as const;

/** PIN_LOCKED, with the moment another attempt will be accepted. */
export class PinLockedError extends DomainError {
  constructor(
    readonly retryAt: Date,
    field = 'pin',
  ) {
    super(
      PinError.LOCKED,
      `Too many wrong PINs: the e-SSC PIN is locked until ${retryAt.toISOString()}; try again after that`,
      field,
    );
  }
}

/** e-SSC PINs are six digits (full-width digits accepted). Returns the ASCII form, or throws PIN_FORMAT. */
export function normalisePin(raw: unknown, field = 'pin'): string {
  const pin = typeof raw === 'string' && raw.length <= 32 ? raw.normalize('NFKC').trim() : '';
  if (!/^\d{6}$/.test(pin))
    throw new DomainError(PinError.FORMAT, 'The PIN must be exactly six digits', field);
  return pin;
}

/** A new PIN must not be trivially guessable: not one repeated digit, not a run up or down. */
export function requireStrongPin(raw: unknown, field = 'pin'): string {
  const pin = normalisePin(raw, field);
  const digits = [...pin].map(Number);
  const steps = new Set(digits.slice(1).map((d, i) => d - digits[i]!));
  if (steps.size === 1 && [0, 1, -1].includes([...steps][0]!)) {
    throw new DomainError(
      PinError.TOO_WEAK,
      'Choose a PIN that is not a repeated digit or a simple sequence',
      field,
    );
  }
  return pin;
}

export interface PinPolicy {
  maxAttempts: number;
  lockoutMs: number;
}

type Outcome =
  | { kind: 'ok' }
  | { kind: 'not-set' }
  | { kind: 'locked'; retryAt: Date }
  | { kind: 'incorrect'; remaining: number };

/**
 * Checks PINs with a lockout: after `maxAttempts` consecutive wrong PINs the credential is locked for
 * `lockoutMs`, during which even the right PIN is refused. Attempts on one person are serialised by a row
 * lock, so concurrent guesses cannot exceed the budget; the outcome is committed before the answer.
 */
export class PinService {
  constructor(
    private readonly store: Store,
    private readonly hasher: PinHasher,
    private readonly policy: PinPolicy,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  hash(pin: string) {
    return this.hasher.hash(pin);
  }

  /** Spends a verification's time without a credential (unknown accounts answer as slowly). */
  burn(): Promise<void> {
    return this.hasher.burn();
  }

  async hasPin(personId: string): Promise<boolean> {
    return this.store.read.pins.exists(personId);
  }

  /** Resolves on the right PIN; otherwise throws PIN_NOT_SET, PIN_INCORRECT or PinLockedError. */
  async check(
    personId: string,
    rawPin: unknown,
    actor: Actor,
    regionCode: string,
    field = 'pin',
  ): Promise<void> {
    const pin = normalisePin(rawPin, field);
    const outcome = await this.store.transaction(async (r): Promise<Outcome> => {
      const cred = await r.pins.lock(personId);
      if (!cred) return { kind: 'not-set' };
      const now = this.clock();
      if (cred.lockedUntil && cred.lockedUntil > now) return { kind: 'locked', retryAt: cred.lockedUntil };
      if (await this.hasher.verify(pin, cred)) {
        if (this.hasher.needsRehash(cred.params)) await r.pins.set(personId, await this.hasher.hash(pin));
        else if (cred.failedAttempts > 0 || cred.lockedUntil) await r.pins.recordAttempt(personId, 0, null);
        return { kind: 'ok' };
      }
      const failures = cred.failedAttempts + 1;
      if (failures >= this.policy.maxAttempts) {
        const retryAt = new Date(now.getTime() + this.policy.lockoutMs);
        await r.pins.recordAttempt(personId, 0, retryAt);
        await audit(
          r,
          actor,
          AuditAction.PIN_LOCKED,
          { type: 'PERSON', id: personId, regionCode },
          {
            retryAt: retryAt.toISOString(),
            failedAttempts: failures,
          },
        );
        return { kind: 'locked', retryAt };
      }
      await r.pins.recordAttempt(personId, failures, null);
      return { kind: 'incorrect', remaining: this.policy.maxAttempts - failures };
    });
    switch (outcome.kind) {
      case 'ok':
        return;
      case 'not-set':
        throw new DomainError(PinError.NOT_SET, 'No e-SSC PIN has been set; set one first', field);
      case 'locked':
        throw new PinLockedError(outcome.retryAt, field);
      case 'incorrect':
        throw new DomainError(
          PinError.INCORRECT,
          `The PIN is incorrect; ${outcome.remaining} attempt${outcome.remaining === 1 ? '' : 's'} left before it locks`,
          field,
        );
    }
  }
}
