/**
 * Synthetic personal data for demo data, the lifecycle test and the smoke run: national ID numbers with a
 * valid GB 11643 check character, mobile numbers, credit codes (USCC, GB 32100) and names. Never real
 * people: random sequence numbers under real region codes.
 */
import { randomInt } from 'node:crypto';
import { idNumberCheckChar } from '@vtv/kit';
import { creditCodeCheckChar } from '../../services/training/src/services/credit-code';

/** An 18-character ID number in `region` (6 digits), born on `birth` (YYYYMMDD) or a random adult date. */
export function syntheticIdNumber(region: string, birth?: string, seq?: number): string {
  const date =
    birth ??
    `${randomInt(1970, 2000)}${String(randomInt(1, 13)).padStart(2, '0')}${String(randomInt(1, 29)).padStart(2, '0')}`;
  const first17 = `${region}${date}${String(seq ?? randomInt(0, 1000)).padStart(3, '0')}`;
  return first17 + idNumberCheckChar(first17);
}

export function syntheticPhone(seq?: number): string {
  return `139${String(seq ?? randomInt(0, 100_000_000)).padStart(8, '0')}`;
}

/** A USCC (统一社会信用代码) for an organisation registered in `region`. */
export function syntheticCreditCode(region: string, seq?: number): string {
  const first17 = `52${region}${String(seq ?? randomInt(0, 1_000_000_000)).padStart(9, '0')}`;
  return first17 + creditCodeCheckChar(first17);
}

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '强', '磊', '军', '洋', '勇', '艳', '杰'];

export function syntheticName(seq?: number): string {
  const n = seq ?? randomInt(0, 10_000);
  return `${SURNAMES[n % SURNAMES.length]}${GIVEN[Math.floor(n / 10) % GIVEN.length]}${GIVEN[(n * 7) % GIVEN.length]}`;
}
