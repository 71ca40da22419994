import type { CertificateKind, SkillLevel } from '../data/entities';

/** National vocational skill levels (职业技能等级), entry level first. */
export const LEVEL_LABEL: Record<SkillLevel, string> = {
  LEVEL_5: '五级/初级工',
  LEVEL_4: '四级/中级工',
  LEVEL_3: '三级/高级工',
  LEVEL_2: '二级/技师',
  LEVEL_1: '一级/高级技师',
};

/** The short form used in sentences ("电工 四级"). */
export const LEVEL_SHORT: Record<SkillLevel, string> = {
  LEVEL_5: '五级',
  LEVEL_4: '四级',
  LEVEL_3: '三级',
  LEVEL_2: '二级',
  LEVEL_1: '一级',
};

export const KIND_LABEL: Record<CertificateKind, string> = {
  TRAINING: '培训合格证书',
  VOCATIONAL_QUALIFICATION: '职业资格证书',
  SKILL_LEVEL: '职业技能等级证书',
};

/** 1 for LEVEL_5 (entry) … 5 for LEVEL_1 (highest): higher is better. */
export function levelRank(level: SkillLevel): number {
  return 6 - Number(level.slice(-1));
}

const ENUM_RE = /^LEVEL_([1-5])$/;

/**
 * Reads a level as other domains write it ("LEVEL_4", "4", "四级", "中级工", "四级/中级工", "高级技师").
 * Null when it names none.
 */
export function parseLevel(text: string | null | undefined): SkillLevel | null {
  const t = (text ?? '').trim().toUpperCase();
  if (!t) return null;
  const byEnum = ENUM_RE.exec(t);
  if (byEnum) return `LEVEL_${byEnum[1]}` as SkillLevel;
  if (/^[1-5]$/.test(t)) return `LEVEL_${t}` as SkillLevel;
  const rules: [RegExp, SkillLevel][] = [
    [/高级技师|一级/, 'LEVEL_1'],
    [/二级/, 'LEVEL_2'],
    [/三级/, 'LEVEL_3'],
    [/四级/, 'LEVEL_4'],
    [/五级/, 'LEVEL_5'],
    [/技师/, 'LEVEL_2'],
    [/高级/, 'LEVEL_3'],
    [/中级/, 'LEVEL_4'],
    [/初级/, 'LEVEL_5'],
  ];
  return rules.find(([re]) => re.test(t))?.[1] ?? null;
}
