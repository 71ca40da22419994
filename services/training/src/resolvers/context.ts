import type { RequestContext } from '@vtv/kit';
import type { TrainingServices } from '../service';

export type Ctx = RequestContext & TrainingServices;

export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

export const rating = (count: number, sum: number) => ({
  count,
  average: count > 0 ? Math.round((sum / count) * 100) / 100 : null,
});

/** A Person reference for federation: identity resolves the rest. */
export const person = (id: string) => ({ __typename: 'Person', id });
