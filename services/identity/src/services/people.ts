import { inRegion, isUuid, type Caller } from '@vtv/kit';
import type { PersonRow } from '../data/entities';
import type { PersonRepository } from '../data/repositories';

export const PERSON_READ = 'person:read';

export class PersonService {
  constructor(private readonly people: PersonRepository) {}

  /**
   * The person themself, or staff holding person:read whose region contains the person's.
   * "Not yours" is indistinguishable from "does not exist": both are null.
   */
  async visibleTo(caller: Caller, id: string): Promise<PersonRow | null> {
    if (!isUuid(id)) return null;
    const person = await this.people.byId(id);
    if (!person) return null;
    if (caller.kind === 'person' && caller.id === id) return person;
    if (
      caller.kind === 'staff' &&
      caller.permissions.includes(PERSON_READ) &&
      caller.regionCode &&
      inRegion(caller.regionCode, person.regionCode)
    ) {
      return person;
    }
    return null;
  }
}
