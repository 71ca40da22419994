/**
 * Fails when a log file contains a full national ID number (valid GB 11643 check digit) or a
 * full mainland mobile number. Run over the whole test output by the test command.
 */
import { readFileSync } from 'node:fs';

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

export function isValidIdNumber(id: string): boolean {
  if (!/^\d{17}[\dX]$/i.test(id)) return false;
  const sum = WEIGHTS.reduce((acc, w, i) => acc + w * Number(id[i]), 0);
  return CHECK[sum % 11] === id[17]!.toUpperCase();
}

export function findPersonalData(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g)) {
    if (isValidIdNumber(m[0])) found.push(`ID number ${m[0].slice(0, 4)}…`);
  }
  for (const m of text.matchAll(/(?<![\d.])1[3-9]\d{9}(?![\d.])/g)) found.push(`mobile ${m[0].slice(0, 3)}…`);
  return found;
}

if (require.main === module) {
  const files = process.argv.slice(2);
  let bad = 0;
  for (const file of files) {
    const hits = findPersonalData(readFileSync(file, 'utf8'));
    for (const h of hits) console.error(`${file}: ${h}`);
    bad += hits.length;
  }
  if (bad > 0) {
    console.error(`personal data found in logs: ${bad} occurrence(s)`);
    process.exit(1);
  }
  console.log(`no personal data in ${files.length} log file(s)`);
}
