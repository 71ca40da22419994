import { baseConfig } from '@vtv/kit';
import { hkdfSync } from 'node:crypto';
import { z } from 'zod';

const secret = z.string().min(32, 'must be at least 32 characters');

export const vouchersConfig = baseConfig
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(4002),
    /** HMAC key for dynamic QR tokens (动态二维码). Required in production. */
    VOUCHER_QR_SECRET: secret.optional(),
    /** The previous QR key during a rotation: tokens signed with it are still accepted until they expire. */
    VOUCHER_QR_PREVIOUS_SECRET: secret.optional(),
    /** Key voucher codes (券码) are derived from. Required in production; never rotated (codes would change). */
    VOUCHER_CODE_SECRET: secret.optional(),
    /** Lifetime of a dynamic QR token. */
    VOUCHER_QR_TTL_SECONDS: z.coerce.number().int().min(10).max(300).default(60),
    /** Pause between runs of the expiry sweep (到期自动失效) when it finds nothing to do. */
    VOUCHER_EXPIRY_INTERVAL_MS: z.coerce.number().int().min(200).default(60_000),
    /** How long a region's statistics are cached for dashboards; 0 disables the cache. */
    VOUCHER_STATS_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(15),
    /** Failed manual code entries (券码录入) allowed per operator and per device in 15 minutes. */
    VOUCHER_CODE_ENTRY_FAILURES: z.coerce.number().int().min(1).max(1000).default(10),
  })
  .superRefine((c, ctx) => {
    if (c.NODE_ENV !== 'production') return;
    for (const name of ['VOUCHER_QR_SECRET', 'VOUCHER_CODE_SECRET'] as const) {
      if (!c[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'is required in production' });
    }
  });

export type VouchersConfig = z.infer<typeof vouchersConfig>;

/**
 * The voucher keys. Outside production a missing key is derived from INTERNAL_AUTH_SECRET (HKDF, one
 * label per purpose), so every replica of a development or test deployment agrees without extra setup.
 */
export function voucherKeys(c: VouchersConfig): { qr: Buffer[]; code: Buffer } {
  const derive = (label: string) =>
    Buffer.from(hkdfSync('sha256', c.INTERNAL_AUTH_SECRET, 'vtv-vouchers', label, 32));
  const qr = [c.VOUCHER_QR_SECRET ? Buffer.from(c.VOUCHER_QR_SECRET) : derive('qr')];
  if (c.VOUCHER_QR_PREVIOUS_SECRET) qr.push(Buffer.from(c.VOUCHER_QR_PREVIOUS_SECRET));
  const code = c.VOUCHER_CODE_SECRET ? Buffer.from(c.VOUCHER_CODE_SECRET) : derive('code');
  return { qr, code };
}
