/**
 * Resident identity card numbers (公民身份号码, GB 11643-1999): 6-digit address code (GB/T 2260), 8-digit
 * birth date, 3-digit sequence (odd for men, even for women) and a check character computed with
 * ISO 7064 MOD 11-2. A pure module: services validate input with it and tests generate synthetic,
 * valid numbers with `idNumberCheckChar`.
 */
import { DomainError } from './errors';

/** The 34 province-level divisions of GB/T 2260 (first two digits of every address code). */
export const PROVINCE_CODES: Readonly<Record<string, string>> = Object.freeze({
  '11': '北京市',
  '12': '天津市',
  '13': '河北省',
  '14': '山西省',
  '15': '内蒙古自治区',
  '21': '辽宁省',
  '22': '吉林省',
  '23': '黑龙江省',
  '31': '上海市',
  '32': '江苏省',
  '33': '浙江省',
  '34': '安徽省',
  '35': '福建省',
  '36': '江西省',
  '37': '山东省',
  '41': '河南省',
  '42': '湖北省',
  '43': '湖南省',
  '44': '广东省',
  '45': '广西壮族自治区',
  '46': '海南省',
  '50': '重庆市',
  '51': '四川省',
  '52': '贵州省',
  '53': '云南省',
  '54': '西藏自治区',
  '61': '陕西省',
  '62': '甘肃省',
  '63': '青海省',
  '64': '宁夏回族自治区',
  '65': '新疆维吾尔自治区',
  '71': '台湾省',
  '81': '香港特别行政区',
  '82': '澳门特别行政区',
});

/** Why an ID number was refused; each is a documented error code. */
export const IdNumberError = {
  WRONG_LENGTH: 'ID_NUMBER_WRONG_LENGTH',
  BAD_CHARACTERS: 'ID_NUMBER_BAD_CHARACTERS',
  UNKNOWN_REGION: 'ID_NUMBER_UNKNOWN_REGION',
  BAD_BIRTH_DATE: 'ID_NUMBER_BAD_BIRTH_DATE',
  BAD_CHECK_DIGIT: 'ID_NUMBER_BAD_CHECK_DIGIT',
} as const;
export type IdNumberErrorCode = (typeof IdNumberError)[keyof typeof IdNumberError];

const MESSAGES: Record<IdNumberErrorCode, string> = {
  ID_NUMBER_WRONG_LENGTH: 'The ID number must have 18 characters',
  ID_NUMBER_BAD_CHARACTERS: 'The ID number must be 17 digits followed by a digit or X',
  ID_NUMBER_UNKNOWN_REGION: 'The ID number does not start with a known province code',
  ID_NUMBER_BAD_BIRTH_DATE: 'The ID number does not contain a possible birth date',
  ID_NUMBER_BAD_CHECK_DIGIT: 'The ID number check digit is wrong; please re-check the number',
};

export interface ParsedIdNumber {
  /** Normalised: ASCII digits and an upper-case X. */
  value: string;
  /** Address code of the place of first registration (GB/T 2260). */
  addressCode: string;
  provinceCode: string;
  /** YYYY-MM-DD. */
  birthDate: string;
  birthYear: number;
  sex: 'MALE' | 'FEMALE';
}

export type IdNumberResult =
  { ok: true; idNumber: ParsedIdNumber } | { ok: false; code: IdNumberErrorCode; message: string };

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';
/** Refuse absurd input before doing any work on it. */
const MAX_RAW_LENGTH = 64;

/** ISO 7064 MOD 11-2 check character for the first 17 digits. */
export function idNumberCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new Error('idNumberCheckChar needs exactly 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

/**
 * Full-width digits and letters become ASCII (NFKC), whitespace goes, a lower-case x becomes X.
 * Does not validate.
 */
export function normaliseIdNumber(raw: string): string {
  return raw.normalize('NFKC').replace(/\s+/g, '').toUpperCase();
}

function birthDateOf(digits8: string, now: Date): string | null {
  const y = Number(digits8.slice(0, 4));
  const m = Number(digits8.slice(4, 6));
  const d = Number(digits8.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  if (y < 1900 || date.getTime() > now.getTime()) return null;
  return `${digits8.slice(0, 4)}-${digits8.slice(4, 6)}-${digits8.slice(6, 8)}`;
}

/** Validates and normalises an ID number; never throws. */
export function parseIdNumber(raw: unknown, now: Date = new Date()): IdNumberResult {
  const fail = (code: IdNumberErrorCode): IdNumberResult => ({ ok: false, code, message: MESSAGES[code] });
  if (typeof raw !== 'string' || raw.length > MAX_RAW_LENGTH) return fail(IdNumberError.WRONG_LENGTH);
  const value = normaliseIdNumber(raw);
  if (value.length !== 18) return fail(IdNumberError.WRONG_LENGTH);
  if (!/^\d{17}[\dX]$/.test(value)) return fail(IdNumberError.BAD_CHARACTERS);
  const provinceCode = value.slice(0, 2);
  if (!(provinceCode in PROVINCE_CODES)) return fail(IdNumberError.UNKNOWN_REGION);
  const birthDate = birthDateOf(value.slice(6, 14), now);
  if (!birthDate) return fail(IdNumberError.BAD_BIRTH_DATE);
  if (idNumberCheckChar(value.slice(0, 17)) !== value[17]) return fail(IdNumberError.BAD_CHECK_DIGIT);
  return {
    ok: true,
    idNumber: {
      value,
      addressCode: value.slice(0, 6),
      provinceCode,
      birthDate,
      birthYear: Number(birthDate.slice(0, 4)),
      sex: Number(value[16]) % 2 === 1 ? 'MALE' : 'FEMALE',
    },
  };
}

export function isValidIdNumber(raw: unknown, now?: Date): boolean {
  return parseIdNumber(raw, now).ok;
}

/** parseIdNumber for service code: a DomainError naming the field and the reason on failure. */
export function requireIdNumber(raw: unknown, field = 'idNumber', now?: Date): ParsedIdNumber {
  const result = parseIdNumber(raw, now);
  if (!result.ok) throw new DomainError(result.code, result.message, field);
  return result.idNumber;
}
