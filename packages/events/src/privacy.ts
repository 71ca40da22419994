/**
 * Privacy scanner for events. Events reference people by opaque id only (CONTRIBUTING: "Events never carry
 * names, ID numbers, phones or voucher codes"); this module finds the four kinds of personal data that
 * must never appear, in three places:
 *
 * - the *contracts* (`contractFindings`): field names that announce personal data (`id_number`, `phone`,
 *   `holder_name`, `voucher_code` …) fail unless explicitly allow-listed with a reason;
 * - *any text* (`findInText`): valid GB 11643 ID numbers (check digit), mainland mobile numbers and voucher
 *   codes (four groups of four Crockford base32 characters), after NFKC normalisation so full-width digits
 *   and letters are caught too;
 * - *events* (`scanEvent`): every string and integer in the payload, found by walking the protobuf wire
 *   format without a schema (so unknown types and unknown fields are covered), plus the key and every
 *   header; with the schema (registry), Chinese personal names in fields whose name says they hold a
 *   person's name (`name`, `holder`, `*_name` …). Names are only looked for there: a surname list over free
 *   Chinese text flags ordinary words (王, 高, 金 …), so a free-text match would be noise, not a finding.
 *
 * Findings carry a masked excerpt only; the scanner never repeats the data it found.
 */
import { fromBinary, toJson, type DescMessage, type JsonValue } from '@bufbuild/protobuf';

export type FindingKind = 'id-number' | 'mobile' | 'voucher-code' | 'personal-name' | 'personal-field';

export interface Finding {
  kind: FindingKind;
  /** Where: a JSON path (`$.holderName`), a wire path (`#4`), `key` or `header:<name>`. */
  where: string;
  /** Masked: enough to find it, never the whole value. */
  excerpt: string;
}

// ------------------------------------------------------------------ text

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** GB 11643-1999 citizen identity number: 17 digits and a MOD 11-2 check character. */
export function isValidIdNumber(id: string): boolean {
  if (!/^\d{17}[\dX]$/i.test(id)) return false;
  const sum = ID_WEIGHTS.reduce((acc, w, i) => acc + w * Number(id[i]), 0);
  return ID_CHECK[sum % 11] === id[17]!.toUpperCase();
}

/** Crockford base32 data characters (no I, L, O, U). */
const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]+$/;

/**
 * A voucher code as a person could type it: four groups of four, Crockford decoding rules (case-insensitive,
 * I/L read as 1, O as 0). U is not a Crockford character, so a group containing U is not a code.
 */
export function isVoucherCode(text: string): boolean {
  const groups = text.split('-');
  if (groups.length !== 4 || groups.some((g) => g.length !== 4)) return false;
  const canonical = groups.join('').toUpperCase().replace(/[IL]/g, '1').replace(/O/g, '0');
  return CROCKFORD.test(canonical);
}

const ALNUM_BEFORE = '(?<![0-9A-Za-z])';
const ALNUM_AFTER = '(?![0-9A-Za-z])';
const ID_RE = new RegExp(`${ALNUM_BEFORE}\\d{17}[\\dXx]${ALNUM_AFTER}`, 'g');
/** 11 digits 1[3-9]…, optionally +86 / 86 in front and 3-4-4 grouping with spaces or hyphens. */
const MOBILE_RE = new RegExp(`${ALNUM_BEFORE}(?:\\+?86[ -]?)?1[3-9]\\d(?:[ -]?\\d{4}){2}${ALNUM_AFTER}`, 'g');
const CODE_RE = /(?<![0-9A-Za-z-])[0-9A-Za-z]{4}(?:-[0-9A-Za-z]{4}){3}(?![0-9A-Za-z-])/g;
/** The same code written without hyphens, upper case only (lower-case hex ids and trace ids stay out). */
const COMPACT_CODE_RE =
  /(?<![0-9A-Za-z])(?=[0-9A-Z]*[A-Z])(?=[0-9A-Z]*[0-9])[0-9A-HJKMNP-TV-Z]{16}(?![0-9A-Za-z])/g;

function mask(value: string, keep = 3): string {
  return `${value.slice(0, keep)}…(${value.length})`;
}

