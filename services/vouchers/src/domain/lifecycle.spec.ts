import type { VoucherState } from '../data/entities';
import { TERMINAL, TRANSITIONS, WALLET_SECTIONS, canTransition, sourcesOf } from './lifecycle';

const STATES: VoucherState[] = ['HELD', 'USED', 'SETTLED', 'EXPIRED', 'INVALIDATED'];

describe('voucher lifecycle', () => {
  it('is HELD → USED → SETTLED with EXPIRED and INVALIDATED terminal', () => {
    expect(TRANSITIONS).toEqual({
      HELD: ['USED', 'EXPIRED', 'INVALIDATED'],
      USED: ['SETTLED', 'INVALIDATED'],
      SETTLED: [],
      EXPIRED: [],
      INVALIDATED: [],
    });
    expect(TERMINAL).toEqual(['SETTLED', 'EXPIRED', 'INVALIDATED']);
    expect(sourcesOf('USED')).toEqual(['HELD']);
    expect(sourcesOf('SETTLED')).toEqual(['USED']);
    expect(sourcesOf('INVALIDATED')).toEqual(['HELD', 'USED']);
    expect(sourcesOf('HELD')).toEqual([]);
  });

  it('agrees with a simple model over random sequences: used ≤ 1, settled ≤ 1, settled ⇒ used', () => {
    for (let run = 0; run < 2_000; run += 1) {
      let state: VoucherState = 'HELD';
      let used = 0;
      let settled = 0;
      for (let step = 0; step < 8; step += 1) {
        const to = STATES[Math.floor(Math.random() * STATES.length)]!;
        if (!canTransition(state, to)) continue;
        if (to === 'USED') used += 1;
        if (to === 'SETTLED') settled += 1;
        state = to;
      }
      expect(used).toBeLessThanOrEqual(1);
      expect(settled).toBeLessThanOrEqual(1);
      if (settled) expect(used).toBe(1);
    }
  });

  it('puts every state in exactly one wallet section', () => {
    const all = Object.values(WALLET_SECTIONS).flat();
    expect([...all].sort()).toEqual([...STATES].sort());
  });
});
