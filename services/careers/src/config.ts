import { baseConfig } from '@vtv/kit';
import { z } from 'zod';

export const careersConfig = baseConfig.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4005),
});

export type CareersConfig = z.infer<typeof careersConfig>;
