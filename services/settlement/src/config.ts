import { baseConfig } from '@vtv/kit';
import { z } from 'zod';

export const settlementConfig = baseConfig.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4004),
  /** Attendance below this (basis points, 10000 = 100 %) flags a trainee line LOW_ATTENDANCE. */
  SETTLEMENT_MIN_ATTENDANCE_BP: z.coerce.number().int().min(0).max(10000).default(8000),
  /**
   * Most trainee lines one application may carry. Bounds the SubsidyDisbursed event (one voucher id is
   * ~38 bytes; 20 000 lines stay well inside Kafka's default 1 MiB message limit).
   */
  SETTLEMENT_MAX_LINES: z.coerce.number().int().min(1).max(20000).default(20000),
});

export type SettlementConfig = z.infer<typeof settlementConfig>;
