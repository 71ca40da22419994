import { normalisePin, requireStrongPin } from './pins';

test.each(['123456', '654321', '000000', '999999', '345678'])('a trivial PIN is refused (case %#)', (pin) => {
  expect(() => requireStrongPin(pin)).toThrow(expect.objectContaining({ code: 'PIN_TOO_WEAK' }));
});

test('six digits, full-width accepted', () => {
  expect(requireStrongPin('４８２９１５')).toBe('482915');
  expect(normalisePin(' 482915 ')).toBe('482915');
  for (const bad of ['12345', '1234567', 'abcdef', '', '4829 15']) {
    expect(() => normalisePin(bad)).toThrow(expect.objectContaining({ code: 'PIN_FORMAT' }));
  }
  expect(() => normalisePin(123456 as unknown as string)).toThrow(
    expect.objectContaining({ code: 'PIN_FORMAT' }),
  );
});
