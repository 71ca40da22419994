import { createHmac } from 'node:crypto';
import type { DomainError } from '@vtv/kit';
import { QrSigner, qrKey } from './qr';

const SESSION = '01923456-789a-7bcd-8ef0-123456789abc';
const PERSON = '01923456-789a-7bcd-8ef0-cba987654321';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as DomainError).code;
  }
  return 'OK';
};

describe('check-in QR codes', () => {
  const key = qrKey(undefined, 'i'.repeat(32));
  const signer = new QrSigner(key, 60);
  const now = new Date('2026-05-01T01:00:00Z');

  it('round-trips a class code and a trainee code', () => {
    const { token, expiresAt } = signer.issue('class', SESSION, now);
    expect(expiresAt.getTime() - now.getTime()).toBe(60_000);
    expect(signer.verify(token, 'class', new Date(now.getTime() + 59_000))).toMatchObject({
      kind: 'class',
      sessionId: SESSION,
    });
    const trainee = signer.issue('trainee', SESSION, now, PERSON).token;
    expect(signer.verify(trainee, 'trainee', now)).toMatchObject({ personId: PERSON });
  });

  it('rotates: two codes for the same session differ', () => {
    expect(signer.issue('class', SESSION, now).token).not.toBe(signer.issue('class', SESSION, now).token);
  });

  it('refuses expired, forged, tampered, re-kinded and malformed codes', () => {
    const { token } = signer.issue('class', SESSION, now);
    expect(code(() => signer.verify(token, 'class', new Date(now.getTime() + 61_000)))).toBe('QR_EXPIRED');
    const forged = new QrSigner(qrKey('f'.repeat(32), 'i'.repeat(32)), 60).issue('class', SESSION, now).token;
    expect(code(() => signer.verify(forged, 'class', now))).toBe('QR_INVALID');
    const [prefix, body, mac] = token.split('.');
    const payload = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
    const tampered = Buffer.from(
      JSON.stringify({ ...payload, exp: Number(payload.exp) + 3_600_000 }),
    ).toString('base64url');
    expect(code(() => signer.verify(`${prefix}.${tampered}.${mac}`, 'class', now))).toBe('QR_INVALID');
    expect(code(() => signer.verify(token, 'trainee', now))).toBe('QR_INVALID');
    expect(code(() => signer.verify(`vtvqr2.${body}.${mac}`, 'class', now))).toBe('QR_INVALID');
    expect(code(() => signer.verify('x'.repeat(10_000), 'class', now))).toBe('QR_INVALID');
    expect(code(() => signer.verify("' OR 1=1 --", 'class', now))).toBe('QR_INVALID');
    // A different algorithm with the right key still fails: the version fixes HMAC-SHA256.
    const sha1 = createHmac('sha1', key).update(`${prefix}.${body}`).digest('base64url');
    expect(code(() => signer.verify(`${prefix}.${body}.${sha1}`, 'class', now))).toBe('QR_INVALID');
  });

  it('refuses codes issued in the future', () => {
    const { token } = signer.issue('class', SESSION, new Date(now.getTime() + 60_000));
    expect(code(() => signer.verify(token, 'class', now))).toBe('QR_INVALID');
  });
});