/** ID numbers, mobile numbers and voucher codes anywhere in `text`. */
export function findInText(text: string, where = '$'): Finding[] {
  const t = text.normalize('NFKC');
  const found: Finding[] = [];
  for (const m of t.matchAll(ID_RE))
    if (isValidIdNumber(m[0])) found.push({ kind: 'id-number', where, excerpt: mask(m[0], 4) });
  for (const m of t.matchAll(MOBILE_RE)) found.push({ kind: 'mobile', where, excerpt: mask(m[0]) });
  for (const m of t.matchAll(CODE_RE))
    if (isVoucherCode(m[0])) found.push({ kind: 'voucher-code', where, excerpt: mask(m[0], 4) });
  for (const m of t.matchAll(COMPACT_CODE_RE))
    found.push({ kind: 'voucher-code', where, excerpt: mask(m[0], 4) });
  return found;
}

// ------------------------------------------------------------------ names

/** The most common single-character surnames (about 85 % of the population) and the compound ones. */
const SURNAMES = new Set(
  (
    '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈' +
    '姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤' +
    '常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍' +
    '涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景' +
    '党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝'
  ).split(''),
);
const COMPOUND_SURNAMES = [
  '欧阳',
  '司马',
  '上官',
  '诸葛',
  '东方',
  '皇甫',
  '尉迟',
  '公孙',
  '慕容',
  '令狐',
  '长孙',
  '宇文',
  '司徒',
  '夏侯',
  '轩辕',
  '端木',
  '独孤',
  '南宫',
  '西门',
  '百里',
];

/**
 * Shape of a Chinese personal name: a known surname followed by one to three Han characters (two to four
 * in all; five with a compound surname), or a transcribed minority or foreign name with a middle dot
 * (阿卜杜·热合曼). Class, institution and occupation names are longer or carry other characters.
 */
export function looksLikePersonalName(value: string): boolean {
  const v = value.normalize('NFKC').trim();
  if (/^[\u4e00-\u9fff]{1,10}[·•・‧][\u4e00-\u9fff]{1,10}$/.test(v)) return true;
  if (!/^[\u4e00-\u9fff]{2,5}$/.test(v)) return false;
  const compound = COMPOUND_SURNAMES.some((s) => v.startsWith(s));
  if (compound) return v.length >= 3;
  return v.length <= 4 && SURNAMES.has(v[0]!);
}

function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/**
 * Field names that hold a person's name: `name`, `holder`, `*_name` of a person-like role, `holder` etc.
 * Ids (`*_id`, `*_ids`) are opaque references and are not name fields.
 */
export function isNameField(field: string): boolean {
  const f = snake(field);
  if (/(^|_)ids?$/.test(f)) return false;
  return /(^|_)(names?|holder|trainee|applicant|contact|payee|recipient|signer|teacher|student|person)(_|$)/.test(
    f,
  );
}

// ------------------------------------------------------------------ contracts

/** Reviewed exceptions to the field-name rules, with the reason. Keys: `<message full name>.<field>`. */
export const ALLOWED_FIELDS: Record<string, string> = {
  'vtv.training.v1.ClassPlanApproved.name':
    "the class plan's title (e.g. 数控车工初级班), not a person's name",
  'vtv.vouchers.v1.VoucherTemplatePublished.name': "the voucher template's title, not a person's name",
};

const PERSONAL_FIELD_RULES: { re: RegExp; what: string }[] = [
  { re: /id_?(card|number|no)|identity_?(card|number|no)|citizen_?id|(^|_)sfz/, what: 'an ID number' },
  { re: /phone|mobile|(^|_)tel(ephone)?(_|$)/, what: 'a phone number' },
  { re: /(^|_)(voucher_)?code$|(^|_)qr(_|$)|token|secret|password/, what: 'a voucher code or secret' },
  { re: /(^|_)names?$/, what: 'a name' },
  {
    re: /e_?mail|(^|_)address$|bank_?(card|account)|birth_?date|date_of_birth|(^|_)dob$/,
    what: 'contact data',
  },
];
/** Allowed everywhere: GB/T 2260 region codes (`region_code`, `budget_region_code` …) are not personal. */
const ALLOWED_FIELD_NAME = /(^|_)region_code$/;

