import type { VoucherState } from '../data/entities';

/**
 * The voucher lifecycle (SPEC §4.6), as data. Every change of state goes through one conditional UPDATE
 * whose WHERE clause lists the states this table allows to reach the target, so a transition that is not
 * in the table cannot happen, whatever the caller.
 *
 *   HELD ──use──▶ USED ──settle──▶ SETTLED
 *    │             │
 *    ├─expire─▶ EXPIRED
 *    └─invalidate─▶ INVALIDATED ◀─invalidate (training failed, administrative)─┘
 */
export const TRANSITIONS: Readonly<Record<VoucherState, readonly VoucherState[]>> = Object.freeze({
  HELD: ['USED', 'EXPIRED', 'INVALIDATED'],
  USED: ['SETTLED', 'INVALIDATED'],
  SETTLED: [],
  EXPIRED: [],
  INVALIDATED: [],
});

export const TERMINAL: readonly VoucherState[] = Object.freeze(
  (Object.keys(TRANSITIONS) as VoucherState[]).filter((s) => TRANSITIONS[s].length === 0),
);

export function canTransition(from: VoucherState, to: VoucherState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The states from which `to` may be reached. */
export function sourcesOf(to: VoucherState): VoucherState[] {
  return (Object.keys(TRANSITIONS) as VoucherState[]).filter((from) => TRANSITIONS[from].includes(to));
}

/** The holder's wallet (我的卡券): held (已领取), used (已使用), no longer valid (已失效). */
export type WalletSection = 'HELD' | 'USED' | 'NO_LONGER_VALID';

export const WALLET_SECTIONS: Readonly<Record<WalletSection, readonly VoucherState[]>> = Object.freeze({
  HELD: ['HELD'],
  USED: ['USED', 'SETTLED'],
  NO_LONGER_VALID: ['EXPIRED', 'INVALIDATED'],
});
