import { DomainError } from '@vtv/kit';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Dynamic QR tokens (动态二维码): short-lived, single-use, bound to one voucher and its holder.
 *
 *   VTV1.<payload>.<mac>
 *   payload = base64url(kid:1 | voucher id:16 | holder id:16 | jti:16 | exp:4, big-endian seconds)
 *   mac     = base64url(first 16 bytes of HMAC-SHA256(key, "VTV1." + payload))
 *
 * The version is part of the MACed text and there is no algorithm field to tamper with: anything that is
 * not exactly this shape is refused before a key is touched. `kid` (the first byte of the key's SHA-256)
 * picks the key during a rotation. Single use is enforced by the redeemer (Redis SET NX, then a unique
 * row in the database).
 */
const PREFIX = 'VTV1';
const PAYLOAD_BYTES = 1 + 16 + 16 + 16 + 4;
const MAC_BYTES = 16;
const TOKEN_RE = /^VTV1\.([A-Za-z0-9_-]{71})\.([A-Za-z0-9_-]{22})$/;
/** Clock skew tolerated between replicas when checking that exp is not too far ahead. */
const SKEW_S = 5;

export const QrError = {
  MALFORMED: 'QR_TOKEN_MALFORMED',
  SIGNATURE_INVALID: 'QR_TOKEN_SIGNATURE_INVALID',
  EXPIRED: 'QR_TOKEN_EXPIRED',
  REPLAYED: 'QR_TOKEN_REPLAYED',
} as const;

export interface QrClaims {
  voucherId: string;
  holderId: string;
  jti: string;
  expiresAt: Date;
}

function uuidBytes(id: string): Buffer {
  const hex = id.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error('not a uuid');
  return Buffer.from(hex, 'hex');
}

function uuidString(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A v4-shaped random id for the token (the jti), so the database stores it as a uuid. */
function randomJti(): Buffer {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return b;
}

export class QrTokenCodec {
  private readonly keys: { kid: number; key: Buffer }[];

  /** `keys`: the current key first, then any previous one still accepted. */
  constructor(
    keys: Buffer[],
    readonly ttlSeconds = 60,
  ) {
    if (keys.length === 0) throw new Error('QrTokenCodec needs a key');
    this.keys = keys.map((key) => ({ kid: createHash('sha256').update(key).digest()[0]!, key }));
  }

  private mac(key: Buffer, text: string): Buffer {
    return createHmac('sha256', key).update(text).digest().subarray(0, MAC_BYTES);
  }

  issue(voucherId: string, holderId: string, now = new Date()): { token: string } & QrClaims {
    const { kid, key } = this.keys[0]!;
    const exp = Math.floor(now.getTime() / 1000) + this.ttlSeconds;
    const jti = randomJti();
    const payload = Buffer.alloc(PAYLOAD_BYTES);
    payload[0] = kid;
    uuidBytes(voucherId).copy(payload, 1);
    uuidBytes(holderId).copy(payload, 17);
    jti.copy(payload, 33);
    payload.writeUInt32BE(exp, 49);
    const body = `${PREFIX}.${payload.toString('base64url')}`;
    return {
      token: `${body}.${this.mac(key, body).toString('base64url')}`,
      voucherId,
      holderId,
      jti: uuidString(jti),
      expiresAt: new Date(exp * 1000),
    };
  }

  /** Checks shape, signature and expiry, in that order; throws a DomainError naming what is wrong. */
  verify(token: unknown, now = new Date()): QrClaims {
    const malformed = () => new DomainError(QrError.MALFORMED, 'This is not a voucher QR code', 'token');
    if (typeof token !== 'string' || token.length > 200) throw malformed();
    const m = TOKEN_RE.exec(token);
    if (!m) throw malformed();
    const payload = Buffer.from(m[1]!, 'base64url');
    const given = Buffer.from(m[2]!, 'base64url');
    if (payload.length !== PAYLOAD_BYTES || given.length !== MAC_BYTES) throw malformed();
    const body = `${PREFIX}.${m[1]}`;
    const signed = this.keys.some(
      ({ kid, key }) => kid === payload[0] && timingSafeEqual(this.mac(key, body), given),
    );
    if (!signed) {
      throw new DomainError(
        QrError.SIGNATURE_INVALID,
        'The QR code was not issued by this platform or was altered',
        'token',
      );
    }
    const exp = payload.readUInt32BE(49);
    const nowS = now.getTime() / 1000;
    if (exp > nowS + this.ttlSeconds + SKEW_S) throw malformed();
    if (exp <= nowS) {
      throw new DomainError(
        QrError.EXPIRED,
        'The QR code has expired; ask the holder to refresh it',
        'token',
      );
    }
    return {
      voucherId: uuidString(payload.subarray(1, 17)),
      holderId: uuidString(payload.subarray(17, 33)),
      jti: uuidString(payload.subarray(33, 49)),
      expiresAt: new Date(exp * 1000),
    };
  }
}
