import { create, toBinary } from '@bufbuild/protobuf';
import {
  ClassPlanApprovedSchema,
  ClassPlanRejectedSchema,
  VoucherStateChangedSchema,
  allTopicSpecs,
  schemaFor,
} from '../src';
import {
  contractFindings,
  findInText,
  isNameField,
  isValidIdNumber,
  isVoucherCode,
  looksLikePersonalName,
  scanEvent,
  wireValues,
} from '../src/privacy';

/** A valid GB 11643 number for a given 17-digit body (the check character computed, not hard-coded). */
function withCheck(body: string): string {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = w.reduce((a, x, i) => a + x * Number(body[i]), 0);
  return body + '10X98765432'[sum % 11]!;
}
const ID = withCheck('11010519491231002'); // the standard's own example: ...002X
const kinds = (text: string) => findInText(text).map((f) => f.kind);

describe('GB 11643 ID numbers', () => {
  it('accepts a valid check character and refuses a wrong one', () => {
    expect(ID).toBe('11010519491231002X');
    expect(isValidIdNumber(ID)).toBe(true);
    expect(isValidIdNumber(ID.toLowerCase())).toBe(true);
    expect(isValidIdNumber('110105194912310021')).toBe(false);
    expect(isValidIdNumber('1101051949123100')).toBe(false);
  });

  it('finds them in text, also full-width, and not inside longer digit runs', () => {
    expect(kinds(`证件号 ${ID} 已核验`)).toEqual(['id-number']);
    const fullWidth = ID.replace(/[0-9X]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    expect(kinds(fullWidth)).toEqual(['id-number']);
    expect(kinds(`9${ID}`)).toEqual([]);
    expect(kinds('110105194912310021')).toEqual([]); // wrong check digit: not an ID number
  });
});

describe('mobile numbers', () => {
  it.each(['13812345678', '+86 138 1234 5678', '86-138-1234-5678', '手机19912345678。'])('finds %s', (t) =>
    expect(kinds(t)).toContain('mobile'),
  );
  it.each([
    '12812345678', // no such prefix
    '138123456789', // 12 digits
    '0196f0c2-7c1d-7e4f-8a9b-a13812345678', // inside a UUID
    'amount 13800000000000', // longer number
  ])('ignores %s', (t) => expect(kinds(t)).not.toContain('mobile'));
});

describe('voucher codes', () => {
  it('recognises Crockford base32 in four groups, case-insensitive, I/L/O as aliases', () => {
    expect(isVoucherCode('7KQ2-M9XD-4HJP-RT8B')).toBe(true);
    expect(isVoucherCode('7kq2-m9xd-4hjp-rt8b')).toBe(true);
    expect(isVoucherCode('7KQ2-M9XD-4HJP-RTOL')).toBe(true);
    expect(isVoucherCode('7KQ2-M9XD-4HJP-RTUB')).toBe(false); // U is not Crockford
    expect(isVoucherCode('7KQ2-M9XD-4HJP')).toBe(false);
  });
  it('finds hyphenated and compact codes, not UUIDs or trace ids', () => {
    expect(kinds('code 7KQ2-M9XD-4HJP-RT8B used')).toEqual(['voucher-code']);
    expect(kinds('7KQ2M9XD4HJPRT8B')).toEqual(['voucher-code']);
    expect(kinds('0196f0c2-7c1d-7e4f-8a9b-0c1d2e3f4a5b')).toEqual([]);
    expect(kinds('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual([]);
  });
  it('never repeats the value it found', () => {
    const [f] = findInText('7KQ2-M9XD-4HJP-RT8B');
    expect(f!.excerpt).not.toContain('M9XD');
  });
});

describe('personal names', () => {
  it.each(['张伟', '王秀英', '欧阳娜娜', '司马相如', '阿卜杜·热合曼'])('%s looks like a name', (n) =>
    expect(looksLikePersonalName(n)).toBe(true),
  );
  it.each(['数控车工（初级）2025年春季班', '电工班', '武汉市职业技能鉴定指导中心', 'LEVEL_5', '张'])(
    '%s does not',
    (n) => expect(looksLikePersonalName(n)).toBe(false),
  );
  it('knows name fields from id fields', () => {
    for (const f of ['name', 'holderName', 'holder_name', 'trainee', 'contact_name', 'person_name'])
      expect(isNameField(f)).toBe(true);
    for (const f of ['holder_person_id', 'personId', 'roster_person_ids', 'occupation', 'issuer'])
      expect(isNameField(f)).toBe(false);
  });
});

describe('scanEvent', () => {
  const event = (data: Uint8Array, type: string, key = '0196f0c2-7c1d-7e4f-8a9b-0c1d2e3f4a5b') => ({
    type,
    key,
    data,
  });

  it('finds a phone number in a free-text field, by wire path, without the schema', () => {
    const data = toBinary(
      ClassPlanRejectedSchema,
      create(ClassPlanRejectedSchema, { classId: 'c1', reason: '联系 13812345678 补材料' }),
    );
    const found = scanEvent(event(data, 'vtv.unknown.v1.Thing'));
    expect(found).toEqual([expect.objectContaining({ kind: 'mobile', where: '#4' })]);
  });

  it('finds a personal name in a name field only with the schema, and not a class name', () => {
    const named = toBinary(
      ClassPlanApprovedSchema,
      create(ClassPlanApprovedSchema, { classId: 'c1', name: '李娜' }),
    );
    expect(scanEvent(event(named, ClassPlanApprovedSchema.typeName), schemaFor)).toEqual([
      expect.objectContaining({ kind: 'personal-name', where: '$.name' }),
    ]);
    const klass = toBinary(
      ClassPlanApprovedSchema,
      create(ClassPlanApprovedSchema, { classId: 'c1', name: '数控车工（初级）2025年春季班' }),
    );
    expect(scanEvent(event(klass, ClassPlanApprovedSchema.typeName), schemaFor)).toEqual([]);
  });

  it('finds a code hidden in an unknown field, and data in the key and headers', () => {
    const known = toBinary(VoucherStateChangedSchema, create(VoucherStateChangedSchema, { voucherId: 'v1' }));
    // Field 99 (not in the contract), length-delimited: a newer producer's field a consumer would skip.
    const code = Buffer.from('7KQ2-M9XD-4HJP-RT8B');
    const extra = Buffer.concat([Buffer.from([0x9a, 0x06, code.length]), code]);
    const data = Buffer.concat([Buffer.from(known), extra]);
    expect(wireValues(data).some((v) => v.where === '#99')).toBe(true);
    const found = scanEvent(
      { type: VoucherStateChangedSchema.typeName, key: ID, data, headers: { ce_subject: '13812345678' } },
      schemaFor,
    );
    expect(found.map((f) => `${f.kind}@${f.where}`).sort()).toEqual([
      'id-number@key',
      'mobile@header:ce_subject',
      'voucher-code@#99',
    ]);
  });

  it('finds a mobile number stored in an integer field', () => {
    const data = Buffer.from([0x08, ...varint(13812345678n)]);
    expect(scanEvent(event(data, 'x')).map((f) => f.kind)).toEqual(['mobile']);
  });
});

function varint(v: bigint): number[] {
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

describe('the contracts', () => {
  it('have no field whose name announces personal data (allow-listed exceptions carry a reason)', () => {
    expect(contractFindings(allTopicSpecs().flatMap((t) => t.events))).toEqual([]);
  });
  it('would flag such a field', () => {
    const fake = {
      typeName: 'vtv.x.v1.Bad',
      fields: [
        { name: 'holder_phone' },
        { name: 'id_number' },
        { name: 'voucher_code' },
        { name: 'region_code' },
      ],
    } as unknown as Parameters<typeof contractFindings>[0][number];
    expect(contractFindings([fake]).map((f) => f.where)).toEqual([
      'vtv.x.v1.Bad.holder_phone',
      'vtv.x.v1.Bad.id_number',
      'vtv.x.v1.Bad.voucher_code',
    ]);
  });
});
