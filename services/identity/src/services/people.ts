import {
  DomainError,
  ErrorCode,
  Permission,
  inRegion,
  isRegionCode,
  maskIdNumber,
  maskName,
  maskPhone,
  parsePage,
  regionPrefix,
  requireIdNumber,
  requirePermission,
  requirePhone,
  toConnection,
  uuidv7,
  type Caller,
  type Connection,
  type PageArgs,
} from '@vtv/kit';
import { enqueue } from '@vtv/events';
import type { CardChannel, CardRow, PersonRow } from '../data/entities';
import type { Store } from '../data/repositories';
import type { Vault } from '../security/vault';
import { audit, AuditAction, type Actor } from './audit';
import { cardIssued } from './events';
import { requireStrongPin, type PinService } from './pins';
import { actingRegion, notFound, uuidOrNull, within } from './scope';

/** Kept for callers of the foundation's constant. */
export const PERSON_READ = Permission.PERSON_READ;

export const NAME_INVALID = 'NAME_INVALID';

/**
 * A personal name as written on an ID card: letters of any script (Chinese, Uyghur, Latin …), the middle
 * dot of transliterated names, spaces; 1–50 characters after NFKC normalisation.
 */
export function requireName(raw: unknown, field = 'name'): string {
  const name =
    typeof raw === 'string' && raw.length <= 200 ? raw.normalize('NFKC').trim().replace(/\s+/g, ' ') : '';
  const length = Array.from(name).length;
  if (length < 1 || length > 50 || !/^[\p{L}\p{M}][\p{L}\p{M}·• .'-]*$/u.test(name)) {
    throw new DomainError(NAME_INVALID, 'The name must be 1-50 letters (a middle dot is allowed)', field);
  }
  return name.replace(/[•]/g, '·');
}

export interface IssueCardInput {
  name: string;
  idNumber: string;
  phone: string;
  regionCode: string;
  pin?: string | null;
}

export interface MaskedPerson {
  maskedName: string;
  maskedIdNumber: string;
  maskedPhone: string;
}

export interface PeopleQuery extends PageArgs {
  regionCode?: string | null;
}

/**
 * People and their e-SSC (电子社保卡). The ID number is validated (GB 11643-1999), stored only encrypted
 * and as a keyed blind index, and shown masked; the full number comes out only through an audited reveal.
 */
export class PersonService {
  private readonly maskedCache = new WeakMap<PersonRow, MaskedPerson>();

  constructor(
    private readonly store: Store,
    private readonly vault: Vault,
    private readonly pins: PinService,
    private readonly o: { selfService: boolean } = { selfService: true },
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * e-SSC issuance (签发电子社保卡): name + ID number + phone (+ optionally the PIN) → a person and their
   * card. Self-service when anonymous (the labourer's own channel); staff at a counter and issuance
   * channels (clients) need person:card:issue and issue inside their region only.
   */
  async issueCard(caller: Caller, input: IssueCardInput, actor: Actor): Promise<PersonRow> {
    let channel: CardChannel;
    if (caller.kind === 'anonymous') {
      if (!this.o.selfService) {
        throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Issue the e-SSC through an issuance channel');
      }
      channel = 'SELF_SERVICE';
    } else if (caller.kind === 'person') {
      throw new DomainError(ErrorCode.FORBIDDEN, 'You already hold an e-SSC');
    } else {
      requirePermission(caller, Permission.PERSON_CARD_ISSUE);
      channel = caller.kind === 'staff' ? 'STAFF' : 'CLIENT';
    }
    const name = requireName(input.name, 'name');
    const idNumber = requireIdNumber(input.idNumber, 'idNumber', this.clock());
    const phone = requirePhone(input.phone, 'phone');
    const regionCode = String(input.regionCode ?? '');
    const region = isRegionCode(regionCode) ? await this.store.read.regions.byCode(regionCode) : null;
    if (!region || (channel !== 'SELF_SERVICE' && !within(actingRegion(caller), regionCode))) {
      throw notFound('Region', 'regionCode');
    }
    const pinHash = input.pin == null ? null : await this.pins.hash(requireStrongPin(input.pin, 'pin'));

    const id = uuidv7();
    const now = this.clock();
    return this.store.transaction(async (r) => {
      const person = await r.people.insert({
        id,
        regionCode,
        ...this.vault.sealPerson(id, { idNumber: idNumber.value, name, phone }),
        idBlindIndex: this.vault.blindIndex(idNumber.value),
        birthYear: idNumber.birthYear,
      });
      await r.cards.insert({
        id: uuidv7(),
        personId: id,
        regionCode,
        channel,
        issuedBy: caller.kind === 'anonymous' ? null : `${caller.kind}:${caller.id}`,
        issuedAt: now,
      });
      if (pinHash) await r.pins.set(id, pinHash);
      await audit(r, actor, AuditAction.CARD_ISSUED, { type: 'PERSON', id, regionCode }, { channel });
      await enqueue(r.manager, [
        cardIssued({ personId: id, regionCode, birthYear: idNumber.birthYear, at: now }),
      ]);
      return person;
    });
  }

  /**
   * The person themself, or staff/clients holding person:read whose region contains the person's.
   * "Not yours" is indistinguishable from "does not exist": both are null.
   */
  async visibleTo(caller: Caller, rawId: string): Promise<PersonRow | null> {
    const id = uuidOrNull(rawId);
    if (!id) return null;
    const person = await this.store.read.people.byId(id);
    if (!person) return null;
    return this.canSee(caller, person) ? person : null;
  }

  private canSee(caller: Caller, person: PersonRow): boolean {
    if (caller.kind === 'person') return caller.id === person.id;
    return (
      (caller.kind === 'staff' || caller.kind === 'client') &&
      caller.permissions.includes(Permission.PERSON_READ) &&
      !!caller.regionCode &&
      inRegion(caller.regionCode, person.regionCode)
    );
  }

  /** Lookup by ID number (staff/clients with person:read, inside their region) through the blind index. */
  async byIdNumber(caller: Caller, rawIdNumber: string): Promise<PersonRow | null> {
    requirePermission(caller, Permission.PERSON_READ);
    actingRegion(caller);
    const idNumber = requireIdNumber(rawIdNumber, 'idNumber', this.clock());
    const person = await this.store.read.people.byBlindIndex(this.vault.blindIndex(idNumber.value));
    return person && this.canSee(caller, person) ? person : null;
  }

  /** People of a region subtree, masked (person:read). */
  async list(caller: Caller, q: PeopleQuery): Promise<Connection<PersonRow>> {
    requirePermission(caller, Permission.PERSON_READ);
    const scope = actingRegion(caller);
    const { limit, afterKey } = parsePage(q);
    let root = scope;
    if (q.regionCode != null) {
      if (!isRegionCode(q.regionCode) || !inRegion(scope, q.regionCode))
        return toConnection([], limit, () => '');
      root = q.regionCode;
    }
    const rows = await this.store.read.people.list(regionPrefix(root), { afterId: afterKey, limit });
    return toConnection(rows, limit, (p) => p.id);
  }

  /** Masked name, ID number and phone (decrypted once per row object). */
  masked(person: PersonRow): MaskedPerson {
    let m = this.maskedCache.get(person);
    if (!m) {
      const d = this.vault.openPerson(person);
      m = {
        maskedName: maskName(d.name),
        maskedIdNumber: maskIdNumber(d.idNumber),
        maskedPhone: maskPhone(d.phone),
      };
      this.maskedCache.set(person, m);
    }
    return m;
  }

  card(personId: string): Promise<CardRow | null> {
    return this.store.read.cards.byPerson(personId);
  }

  /**
   * The full ID number, for staff holding person:reveal inside the person's region, with a stated reason.
   * Writes an audit record (in the same transaction as reading the number) before answering.
   */
  async revealIdNumber(
    caller: Caller,
    input: { personId: string; reason: string },
    actor: Actor,
  ): Promise<string> {
    requirePermission(caller, Permission.PERSON_REVEAL);
    const scope = actingRegion(caller);
    const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
    if (reason.length < 2 || reason.length > 200) {
      throw new DomainError(
        ErrorCode.BAD_USER_INPUT,
        'State the reason for the reveal (2-200 characters)',
        'reason',
      );
    }
    const id = uuidOrNull(input.personId);
    return this.store.transaction(async (r) => {
      const person = id ? await r.people.byId(id) : null;
      if (!person || !inRegion(scope, person.regionCode)) throw notFound('Person', 'personId');
      await audit(
        r,
        actor,
        AuditAction.ID_NUMBER_REVEALED,
        { type: 'PERSON', id: person.id, regionCode: person.regionCode },
        {
          reason,
        },
      );
      return this.vault.openPerson(person).idNumber;
    });
  }

  /** Sets or changes the signed-in person's PIN; changing needs the current one (which counts attempts). */
  async setPin(
    caller: Caller,
    input: { currentPin?: string | null; newPin: string },
    actor: Actor,
  ): Promise<PersonRow> {
    if (caller.kind !== 'person' || !caller.id) {
      throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Sign in with your e-SSC first');
    }
    const person = await this.store.read.people.byId(caller.id);
    if (!person) throw notFound('Person');
    const newPin = requireStrongPin(input.newPin, 'newPin');
    if (await this.pins.hasPin(person.id)) {
      if (input.currentPin == null) {
        throw new DomainError(ErrorCode.BAD_USER_INPUT, 'Enter the current PIN to change it', 'currentPin');
      }
      await this.pins.check(person.id, input.currentPin, actor, person.regionCode, 'currentPin');
    }
    const hash = await this.pins.hash(newPin);
    await this.store.transaction(async (r) => {
      await r.pins.set(person.id, hash);
      await audit(r, actor, AuditAction.PIN_SET, {
        type: 'PERSON',
        id: person.id,
        regionCode: person.regionCode,
      });
    });
    return person;
  }
}
