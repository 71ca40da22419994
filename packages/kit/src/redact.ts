/**
 * Scrubs personal data out of free text before it reaches logs: national ID numbers, mainland mobile
 * numbers and voucher codes. Structured fields are redacted by path in the logger; this catches the
 * rest (error messages, SQL parameters echoed by drivers, request bodies).
 */
const ID_NUMBER = /(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])/g;
const ID_NUMBER_15 = /(?<![0-9A-Za-z])(\d{6})\d{6}(\d{3})(?![0-9A-Za-z])/g;
const MOBILE = /(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)/g;
/** Voucher codes: four groups of four Crockford base32 characters. */
const VOUCHER_CODE =
  /\b([0-9A-HJKMNP-TV-Z]{4})-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b/g;

export function scrubText(text: string): string {
  return text
    .replace(ID_NUMBER, '$1********$2')
    .replace(ID_NUMBER_15, '$1******$2')
    .replace(MOBILE, '$1****$2')
    .replace(VOUCHER_CODE, '$1-****-****-****');
}

export function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return {
      type: value.name,
      message: scrubText(value.message),
      stack: value.stack && scrubText(value.stack),
    };
  }
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v, depth + 1);
  return out;
}
