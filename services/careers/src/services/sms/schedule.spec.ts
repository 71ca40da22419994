import { nextDayOpening, parseQuietHours, quietUntil, retryDelayMs } from './schedule';

/** An instant given as China Standard Time wall-clock time. */
const cst = (text: string) => new Date(`${text}+08:00`);

describe('quiet hours', () => {
  it('parses HH:MM-HH:MM windows, "none", and refuses the rest', () => {
    expect(parseQuietHours('22:00-08:00')).toEqual({ startMinute: 22 * 60, endMinute: 8 * 60 });
    expect(parseQuietHours(' 12:30 - 13:45 ')).toEqual({ startMinute: 750, endMinute: 825 });
    expect(parseQuietHours('none')).toBeNull();
    expect(parseQuietHours('')).toBeNull();
    for (const bad of ['22-08', '24:00-08:00', '22:00-22:00', '22:00', '22:00-08:00-09:00', '7:00-08:00'])
      expect(parseQuietHours(bad)).toBeUndefined();
  });

  const night = parseQuietHours('22:00-08:00')!;

  it('knows when a window that wraps midnight ends', () => {
    expect(quietUntil(cst('2026-03-01T21:59:59'), night)).toBeNull();
    expect(quietUntil(cst('2026-03-01T22:00:00'), night)).toEqual(cst('2026-03-02T08:00:00'));
    expect(quietUntil(cst('2026-03-01T23:30:00'), night)).toEqual(cst('2026-03-02T08:00:00'));
    expect(quietUntil(cst('2026-03-02T00:00:00'), night)).toEqual(cst('2026-03-02T08:00:00'));
    expect(quietUntil(cst('2026-03-02T07:59:59'), night)).toEqual(cst('2026-03-02T08:00:00'));
    expect(quietUntil(cst('2026-03-02T08:00:00'), night)).toBeNull();
    expect(quietUntil(cst('2026-03-02T03:00:00'), null)).toBeNull();
  });

  it('knows when a daytime window ends', () => {
    const lunch = parseQuietHours('12:00-14:00')!;
    expect(quietUntil(cst('2026-03-01T11:59:00'), lunch)).toBeNull();
    expect(quietUntil(cst('2026-03-01T12:00:00'), lunch)).toEqual(cst('2026-03-01T14:00:00'));
    expect(quietUntil(cst('2026-03-01T14:00:00'), lunch)).toBeNull();
  });

  it('opens the next China day after its quiet hours (UTC dates differ from China dates)', () => {
    // 2026-03-01 17:00 UTC is already 2026-03-02 01:00 in China.
    expect(nextDayOpening(new Date('2026-03-01T17:00:00Z'), night)).toEqual(cst('2026-03-03T08:00:00'));
    expect(nextDayOpening(cst('2026-03-01T10:00:00'), night)).toEqual(cst('2026-03-02T08:00:00'));
    expect(nextDayOpening(cst('2026-03-01T10:00:00'), null)).toEqual(cst('2026-03-02T00:00:00'));
  });
});

describe('retry backoff', () => {
  it('doubles from the base and stops at the ceiling', () => {
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(a, 1_000, 10_000))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000,
    ]);
    expect(retryDelayMs(1_000, 1_000, 10_000)).toBe(10_000);
  });
});
