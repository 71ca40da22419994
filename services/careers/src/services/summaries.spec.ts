import { csvField, explanation, percent, yuan } from './summaries';

describe('summaries', () => {
  it('explains recommendations in the words people know', () => {
    expect(explanation({ basisKind: 'CERTIFICATE', basisOccupation: '电工', basisLevel: 'LEVEL_4' })).toBe(
      'matches your 电工 四级 certificate',
    );
    expect(explanation({ basisKind: 'CERTIFICATE', basisOccupation: '育婴员', basisLevel: null })).toBe(
      'matches your 育婴员 certificate',
    );
    expect(explanation({ basisKind: 'TRAINING', basisOccupation: '焊工', basisLevel: null })).toBe(
      'matches your completed 焊工 training',
    );
  });

  it('formats money and rates', () => {
    expect(yuan(123_456)).toBe('1,234.56 元');
    expect(yuan(0)).toBe('0.00 元');
    expect(percent(9_550)).toBe('95.50%');
  });

  it('quotes CSV fields and defuses formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField(null)).toBe('');
    expect(csvField(-5)).toBe('-5');
    expect(csvField(true)).toBe('true');
  });
});
