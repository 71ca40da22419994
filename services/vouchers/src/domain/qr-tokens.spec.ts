import { randomBytes } from 'node:crypto';
import { QrTokenCodec } from './qr-tokens';

const voucher = '01900000-0000-7000-8000-00000000000a';
const holder = '01900000-0000-7000-8000-00000000000b';
const now = new Date('2021-10-20T02:00:00.000Z');

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('dynamic QR tokens', () => {
  const key = randomBytes(32);
  const codec = new QrTokenCodec([key], 60);

  it('round-trip voucher, holder, a fresh jti and a one-minute expiry in a compact versioned form', () => {
    const a = codec.issue(voucher, holder, now);
    const b = codec.issue(voucher, holder, now);
    expect(a.token).toMatch(/^VTV1\.[A-Za-z0-9_-]{71}\.[A-Za-z0-9_-]{22}$/);
    expect(a.token.length).toBeLessThan(100);
    expect(a.jti).not.toBe(b.jti);
    expect(codec.verify(a.token, new Date(now.getTime() + 59_000))).toEqual({
      voucherId: voucher,
      holderId: holder,
      jti: a.jti,
      expiresAt: new Date(now.getTime() + 60_000),
    });
  });

  it('refuses expiry, tampering, a foreign key and anything not in the exact format, each distinctly', () => {
    const { token } = codec.issue(voucher, holder, now);
    expect(code(() => codec.verify(token, new Date(now.getTime() + 60_000)))).toBe('QR_TOKEN_EXPIRED');
    const [v, payload, mac] = token.split('.');
    for (let i = 0; i < payload!.length; i += 7) {
      const flipped = payload!.slice(0, i) + (payload![i] === 'A' ? 'B' : 'A') + payload!.slice(i + 1);
      expect(code(() => codec.verify(`${v}.${flipped}.${mac}`, now))).toBe('QR_TOKEN_SIGNATURE_INVALID');
    }
    expect(code(() => new QrTokenCodec([randomBytes(32)]).verify(token, now))).toBe(
      'QR_TOKEN_SIGNATURE_INVALID',
    );
    for (const bad of [
      token.replace('VTV1', 'VTV0'),
      token.replace('VTV1.', 'none.'),
      `${token}.`,
      token.slice(1),
      `${v}.${payload}`,
      JSON.stringify({ alg: 'none', voucherId: voucher }),
      '',
      undefined,
      'x'.repeat(100_000),
    ])
      expect(code(() => codec.verify(bad, now))).toBe('QR_TOKEN_MALFORMED');
  });

  it('accepts tokens of the previous key during a rotation, and only those', () => {
    const old = new QrTokenCodec([key]);
    const rotated = new QrTokenCodec([randomBytes(32), key]);
    expect(rotated.verify(old.issue(voucher, holder, now).token, now).voucherId).toBe(voucher);
    expect(
      code(() => new QrTokenCodec([randomBytes(32)]).verify(old.issue(voucher, holder, now).token, now)),
    ).toBe('QR_TOKEN_SIGNATURE_INVALID');
  });
});
