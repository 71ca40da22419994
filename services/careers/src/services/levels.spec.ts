import { levelRank, parseLevel } from './levels';

describe('skill levels', () => {
  it.each([
    ['LEVEL_4', 'LEVEL_4'],
    ['level_2', 'LEVEL_2'],
    ['3', 'LEVEL_3'],
    ['五级', 'LEVEL_5'],
    ['初级工', 'LEVEL_5'],
    ['四级/中级工', 'LEVEL_4'],
    ['中级', 'LEVEL_4'],
    ['三级', 'LEVEL_3'],
    ['高级工', 'LEVEL_3'],
    ['二级/技师', 'LEVEL_2'],
    ['技师', 'LEVEL_2'],
    ['高级技师', 'LEVEL_1'],
    ['一级/高级技师', 'LEVEL_1'],
  ])('reads %s as %s', (text, level) => {
    expect(parseLevel(text)).toBe(level);
  });

  it('reads nothing into empty or unknown text', () => {
    for (const text of ['', '  ', null, undefined, '6', 'LEVEL_6', '专家'])
      expect(parseLevel(text)).toBeNull();
  });

  it('ranks level 1 (高级技师) highest', () => {
    expect(levelRank('LEVEL_1')).toBeGreaterThan(levelRank('LEVEL_2'));
    expect(levelRank('LEVEL_5')).toBe(1);
  });
});
