import { Kind } from 'graphql';
import { FenScalar, MAX_FEN, lineAmount, parseFen, requireAmount, sumFen } from './money';

describe('amount rule (seed 000 §2, Art. 4, Art. 26)', () => {
  it('pays a face-value voucher the lower of its face value and the approved standard', () => {
    expect(lineAmount('FACE_VALUE', 150_000n, 200_000n)).toBe(150_000n);
    expect(lineAmount('FACE_VALUE', 300_000n, 200_000n)).toBe(200_000n);
    expect(lineAmount('FACE_VALUE', 200_000n, 200_000n)).toBe(200_000n);
  });

  it('pays a deduction voucher the approved standard, whatever it carries', () => {
    expect(lineAmount('DEDUCTION', 0n, 180_000n)).toBe(180_000n);
    expect(lineAmount('DEDUCTION', null, 180_000n)).toBe(180_000n);
  });

  it('pays nothing without a standard or a known voucher', () => {
    expect(lineAmount('FACE_VALUE', 150_000n, null)).toBeNull();
    expect(lineAmount('DEDUCTION', 0n, null)).toBeNull();
    expect(lineAmount(null, 150_000n, 200_000n)).toBeNull();
    expect(lineAmount('FACE_VALUE', null, 200_000n)).toBe(0n);
  });
});

describe('fen amounts', () => {
  it('parses integers and digit strings, refusing fractions, signs, exponents and overflow', () => {
    expect(parseFen('0')).toBe(0n);
    expect(parseFen('123456')).toBe(123_456n);
    expect(parseFen(42)).toBe(42n);
    expect(parseFen(String(MAX_FEN))).toBe(MAX_FEN);
    for (const bad of ['1.5', '-1', '1e5', '0x10', ' 1', '01', '', '9007199254740992', '99999999999999999'])
      expect(parseFen(bad)).toBeNull();
    for (const bad of [1.5, -1, Number.MAX_SAFE_INTEGER + 1, NaN, Infinity, null, undefined, {}, true])
      expect(parseFen(bad)).toBeNull();
  });

  it('requires positive amounts within a bound', () => {
    expect(requireAmount('amountFen', 1n)).toBe(1n);
    expect(() => requireAmount('amountFen', 0n)).toThrow(/positive/);
    expect(() => requireAmount('amountFen', 101n, 100n)).toThrow(
      expect.objectContaining({ code: 'AMOUNT_OUT_OF_RANGE' }),
    );
  });

  it('sums exactly and refuses a total the ledger cannot hold', () => {
    expect(sumFen([1n, 2n, 3n])).toBe(6n);
    expect(sumFen(Array.from({ length: 10_000 }, () => 300_000n))).toBe(3_000_000_000n);
    expect(() => sumFen([MAX_FEN, 1n])).toThrow(expect.objectContaining({ code: 'AMOUNT_OUT_OF_RANGE' }));
  });

  it('is a GraphQL scalar written as a string', () => {
    expect(FenScalar.serialize(3_000_000_000n)).toBe('3000000000');
    expect(FenScalar.serialize(-5n)).toBe('-5');
    expect(FenScalar.parseValue('100')).toBe(100n);
    expect(FenScalar.parseValue(100)).toBe(100n);
    expect(() => FenScalar.parseValue(1.5)).toThrow(/Fen/);
    expect(() => FenScalar.parseValue('-3')).toThrow(/Fen/);
    expect(FenScalar.parseLiteral({ kind: Kind.STRING, value: '7' })).toBe(7n);
    expect(FenScalar.parseLiteral({ kind: Kind.INT, value: '7' })).toBe(7n);
    expect(() => FenScalar.parseLiteral({ kind: Kind.FLOAT, value: '7.5' })).toThrow(/Fen/);
  });
});
