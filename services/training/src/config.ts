import { baseConfig } from '@vtv/kit';
import { z } from 'zod';

export const trainingConfig = baseConfig.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4003),
  /** Location check-in is accepted within this distance (metres) of the class location. */
  CHECKIN_RADIUS_M: z.coerce.number().int().min(10).max(5_000).default(500),
  /** A session's check-in window opens this many minutes before it starts and closes when it ends. */
  CHECKIN_OPENS_BEFORE_MIN: z.coerce.number().int().min(0).max(240).default(30),
  /** A check-in this many minutes after the start counts as late (迟到). */
  CHECKIN_LATE_AFTER_MIN: z.coerce.number().int().min(0).max(240).default(15),
  /**
   * HMAC key for the rotating check-in QR codes (class and trainee). Absent: derived from
   * INTERNAL_AUTH_SECRET, so every replica agrees without another secret to distribute.
   */
  CLASS_QR_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** How long one check-in QR code is valid, in seconds; the screen rotates it before then. */
  CLASS_QR_TTL_S: z.coerce.number().int().min(10).max(600).default(60),
});

export type TrainingConfig = z.infer<typeof trainingConfig>;
