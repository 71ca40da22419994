import { regionChain, resolveFields, ruleApplies } from './rules';

type Rule = { amount: number | null; level: string | null; mode: string | null };

describe('rules inherited down the region tree', () => {
  it('walks county → city → province, including 省直辖 areas', () => {
    expect(regionChain('420113')).toEqual(['420113', '420100', '420000']);
    expect(regionChain('429004')).toEqual(['429004', '429000', '420000']);
    expect(regionChain('410400')).toEqual(['410400', '410000']);
  });

  it('takes each field from the nearest region setting it and explains where it came from', () => {
    const layers = [
      { regionCode: '420100', rule: { amount: null, level: '三级', mode: null }, ruleId: 'city' },
      { regionCode: '420000', rule: { amount: 150_000, level: '四级', mode: null }, ruleId: 'province' },
    ];
    const r = resolveFields<Rule, 'amount' | 'level' | 'mode'>(
      '420113',
      layers,
      ['amount', 'level', 'mode'],
      {
        mode: 'FACE_VALUE',
      },
    );
    expect(r.values).toEqual({ amount: 150_000, level: '三级', mode: 'FACE_VALUE' });
    expect(r.explanation).toEqual([
      {
        field: 'amount',
        value: '150000',
        regionCode: '420000',
        ruleId: 'province',
        inherited: true,
        isDefault: false,
      },
      {
        field: 'level',
        value: '三级',
        regionCode: '420100',
        ruleId: 'city',
        inherited: true,
        isDefault: false,
      },
      {
        field: 'mode',
        value: 'FACE_VALUE',
        regionCode: null,
        ruleId: null,
        inherited: false,
        isDefault: true,
      },
    ]);
    const own = resolveFields<Rule, 'level'>('420100', layers, ['level']);
    expect(own.explanation[0]).toMatchObject({ regionCode: '420100', inherited: false });
  });

  it('applies a rule only inside its own validity window', () => {
    expect(ruleApplies({ validFrom: '2021-01-01', validTo: '2021-12-31' }, '2021-06-30')).toBe(true);
    expect(ruleApplies({ validFrom: '2021-01-01', validTo: '2021-12-31' }, '2022-01-01')).toBe(false);
    expect(ruleApplies({ validFrom: null, validTo: null }, '1999-01-01')).toBe(true);
  });
});
