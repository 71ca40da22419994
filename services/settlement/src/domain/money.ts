import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { DomainError, ErrorCode } from '@vtv/kit';

/**
 * Money is integer fen (分). Inside the service amounts are bigint (exact, no overflow); the database keeps
 * them in BIGINT columns and the graph writes them as decimal strings (scalar Fen), since budgets exceed
 * GraphQL Int's 32 bits. Nothing in settlement ever holds a fractional or floating amount.
 */
export const MAX_FEN = BigInt(Number.MAX_SAFE_INTEGER);

const DIGITS = /^(0|[1-9][0-9]{0,15})$/;

/** Parses a fen amount from the wire: a string of digits or a JSON integer, 0…MAX_FEN. Null when invalid. */
export function parseFen(value: unknown): bigint | null {
  let n: bigint;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) return null;
    n = BigInt(value);
  } else if (typeof value === 'string') {
    if (!DIGITS.test(value)) return null;
    n = BigInt(value);
  } else if (typeof value === 'bigint') {
    n = value;
  } else return null;
  return n >= 0n && n <= MAX_FEN ? n : null;
}

/** A positive input amount no larger than `max`; BAD_USER_INPUT naming `field` otherwise. */
export function requireAmount(field: string, value: bigint, max: bigint = MAX_FEN): bigint {
  if (value <= 0n) throw new DomainError(ErrorCode.BAD_USER_INPUT, `${field} must be positive`, field);
  if (value > max)
    throw new DomainError('AMOUNT_OUT_OF_RANGE', `${field} must not exceed ${max.toString()} fen`, field);
  return value;
}

/** Reads a BIGINT / NUMERIC column (pg returns it as a string) exactly. */
export function fenFromDb(value: string | number | bigint | null | undefined): bigint | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`fen amount is not an exact integer: ${value}`);
    return BigInt(value);
  }
  if (!/^-?[0-9]+$/.test(value)) throw new Error(`fen amount is not an integer: ${value}`);
  return BigInt(value);
}

/** Sums amounts and refuses a total the ledger could not hold exactly. */
export function sumFen(amounts: Iterable<bigint>): bigint {
  let total = 0n;
  for (const a of amounts) total += a;
  if (total > MAX_FEN || total < -MAX_FEN)
    throw new DomainError('AMOUNT_OUT_OF_RANGE', 'The total exceeds the largest amount the ledger holds');
  return total;
}

export type FunctionMode = 'FACE_VALUE' | 'DEDUCTION';

/**
 * The amount rule (seed 000 §2, Art. 4, Art. 26; SPEC §6): a face-value voucher (面值券) earns the lower of
 * its face value and the approved standard; a deduction voucher (抵用券) earns the approved standard of the
 * matching rule. No standard, no amount: null (the line is flagged NO_SUBSIDY_STANDARD).
 */
export function lineAmount(
  mode: FunctionMode | null,
  faceValueFen: bigint | null,
  standardFen: bigint | null,
) {
  if (standardFen === null || standardFen <= 0n || mode === null) return null;
  if (mode === 'DEDUCTION') return standardFen;
  const face = faceValueFen ?? 0n;
  return face < standardFen ? face : standardFen;
}

function fenLiteralError(): GraphQLError {
  return new GraphQLError('Fen must be a non-negative integer amount of fen up to 9007199254740991', {
    extensions: { code: ErrorCode.BAD_USER_INPUT },
  });
}

export const FenScalar = new GraphQLScalarType({
  name: 'Fen',
  description: 'Integer fen (分) as a decimal string.',
  serialize(value) {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
    if (typeof value === 'string' && /^-?[0-9]+$/.test(value)) return value;
    throw new Error(`Not a fen amount: ${String(value)}`);
  },
  parseValue(value) {
    const n = parseFen(value);
    if (n === null) throw fenLiteralError();
    return n;
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT) {
      const n = parseFen(ast.value);
      if (n !== null) return n;
    }
    throw fenLiteralError();
  },
});
