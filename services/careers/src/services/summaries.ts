import type { CertificateKind, SkillLevel } from '../data/entities';
import { KIND_LABEL, LEVEL_SHORT } from './levels';

const YUAN = new Intl.NumberFormat('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** 123456 fen → "1,234.56 元". */
export function yuan(fen: number): string {
  return `${YUAN.format(fen / 100)} 元`;
}

/** 8500 basis points → "85.00%". */
export function percent(bp: number): string {
  return `${(bp / 100).toFixed(2)}%`;
}

/** "电工（四级）" or "电工". */
export function occupationWithLevel(occupation: string, level: SkillLevel | null): string {
  return level ? `${occupation}（${LEVEL_SHORT[level]}）` : occupation;
}

export function certificateSummary(c: {
  kind: CertificateKind;
  occupation: string;
  level: SkillLevel | null;
  issuer: string;
}): string {
  return `取得${KIND_LABEL[c.kind]}：${occupationWithLevel(c.occupation, c.level)}，发证机构：${c.issuer}`;
}

/** Why a posting is recommended, e.g. "matches your 电工 四级 certificate". */
export function explanation(basis: {
  basisKind: 'CERTIFICATE' | 'TRAINING';
  basisOccupation: string;
  basisLevel: SkillLevel | null;
}): string {
  const what = basis.basisLevel
    ? `${basis.basisOccupation} ${LEVEL_SHORT[basis.basisLevel]}`
    : basis.basisOccupation;
  return basis.basisKind === 'CERTIFICATE'
    ? `matches your ${what} certificate`
    : `matches your completed ${what} training`;
}

/** Quotes a CSV field when it needs it (RFC 4180), and defuses spreadsheet formulas. */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s) && typeof value === 'string') s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