/** Fields of the event contracts whose names say they hold personal data (schema-level check). */
export function contractFindings(schemas: DescMessage[]): Finding[] {
  const found: Finding[] = [];
  const seen = new Set<string>();
  const visit = (m: DescMessage) => {
    if (seen.has(m.typeName)) return;
    seen.add(m.typeName);
    for (const field of m.fields) {
      const path = `${m.typeName}.${field.name}`;
      if (!ALLOWED_FIELD_NAME.test(field.name) && !(path in ALLOWED_FIELDS)) {
        const rule = PERSONAL_FIELD_RULES.find((r) => r.re.test(field.name));
        if (rule) found.push({ kind: 'personal-field', where: path, excerpt: `looks like ${rule.what}` });
      }
      if (field.message && !field.message.typeName.startsWith('google.protobuf.')) visit(field.message);
    }
  };
  schemas.forEach(visit);
  return found;
}

// ------------------------------------------------------------------ events

/** A schema-less walk of protobuf wire data: every string and integer with its field-number path. */
export function wireValues(data: Uint8Array, path = '#', depth = 0): { where: string; text: string }[] {
  const out: { where: string; text: string }[] = [];
  const nested = parseMessage(data, path, depth, out);
  if (!nested) out.push({ where: path, text: Buffer.from(data).toString('utf8') });
  return out;
}

/** Parses `data` as a message; false (and nothing added) when it is not one. */
function parseMessage(
  data: Uint8Array,
  path: string,
  depth: number,
  out: { where: string; text: string }[],
): boolean {
  const local: { where: string; text: string }[] = [];
  let pos = 0;
  const varint = (): bigint | undefined => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= data.length) return undefined;
      const b = data[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    return undefined;
  };
  while (pos < data.length) {
    const tag = varint();
    if (tag === undefined) return false;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field === 0) return false;
    const where = path === '#' ? `#${field}` : `${path}.${field}`;
    if (wire === 0) {
      const v = varint();
      if (v === undefined) return false;
      local.push({ where, text: v.toString() });
      if (v >= 1n << 63n) local.push({ where, text: (v - (1n << 64n)).toString() });
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      if (pos + size > data.length) return false;
      const view = new DataView(data.buffer, data.byteOffset + pos, size);
      local.push({
        where,
        text: (size === 8 ? view.getBigUint64(0, true) : view.getUint32(0, true)).toString(),
      });
      pos += size;
    } else if (wire === 2) {
      const len = varint();
      if (len === undefined || pos + Number(len) > data.length) return false;
      const chunk = data.subarray(pos, pos + Number(len));
      pos += Number(len);
      // Both readings: a chunk can be a valid nested message and meant as text at the same time.
      local.push({ where, text: Buffer.from(chunk).toString('utf8') });
      if (depth < 8 && chunk.length > 0) parseMessage(chunk, where, depth + 1, local);
    } else {
      return false;
    }
  }
  out.push(...local);
  return true;
}

/** Visits every string in a JSON value with its path and the name of the field holding it. */
function walkJson(
  value: JsonValue,
  path: string,
  key: string,
  visit: (path: string, key: string, v: string) => void,
) {
  if (typeof value === 'string') visit(path, key, value);
  else if (Array.isArray(value)) value.forEach((v, i) => walkJson(v, `${path}[${i}]`, key, visit));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) walkJson(v, `${path}.${k}`, k, visit);
}

export interface ScannableEvent {
  type: string;
  key: string;
  data: Uint8Array;
  headers?: Record<string, string>;
}

/**
 * Personal data in one event: the payload's strings and integers (schema-less), the key, the headers, and
 * — when `schemaFor` knows the type — names in name fields.
 */
export function scanEvent(
  event: ScannableEvent,
  schemaFor?: (type: string) => DescMessage | undefined,
): Finding[] {
  const found: Finding[] = [];
  found.push(...findInText(event.key, 'key'));
  for (const [k, v] of Object.entries(event.headers ?? {})) found.push(...findInText(v, `header:${k}`));
  for (const { where, text } of wireValues(event.data)) found.push(...findInText(text, where));
  const schema = schemaFor?.(event.type);
  if (schema) {
    let json: JsonValue;
    try {
      json = toJson(schema, fromBinary(schema, event.data));
    } catch {
      return dedupe(found);
    }
    walkJson(json, '$', '', (path, key, text) => {
      if (isNameField(key) && looksLikePersonalName(text))
        found.push({ kind: 'personal-name', where: path, excerpt: `${text.slice(0, 1)}…(${text.length})` });
    });
  }
  return dedupe(found);
}

function dedupe(found: Finding[]): Finding[] {
  const seen = new Set<string>();
  return found.filter((f) => {
    const k = `${f.kind}|${f.where}|${f.excerpt}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
