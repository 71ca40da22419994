import { baseConfig } from '@vtv/kit';
import { z } from 'zod';

export const vouchersConfig = baseConfig.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4002),
});

export type VouchersConfig = z.infer<typeof vouchersConfig>;
