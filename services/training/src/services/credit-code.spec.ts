import { creditCodeCheckChar, normaliseCreditCode } from './credit-code';

describe('unified social credit code', () => {
  const valid = `91420100MA4K${'0000'}0`.slice(0, 17);
  const code = valid + creditCodeCheckChar(valid);

  it('accepts a code whose check character matches, after upper-casing', () => {
    expect(normaliseCreditCode(code.toLowerCase())).toBe(code);
  });

  it('accepts a published real-world code', () => {
    // Tencent's Shenzhen entity, as printed on its business licence.
    expect(normaliseCreditCode('9144030071526726XG')).toBe('9144030071526726XG');
  });

  it('refuses a wrong check character, wrong length and letters outside the alphabet', () => {
    const wrong = code.slice(0, 17) + (code[17] === '0' ? '1' : '0');
    expect(normaliseCreditCode(wrong)).toBeNull();
    expect(normaliseCreditCode(code.slice(0, 17))).toBeNull();
    expect(normaliseCreditCode(`${code.slice(0, 16)}I${code[17]}`)).toBeNull();
  });
});
