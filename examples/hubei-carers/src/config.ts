import { baseConfig } from '@vtv/kit';
import { z } from 'zod';

export const hubeiCarersConfig = baseConfig.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4006),
});

export type HubeiCarersConfig = z.infer<typeof hubeiCarersConfig>;
