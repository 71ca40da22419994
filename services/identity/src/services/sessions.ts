import {
  DomainError,
  ErrorCode,
  isPermission,
  parseIdNumber,
  uuidv7,
  type Caller,
  type TokenIssuer,
} from '@vtv/kit';
import type { StaffUserRow } from '../data/entities';
import type { Store } from '../data/repositories';
import { hashSecret, newSecret, secretMatches } from '../security/secrets';
import type { Vault } from '../security/vault';
import { audit, AuditAction, type Actor } from './audit';
import { effectivePermissions } from './permissions';
import { PinError, PinLockedError, type PinService } from './pins';
import { uuidOrNull } from './scope';

export const SignInError = {
  FAILED: 'SIGN_IN_FAILED',
  CHALLENGE_NOT_FOUND: 'SIGN_IN_CHALLENGE_NOT_FOUND',
  CHALLENGE_EXPIRED: 'SIGN_IN_CHALLENGE_EXPIRED',
  CHALLENGE_USED: 'SIGN_IN_CHALLENGE_USED',
  CHALLENGE_PENDING: 'SIGN_IN_CHALLENGE_PENDING',
  NOT_STAFF: 'NOT_STAFF',
  STAFF_DISABLED: 'STAFF_USER_DISABLED',
  CLIENT_CREDENTIALS_INVALID: 'CLIENT_CREDENTIALS_INVALID',
  CLIENT_SCOPE_NOT_GRANTED: 'CLIENT_SCOPE_NOT_GRANTED',
} as const;

export interface Session {
  accessToken: string;
  expiresAt: Date;
  /** What the token carries, for the console's convenience. */
  caller: Caller & { id: string };
}

export interface SignInChallenge {
  id: string;
  /** Only the console that asked holds this; it is needed for the exchange. */
  secret: string;
  /** What the QR code shows (the e-SSC app scans it and confirms). */
  qrContent: string;
  expiresAt: Date;
}

export const QR_PREFIX = 'vtv-signin:';

/**
 * Sign-in: labourers with their ID number and e-SSC PIN; staff by QR (the console's challenge is
 * confirmed by the staff member's signed-in e-SSC, then exchanged by the console); integrators with
 * client credentials. Every sign-in is audited.
 */
