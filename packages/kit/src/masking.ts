/**
 * Masked display of personal data (脱敏): what lists and most screens show instead of the real value.
 * Pure functions; the full value is shown only through an audited reveal.
 */

/** Two-character surnames (复姓), kept whole when masking a name. */
const COMPOUND_SURNAMES = new Set([
  '欧阳',
  '司马',
  '上官',
  '诸葛',
  '东方',
  '皇甫',
  '尉迟',
  '公孙',
  '慕容',
  '长孙',
  '宇文',
  '司徒',
  '司空',
  '令狐',
  '夏侯',
  '轩辕',
  '端木',
  '西门',
  '南宫',
  '独孤',
  '澹台',
  '公冶',
  '宗政',
  '濮阳',
  '太叔',
  '申屠',
  '钟离',
  '闻人',
  '赫连',
  '呼延',
  '万俟',
  '百里',
  '东郭',
  '鲜于',
  '闾丘',
  '拓跋',
  '谷梁',
  '第五',
  '梁丘',
  '左丘',
  '巫马',
  '公西',
  '漆雕',
  '乐正',
  '公良',
  '段干',
  '东门',
]);

/** `420102199001011234` → `4201**********1234`: the first and last four characters remain. */
export function maskIdNumber(idNumber: string): string {
  const chars = Array.from(idNumber);
  if (chars.length <= 8) return '*'.repeat(chars.length);
  return `${chars.slice(0, 4).join('')}${'*'.repeat(chars.length - 8)}${chars.slice(-4).join('')}`;
}

/** `张三` → `张*`, `欧阳娜娜` → `欧阳**`: the surname remains, every other character is a star. */
export function maskName(name: string): string {
  const chars = Array.from(name.trim());
  if (chars.length <= 1) return '*'.repeat(chars.length);
  const keep = chars.length > 2 && COMPOUND_SURNAMES.has(chars.slice(0, 2).join('')) ? 2 : 1;
  return `${chars.slice(0, keep).join('')}${'*'.repeat(chars.length - keep)}`;
}

/** `13812345678` → `138****5678`. */
export function maskPhone(phone: string): string {
  const chars = Array.from(phone);
  if (chars.length <= 7) return '*'.repeat(chars.length);
  return `${chars.slice(0, 3).join('')}${'*'.repeat(chars.length - 7)}${chars.slice(-4).join('')}`;
}
