import { baseConfig } from '@vtv/kit';
import { z } from 'zod';
import { parseQuietHours } from './services/sms/schedule';

const int = (min: number, max: number, dflt: number) =>
  z.coerce.number().int().min(min).max(max).default(dflt);

export const careersConfig = baseConfig
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(4005),
    /**
     * The SMS gateway's HTTP endpoint. Careers POSTs JSON with the person id; the gateway resolves the
     * phone number (careers never holds one). Absent: SMS is off and only in-app messages are sent.
     */
    SMS_PROVIDER_URL: z
      .string()
      .refine((v) => {
        try {
          return ['http:', 'https:'].includes(new URL(v).protocol);
        } catch {
          return false;
        }
      }, 'must be an http(s) URL')
      .optional(),
    /** API key sent to the SMS gateway; required with SMS_PROVIDER_URL. */
    SMS_API_KEY: z.string().min(8, 'must be at least 8 characters').optional(),
    /** Header carrying the API key. */
    SMS_API_KEY_HEADER: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name')
      .default('x-api-key'),
    SMS_TIMEOUT_MS: int(100, 60_000, 5_000),
    /** Frequency cap: SMS per person per China calendar day. */
    SMS_MAX_PER_DAY: int(1, 100, 3),
    /** Quiet hours in China Standard Time, HH:MM-HH:MM (may wrap midnight), or "none". */
    SMS_QUIET_HOURS: z
      .string()
      .default('22:00-08:00')
      .refine((v) => parseQuietHours(v) !== undefined, 'must be HH:MM-HH:MM or "none"'),
    /** Attempts before a message is given up as FAILED. */
    SMS_MAX_ATTEMPTS: int(1, 50, 8),
    /** First retry delay; doubles per attempt up to SMS_RETRY_MAX_MS. */
    SMS_RETRY_BASE_MS: int(10, 3_600_000, 30_000),
    SMS_RETRY_MAX_MS: int(10, 86_400_000, 3_600_000),
    /** How often the SMS sender looks for due messages when idle. */
    SMS_POLL_MS: int(10, 600_000, 5_000),
    /** At most this many new recommendations per person per refresh (newest postings first). */
    RECOMMENDATIONS_MAX_PER_REFRESH: int(1, 100, 10),
    /** Longest consent a person may grant, in days. */
    CONSENT_MAX_DAYS: int(1, 3_660, 365),
  })
  .superRefine((c, ctx) => {
    if (c.SMS_PROVIDER_URL && !c.SMS_API_KEY)
      ctx.addIssue({ code: 'custom', path: ['SMS_API_KEY'], message: 'is required with SMS_PROVIDER_URL' });
  });

export type CareersConfig = z.infer<typeof careersConfig>;