export class SessionService {
  constructor(
    private readonly store: Store,
    private readonly vault: Vault,
    private readonly pins: PinService,
    private readonly tokens: TokenIssuer,
    private readonly o: { tokenTtlSeconds: number; challengeTtlSeconds: number },
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private async issue(caller: Caller & { id: string }): Promise<Session> {
    const accessToken = await this.tokens.issue(caller, this.o.tokenTtlSeconds);
    return {
      accessToken,
      expiresAt: new Date(this.clock().getTime() + this.o.tokenTtlSeconds * 1000),
      caller,
    };
  }

  /**
   * Labourer sign-in (ID number + e-SSC PIN). An unknown number, a card without a PIN and a wrong PIN
   * all answer SIGN_IN_FAILED, equally slowly; a locked PIN answers PIN_LOCKED with its retry time.
   */
  async signInPerson(input: { idNumber: string; pin: string }, actor: Actor): Promise<Session> {
    const failed = () => new DomainError(SignInError.FAILED, 'The ID number or PIN is incorrect', 'pin');
    const parsed = parseIdNumber(input.idNumber, this.clock());
    if (!parsed.ok) throw new DomainError(parsed.code, parsed.message, 'idNumber');
    const person = await this.store.read.people.byBlindIndex(this.vault.blindIndex(parsed.idNumber.value));
    if (!person) {
      await this.pins.burn();
      throw failed();
    }
    try {
      await this.pins.check(person.id, input.pin, actor, person.regionCode, 'pin');
    } catch (err) {
      if (err instanceof PinLockedError) throw err;
      if (err instanceof DomainError && (err.code === PinError.INCORRECT || err.code === PinError.NOT_SET)) {
        throw failed();
      }
      throw err;
    }
    const session = await this.issue({ kind: 'person', id: person.id, permissions: [] });
    await this.store.transaction((r) =>
      audit(
        r,
        { ...actor, caller: session.caller },
        AuditAction.PERSON_SIGNED_IN,
        {
          type: 'PERSON',
          id: person.id,
          regionCode: person.regionCode,
        },
        { method: 'PIN' },
      ),
    );
    return session;
  }

  /** Step 1 (console, anonymous): a challenge to render as a QR code. */
  async createChallenge(): Promise<SignInChallenge> {
    const id = uuidv7();
    const secret = newSecret('vtvqs_');
    const expiresAt = new Date(this.clock().getTime() + this.o.challengeTtlSeconds * 1000);
    await this.store.transaction((r) => r.signIns.insert({ id, secretHash: hashSecret(secret), expiresAt }));
    return { id, secret, qrContent: `${QR_PREFIX}${id}`, expiresAt };
  }

  /** Step 2 (the staff member's e-SSC app, signed in as a person): confirms the scanned challenge. */
  async confirmChallenge(caller: Caller, rawChallenge: string): Promise<StaffUserRow> {
    if (caller.kind !== 'person' || !caller.id) {
      throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Confirm with your signed-in e-SSC');
    }
    const id = uuidOrNull(String(rawChallenge ?? '').replace(QR_PREFIX, ''));
    const person = await this.store.read.people.byId(caller.id);
    const staff = person ? await this.store.read.staff.byBlindIndex(person.idBlindIndex) : null;
    return this.store.transaction(async (r) => {
      const challenge = id ? await r.signIns.lock(id) : null;
      if (!challenge)
        throw new DomainError(SignInError.CHALLENGE_NOT_FOUND, 'Unknown sign-in code', 'challengeId');
      if (challenge.status !== 'PENDING') {
        throw new DomainError(
          SignInError.CHALLENGE_USED,
          'This sign-in code was already used',
          'challengeId',
        );
      }
      if (challenge.expiresAt <= this.clock()) {
        throw new DomainError(
          SignInError.CHALLENGE_EXPIRED,
          'The sign-in code has expired; refresh it',
          'challengeId',
        );
      }
      if (!staff) throw new DomainError(SignInError.NOT_STAFF, 'You are not registered as HRSS staff');
      if (!staff.enabled) throw new DomainError(SignInError.STAFF_DISABLED, 'Your staff account is disabled');
      await r.signIns.confirm(challenge.id, staff.id);
      return staff;
    });
  }

  /** Step 3 (console): exchanges the confirmed challenge for a staff token, once. */
  async exchangeChallenge(input: { challengeId: string; secret: string }, actor: Actor): Promise<Session> {
    const id = uuidOrNull(input.challengeId);
    const notFound = () =>
      new DomainError(SignInError.CHALLENGE_NOT_FOUND, 'Unknown sign-in code', 'challengeId');
    return this.store.transaction(async (r) => {
      const challenge = id ? await r.signIns.lock(id) : null;
      // A wrong secret looks like an unknown challenge: the QR alone (seen by the phone) is not enough.
      if (!challenge || !secretMatches(input.secret, challenge.secretHash)) throw notFound();
      if (challenge.status === 'EXCHANGED') {
        throw new DomainError(
          SignInError.CHALLENGE_USED,
          'This sign-in code was already used',
          'challengeId',
        );
      }
      if (challenge.expiresAt <= this.clock()) {
        throw new DomainError(
          SignInError.CHALLENGE_EXPIRED,
          'The sign-in code has expired; refresh it',
          'challengeId',
        );
      }
      if (challenge.status === 'PENDING') {
        throw new DomainError(
          SignInError.CHALLENGE_PENDING,
          'Not confirmed yet: scan the code with the e-SSC app and confirm',
          'challengeId',
          true,
        );
      }
      const staff = await r.staff.byId(challenge.staffUserId!);
      if (!staff || !staff.enabled)
        throw new DomainError(SignInError.STAFF_DISABLED, 'The staff account is disabled');
      const permissions = effectivePermissions(await r.roles.ofUser(staff.id));
      await r.signIns.markExchanged(challenge.id);
      const session = await this.issue({
        kind: 'staff',
        id: staff.id,
        regionCode: staff.regionCode,
        permissions,
      });
      await audit(
        r,
        { ...actor, caller: session.caller },
        AuditAction.STAFF_SIGNED_IN,
        {
          type: 'STAFF_USER',
          id: staff.id,
          regionCode: staff.regionCode,
        },
        { method: 'QR', challengeId: challenge.id },
      );
      return session;
    });
  }

  /** Client credentials → a client token carrying the requested scopes (default: all it was granted). */
  async signInClient(
    input: { clientId: string; clientSecret: string; scopes?: string[] | null },
    actor: Actor,
  ): Promise<Session> {
    const invalid = () =>
      new DomainError(
        SignInError.CLIENT_CREDENTIALS_INVALID,
        'Unknown client or wrong secret',
        'clientSecret',
      );
    const id = uuidOrNull(input.clientId);
    const client = id ? await this.store.read.clients.byId(id) : null;
    if (!client || !secretMatches(input.clientSecret, client.secretHash) || !client.enabled) throw invalid();
    const granted: string[] = client.permissions.filter(isPermission);
    let scopes = granted;
    if (input.scopes != null) {
      const missing = input.scopes.filter((s) => !granted.includes(s));
      if (missing.length) {
        throw new DomainError(
          SignInError.CLIENT_SCOPE_NOT_GRANTED,
          `Scopes not granted to this client: ${missing.slice(0, 5).join(', ')}`,
          'scopes',
        );
      }
      scopes = [...new Set(input.scopes)];
    }
    const session = await this.issue({
      kind: 'client',
      id: client.id,
      regionCode: client.regionCode,
      permissions: scopes,
    });
    await this.store.transaction((r) =>
      audit(
        r,
        { ...actor, caller: session.caller },
        AuditAction.CLIENT_SIGNED_IN,
        {
          type: 'CLIENT',
          id: client.id,
          regionCode: client.regionCode,
        },
        { scopes },
      ),
    );
    return session;
  }
}
