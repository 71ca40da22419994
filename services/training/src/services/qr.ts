import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isUuid } from '@vtv/kit';
import { trainingError } from '../errors';

/**
 * Rotating check-in QR codes (扫码签到), signed with HMAC-SHA256 and valid for a short time:
 * - a class code an operator's screen shows for one session, scanned by trainees present;
 * - a trainee code a trainee's phone shows, scanned by an operator.
 * Format: `vtvqr1.<base64url JSON>.<base64url MAC>`; the version fixes the algorithm, so nothing in the
 * token chooses how it is verified. Replays are harmless: one check-in per person per session is a
 * database constraint.
 */
export type QrKind = 'class' | 'trainee';

export interface QrClaims {
  kind: QrKind;
  sessionId: string;
  /** The trainee a trainee code belongs to. */
  personId?: string;
  issuedAt: Date;
  expiresAt: Date;
}

interface Wire {
  k: QrKind;
  s: string;
  p?: string;
  iat: number;
  exp: number;
  n: string;
}

const PREFIX = 'vtvqr1';
const MAX_LENGTH = 512;
const CLOCK_SKEW_MS = 5_000;

/** The signing key: CLASS_QR_SECRET as given, else a key derived from the internal secret for this purpose only. */
export function qrKey(classQrSecret: string | undefined, internalSecret: string): Buffer {
  if (classQrSecret) return Buffer.from(classQrSecret, 'utf8');
  return createHmac('sha256', internalSecret).update('vtv/training/check-in-qr/v1').digest();
}

export class QrSigner {
  constructor(
    private readonly key: Buffer,
    private readonly ttlSeconds: number,
  ) {}

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
  }

  issue(kind: QrKind, sessionId: string, now: Date, personId?: string): { token: string; expiresAt: Date } {
    const iat = now.getTime();
    const exp = iat + this.ttlSeconds * 1000;
    const wire: Wire = {
      k: kind,
      s: sessionId,
      ...(personId ? { p: personId } : {}),
      iat,
      exp,
      n: randomBytes(6).toString('base64url'),
    };
    const body = `${PREFIX}.${Buffer.from(JSON.stringify(wire)).toString('base64url')}`;
    return { token: `${body}.${this.mac(body).toString('base64url')}`, expiresAt: new Date(exp) };
  }

  /** Checks shape, signature, kind and validity; throws QR_INVALID or QR_EXPIRED. */
  verify(token: string, kind: QrKind, now: Date): QrClaims {
    const invalid = () =>
      trainingError('QR_INVALID', 'This is not a valid check-in QR code of this platform', 'token');
    if (typeof token !== 'string' || token.length > MAX_LENGTH) throw invalid();
    const parts = token.split('.');
    if (
      parts.length !== 3 ||
      parts[0] !== PREFIX ||
      !/^[A-Za-z0-9_-]+$/.test(parts[1]!) ||
      !/^[A-Za-z0-9_-]+$/.test(parts[2]!)
    )
      throw invalid();
    const given = Buffer.from(parts[2]!, 'base64url');
    const expected = this.mac(`${parts[0]}.${parts[1]}`);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let wire: Wire;
    try {
      wire = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Wire;
    } catch {
      throw invalid();
    }
    if (
      wire.k !== kind ||
      typeof wire.s !== 'string' ||
      !isUuid(wire.s) ||
      (wire.p !== undefined && (typeof wire.p !== 'string' || !isUuid(wire.p))) ||
      typeof wire.iat !== 'number' ||
      typeof wire.exp !== 'number'
    )
      throw invalid();
    if (wire.iat > now.getTime() + CLOCK_SKEW_MS) throw invalid();
    if (now.getTime() > wire.exp)
      throw trainingError('QR_EXPIRED', 'This check-in QR code has expired; scan the current one', 'token');
    return {
      kind: wire.k,
      sessionId: wire.s,
      personId: typeof wire.p === 'string' ? wire.p : undefined,
      issuedAt: new Date(wire.iat),
      expiresAt: new Date(wire.exp),
    };
  }
}
