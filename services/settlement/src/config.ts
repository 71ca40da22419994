import { baseConfig } from '@vtv/kit';
import { z } from 'zod';

export const settlementConfig = baseConfig.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4004),
});

export type SettlementConfig = z.infer<typeof settlementConfig>;
