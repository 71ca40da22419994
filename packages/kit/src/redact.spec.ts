import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { scrubText, scrubValue } from './redact';

describe('personal data never reaches logs in full', () => {
  it('masks ID numbers, mobiles and voucher codes in free text', () => {
    const text = 'holder 42010219900307123X phone 13812345678 code 7K3M-9QPR-X2TB-4HWD';
    const out = scrubText(text);
    expect(out).not.toContain('42010219900307123X');
    expect(out).toContain('420102********123X');
    expect(out).toContain('138****5678');
    expect(out).toContain('7K3M-****-****-****');
  });

  it('scrubs nested values and errors', () => {
    const v = scrubValue({
      a: [{ msg: 'id 420102199003071234' }],
      err: new Error('bad 13912345678'),
    }) as Record<string, unknown>;
    expect(JSON.stringify(v)).not.toMatch(/199003071234|13912345678/);
  });

  it('the logger redacts personal fields and scrubs messages', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const real = createLogger('test', 'info', sink);
    real.info({ idNumber: '42010219900307123X', phone: '13812345678' }, 'issued card for 42010219900307123X');
    const out = lines.join('');
    expect(out).toContain('[redacted]');
    expect(out).not.toContain('42010219900307123X');
    expect(out).not.toContain('13812345678');
  });
});
