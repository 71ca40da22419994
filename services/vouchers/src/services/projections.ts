import type { EntityManager } from '@vtv/kit';
import type { Deps } from './context';

/** Redis copy of a person's eligibility facts, read on every claim. */
export function personKey(personId: string): string {
  return `person:${personId}`;
}

/** Keeps vouchers' copies of identity's and training's facts (eligibility, operators, activation). */
export class ProjectionService {
  constructor(private readonly deps: Deps) {}

  personCard(
    m: EntityManager,
    p: { personId: string; regionCode: string; birthYear: number | null; at: Date },
  ) {
    return this.deps.repos.projections.upsertPerson(m, p);
  }

  institutionActivation(
    m: EntityManager,
    i: { institutionId: string; regionCode: string; active: boolean; changedAt: Date },
  ) {
    return this.deps.repos.projections.upsertInstitution(m, i);
  }

  operatorMembership(
    m: EntityManager,
    o: { institutionId: string; personId: string; enabled: boolean; main: boolean; changedAt: Date },
  ) {
    return this.deps.repos.projections.upsertOperator(m, o);
  }
}
