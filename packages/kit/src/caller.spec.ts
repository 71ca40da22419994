import { signCaller, verifyCaller, type Caller } from './caller';
import { inRegion, parentRegion, regionLevel } from './regions';

const secret = 's'.repeat(32);
const staff: Caller = { kind: 'staff', id: 'u1', regionCode: '420100', permissions: ['vouchers:issue'] };

describe('gateway-signed caller header', () => {
  it('round-trips a caller', () => {
    expect(verifyCaller(signCaller(staff, secret), secret)).toEqual(staff);
  });

  it('refuses a missing header, another secret, tampering and expiry', () => {
    const header = signCaller(staff, secret);
    expect(() => verifyCaller(undefined, secret)).toThrow('through the gateway');
    expect(() => verifyCaller(header, 'o'.repeat(32))).toThrow();
    const [v, body, sig] = header.split('.');
    const forged = Buffer.from(
      JSON.stringify({ c: { ...staff, permissions: ['*'] }, iat: 0, exp: 9e9 }),
    ).toString('base64url');
    expect(() => verifyCaller(`${v}.${forged}.${sig}`, secret)).toThrow();
    expect(() => verifyCaller(`${v}.${body}.${sig}`, secret, Date.now() + 120_000)).toThrow();
  });
});

describe('region subtree', () => {
  it('follows GB/T 2260 prefixes', () => {
    expect(inRegion('420000', '420102')).toBe(true);
    expect(inRegion('420100', '420102')).toBe(true);
    expect(inRegion('420100', '420200')).toBe(false);
    expect(inRegion('410400', '420102')).toBe(false);
    expect(regionLevel('410472')).toBe('COUNTY');
    expect(parentRegion('429004')).toBe('429000');
    expect(parentRegion('420000')).toBeNull();
  });
});
