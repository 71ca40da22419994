/**
 * GB/T 2260 administrative-division codes: 2 digits province, 2 city, 2 county. A region's subtree is
 * every code sharing its significant prefix (410000 → "41", 410400 → "4104", 410402 → "410402").
 */
const CODE_RE = /^\d{6}$/;

export function isRegionCode(code: string): boolean {
  return CODE_RE.test(code) && code !== '000000';
}

export function regionPrefix(code: string): string {
  if (code.endsWith('0000')) return code.slice(0, 2);
  if (code.endsWith('00')) return code.slice(0, 4);
  return code;
}

export function regionLevel(code: string): 'PROVINCE' | 'CITY' | 'COUNTY' {
  if (code.endsWith('0000')) return 'PROVINCE';
  if (code.endsWith('00')) return 'CITY';
  return 'COUNTY';
}

/** True when `code` lies in the subtree rooted at `root` (a region is inside its own subtree). */
export function inRegion(root: string, code: string): boolean {
  return code.startsWith(regionPrefix(root));
}

/** The parent code: county → city, city → province, province → null. */
export function parentRegion(code: string): string | null {
  const level = regionLevel(code);
  if (level === 'PROVINCE') return null;
  if (level === 'CITY') return `${code.slice(0, 2)}0000`;
  return `${code.slice(0, 4)}00`;
}
