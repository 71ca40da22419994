import { maskIdNumber, maskName, maskPhone } from './masking';
import { normalisePhone } from './phone';

test('ID numbers keep the first and last four characters', () => {
  expect(maskIdNumber('42010219900307123X')).toBe('4201**********123X');
  expect(maskIdNumber('1234')).toBe('****');
});

test.each([
  ['张三', '张*'],
  ['李小龙', '李**'],
  ['欧阳娜娜', '欧阳**'],
  ['欧阳修', '欧阳*'],
  ['欧阳', '欧*'],
  ['诸葛亮', '诸葛*'],
  ['王', '*'],
  ['阿卜杜·热合曼', '阿******'],
  ['', ''],
])('name %s → %s', (name, masked) => {
  expect(maskName(name)).toBe(masked);
});

test('phones keep the first three and last four digits', () => {
  expect(maskPhone('13812345678')).toBe('138****5678');
  expect(maskPhone('123')).toBe('***');
});

test.each([
  ['13812345678', '13812345678'],
  ['138 1234 5678', '13812345678'],
  ['138-1234-5678', '13812345678'],
  ['+86 13812345678', '13812345678'],
  ['008613812345678', '13812345678'],
  ['8613812345678', '13812345678'],
  ['１３８１２３４５６７８', '13812345678'],
  ['12812345678', null],
  ['1381234567', null],
  ['phone', null],
  ['1'.repeat(100), null],
])('phone normalisation, case %#', (raw, phone) => {
  expect(normalisePhone(raw)).toBe(phone);
});
