import { isUuid, uuidv7 } from './ids';

describe('uuidv7', () => {
  it('is a version-7, variant-1 UUID carrying the timestamp', () => {
    const id = uuidv7(0x0192_3456_789a);
    expect(isUuid(id)).toBe(true);
    expect(id.slice(0, 13)).toBe('01923456-789a');
    expect(id[14]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
  });

  it('is strictly increasing within one millisecond, so id order is creation order', () => {
    const ms = Date.now() + 1_000;
    const ids = Array.from({ length: 1_000 }, () => uuidv7(ms));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('orders by time across milliseconds', () => {
    const a = uuidv7(1_700_000_000_001);
    const b = uuidv7(1_700_000_000_000);
    expect(b < a).toBe(true);
  });
});
