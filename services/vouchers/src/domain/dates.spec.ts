import { chinaDate, chinaYear, endOfChinaDay } from './dates';

describe('China calendar days', () => {
  it('ends a validity date at midnight China time and finds the China date of an instant', () => {
    expect(endOfChinaDay('2021-12-20').toISOString()).toBe('2021-12-20T16:00:00.000Z');
    expect(chinaDate(new Date('2021-12-31T16:30:00Z'))).toBe('2022-01-01');
    expect(chinaYear(2021)).toEqual({
      start: new Date('2020-12-31T16:00:00.000Z'),
      end: new Date('2021-12-31T16:00:00.000Z'),
    });
  });
});
