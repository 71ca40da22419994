import { baseConfig } from '@vtv/kit';
import { z } from 'zod';

export const trainingConfig = baseConfig.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4003),
});

export type TrainingConfig = z.infer<typeof trainingConfig>;
