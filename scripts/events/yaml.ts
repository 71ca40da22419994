/**
 * A small deterministic YAML writer for JSON-shaped data (objects, arrays, strings, numbers, booleans,
 * null): block style, keys in insertion order, strings quoted only when plain style could be misread.
 * Enough for generated documents; not a general YAML library.
 */
type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

const RESERVED =
  /^(true|false|yes|no|on|off|y|n|null|~|[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?|\.inf|\.nan|0x[0-9a-f]+|0o[0-7]+)$/i;

function plainOk(s: string): boolean {
  if (s === '' || s !== s.trim() || RESERVED.test(s)) return false;
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(s)) return false;
  if (/: |:$| #|[\n\r\t\\]/.test(s)) return false;
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u001f\u007f]/.test(s);
}

function scalar(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return plainOk(v) ? v : JSON.stringify(v);
}

function key(k: string): string {
  return plainOk(k) ? k : JSON.stringify(k);
}

function isEmpty(v: Json): boolean {
  return Array.isArray(v)
    ? v.length === 0
    : typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

function block(v: Json, indent: string): string[] {
  if (Array.isArray(v)) {
    return v.flatMap((item) => {
      if (item !== null && typeof item === 'object' && !isEmpty(item)) {
        const [first, ...rest] = block(item, `${indent}  `);
        return [`${indent}- ${first!.trimStart()}`, ...rest];
      }
      return [`${indent}- ${inline(item, `${indent}  `)}`];
    });
  }
  if (v !== null && typeof v === 'object') {
    return Object.entries(v).flatMap(([k, item]) => {
      if (item !== null && typeof item === 'object' && !isEmpty(item))
        return [`${indent}${key(k)}:`, ...block(item, `${indent}  `)];
      return [`${indent}${key(k)}: ${inline(item, `${indent}  `)}`];
    });
  }
  return [`${indent}${scalar(v)}`];
}

function inline(v: Json, indent: string): string {
  if (Array.isArray(v)) return '[]';
  if (v !== null && typeof v === 'object') return '{}';
  if (typeof v === 'string' && v.includes('\n')) {
    const lines = v.replace(/\n+$/, '').split('\n');
    // Literal block; "-" strips the final newline, so the value reads back exactly.
    const chomp = v.endsWith('\n') ? '' : '-';
    return `|${chomp}\n${lines.map((l) => (l ? `${indent}${l}` : '')).join('\n')}`;
  }
  return scalar(v);
}

export function toYaml(doc: Json): string {
  return `${block(doc, '').join('\n')}\n`;
}

export type { Json };
