import {
  idNumberCheckChar,
  isValidIdNumber,
  parseIdNumber,
  PROVINCE_CODES,
  requireIdNumber,
} from './id-number';
import { DomainError } from './errors';

/** A synthetic, valid number: address code + birth date + sequence, check character computed. */
function synthetic(address: string, birth: string, seq: string): string {
  const first17 = `${address}${birth}${seq}`;
  return first17 + idNumberCheckChar(first17);
}

const NOW = new Date('2025-06-01T00:00:00Z');
const WUHAN = synthetic('420102', '19900307', '123');

describe('idNumberCheckChar (ISO 7064 MOD 11-2)', () => {
  test('the example from GB 11643-1999', () => {
    expect(idNumberCheckChar('11010519491231002')).toBe('X');
  });
  test('every residue maps to its character', () => {
    const seen = new Set<string>();
    for (let seq = 0; seq < 200; seq += 1) {
      seen.add(idNumberCheckChar(`4104021985061${String(seq).padStart(4, '0')}`));
    }
    expect([...seen].sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X']);
  });
  test('refuses anything but 17 digits', () => {
    expect(() => idNumberCheckChar('1234')).toThrow();
  });
});

describe('parseIdNumber', () => {
  test('accepts a valid number and reads it', () => {
    const r = parseIdNumber(WUHAN, NOW);
    expect(r).toEqual({
      ok: true,
      idNumber: {
        value: WUHAN,
        addressCode: '420102',
        provinceCode: '42',
        birthDate: '1990-03-07',
        birthYear: 1990,
        sex: 'MALE',
      },
    });
  });

  test('normalises full-width digits, a lower-case x and surrounding spaces', () => {
    const withX = '11010519491231002X';
    const fullWidth = withX.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))).replace('X', 'ｘ');
    expect(parseIdNumber(` ${fullWidth}\u3000`, NOW)).toMatchObject({ ok: true, idNumber: { value: withX } });
    expect(parseIdNumber('11010519491231002x', NOW)).toMatchObject({ ok: true, idNumber: { value: withX } });
  });

  test.each([
    ['wrong check digit', WUHAN.slice(0, 17) + (WUHAN[17] === '0' ? '1' : '0'), 'ID_NUMBER_BAD_CHECK_DIGIT'],
    ['impossible date 19900230', synthetic('420102', '19900230', '123'), 'ID_NUMBER_BAD_BIRTH_DATE'],
    ['month 13', synthetic('420102', '19901301', '123'), 'ID_NUMBER_BAD_BIRTH_DATE'],
    ['29 February of a common year', synthetic('420102', '19010229', '123'), 'ID_NUMBER_BAD_BIRTH_DATE'],
    ['born in the future', synthetic('420102', '20300101', '123'), 'ID_NUMBER_BAD_BIRTH_DATE'],
    ['born before 1900', synthetic('420102', '18991231', '123'), 'ID_NUMBER_BAD_BIRTH_DATE'],
    ['17 characters', WUHAN.slice(0, 17), 'ID_NUMBER_WRONG_LENGTH'],
    ['19 characters', `${WUHAN}1`, 'ID_NUMBER_WRONG_LENGTH'],
    ['an old 15-digit number', '420102900307123', 'ID_NUMBER_WRONG_LENGTH'],
    ['empty', '', 'ID_NUMBER_WRONG_LENGTH'],
    ['a huge string', '4'.repeat(100_000), 'ID_NUMBER_WRONG_LENGTH'],
    ['letters inside', `42010219900307A23${WUHAN[17]}`, 'ID_NUMBER_BAD_CHARACTERS'],
    ['injection text', "4201'; DROP TABLE--", 'ID_NUMBER_WRONG_LENGTH'],
    ['province 00', synthetic('000000', '19900307', '123'), 'ID_NUMBER_UNKNOWN_REGION'],
    ['province 99', synthetic('990102', '19900307', '123'), 'ID_NUMBER_UNKNOWN_REGION'],
    ['province 20 (unused)', synthetic('200102', '19900307', '123'), 'ID_NUMBER_UNKNOWN_REGION'],
  ])('refuses %s', (_name, input, code) => {
    expect(parseIdNumber(input, NOW)).toMatchObject({ ok: false, code });
  });

  test('refuses non-strings without throwing', () => {
    expect(parseIdNumber(undefined)).toMatchObject({ ok: false });
    expect(parseIdNumber(4201021990)).toMatchObject({ ok: false });
  });

  test('every one of the 34 province codes is accepted', () => {
    expect(Object.keys(PROVINCE_CODES)).toHaveLength(34);
    for (const p of Object.keys(PROVINCE_CODES)) {
      expect(isValidIdNumber(synthetic(`${p}0102`, '19800101', '002'), NOW)).toBe(true);
    }
  });

  test('an even sequence digit is a woman', () => {
    expect(parseIdNumber(synthetic('410402', '20000229', '124'), NOW)).toMatchObject({
      ok: true,
      idNumber: { sex: 'FEMALE', birthDate: '2000-02-29' },
    });
  });
});

test('requireIdNumber throws a DomainError naming the field', () => {
  try {
    requireIdNumber('123', 'input.idNumber');
    throw new Error('expected a refusal');
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'ID_NUMBER_WRONG_LENGTH', field: 'input.idNumber' });
  }
});
