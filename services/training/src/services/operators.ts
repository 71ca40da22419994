import { enqueue } from '@vtv/events';
import {
  DomainError,
  ErrorCode,
  notFound,
  parsePage,
  toConnection,
  type Caller,
  type EntityManager,
  type PageArgs,
} from '@vtv/kit';
import type { InstitutionRow, OperatorRow } from '../data/entities';
import { isUniqueViolation } from '../data/repositories';
import { INSTITUTION_WRITE } from '../permissions';
import { audit, requirePerson, staffIn, type Access, type Deps } from './context';
import { trainingEvents } from './events';
import { optionalText, requireUuid } from './input';
import { actsElsewhere, newOperator } from './institutions';

export interface AddOperator {
  institutionId: string;
  personId: string;
  position?: string | null;
  enabled?: boolean | null;
  /** Only when the institution has no main operator yet (first appointment by the bureau). */
  main?: boolean | null;
}

export interface UpdateOperator {
  operatorId: string;
  position?: string | null;
  enabled?: boolean | null;
}

export interface TransferMainOperator {
  institutionId: string;
  toOperatorId: string;
}

/**
 * 经办人管理: the main operator (主经办人) adds, edits, enables and disables the institution's other
 * operators and can hand the main role over; the bureau (training:institution:write in the region) may
 * do the same for an institution, as in the administrator guide. Exactly one main operator per
 * institution is enforced by a partial unique index; every change is published for vouchers (which
 * accepts scans only from enabled operators) and audited.
 */
export class OperatorService {
  constructor(
    private readonly deps: Deps,
    private readonly access: Access,
  ) {}

  async page(institutionId: string, args: PageArgs) {
    const { limit, afterKey } = parsePage(args);
    return toConnection(
      await this.deps.repos.operators.page(institutionId, { limit, after: afterKey }),
      limit,
      (o) => o.id,
    );
  }

  /** The signed-in person's memberships (enabled or not). */
  myMemberships(caller: Caller): Promise<OperatorRow[]> {
    if (caller.kind !== 'person' || !caller.id) return Promise.resolve([]);
    return this.deps.repos.operators.byPerson(caller.id);
  }

  /** Locks the institution (serialising its membership changes) and checks the caller may manage it. */
  private async manage(m: EntityManager, caller: Caller, institutionId: string): Promise<InstitutionRow> {
    const institution = await this.deps.repos.institutions.lockById(m, institutionId);
    if (!institution) throw notFound('Institution');
    if (staffIn(caller, institution.regionCode, [INSTITUTION_WRITE])) return institution;
    const me = await this.access.requireOperator(caller, institutionId, m);
    if (!me.main) {
      throw new DomainError(ErrorCode.FORBIDDEN, 'Only the main operator (主经办人) manages operators');
    }
    return institution;
  }

  async add(caller: Caller, input: AddOperator): Promise<OperatorRow> {
    const institutionId = requireUuid('institutionId', input.institutionId);
    const personId = requireUuid('personId', input.personId);
    const position = optionalText('position', input.position, 50);
    const main = input.main === true;
    const enabled = input.enabled !== false;
    if (main && !enabled)
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'The main operator must be enabled', 'enabled');
    try {
      return await this.deps.ds.transaction(async (m) => {
        await this.manage(m, caller, institutionId);
        if (main && (await this.deps.repos.operators.mainOf(institutionId, m))) {
          throw new DomainError(
            ErrorCode.CONFLICT,
            'The institution already has a main operator; the main operator hands the role over, or the bureau approves a change request',
            'main',
          );
        }
        if (await this.deps.repos.operators.of(institutionId, personId, m)) {
          throw new DomainError(
            ErrorCode.CONFLICT,
            'This person is already an operator of the institution; edit them instead',
            'personId',
          );
        }
        if (enabled && (await this.deps.repos.operators.enabledMembership(personId, m)))
          throw actsElsewhere('personId');
        const now = this.deps.clock.now();
        const row = newOperator(institutionId, personId, main, position, caller.id!, now);
        row.enabled = enabled;
        await this.deps.repos.operators.insert(m, row);
        await enqueue(m, [trainingEvents.operatorMembershipChanged(row, now, caller.id!)]);
        await audit(
          this.deps,
          m,
          caller,
          'operator.add',
          { type: 'Operator', id: row.id },
          { institutionId, personId, main, enabled },
        );
        return row;
      });
    } catch (err) {
      throw this.translate(err);
    }
  }

  async update(caller: Caller, input: UpdateOperator): Promise<OperatorRow> {
    const operatorId = requireUuid('operatorId', input.operatorId);
    const existing = await this.deps.repos.operators.byId(operatorId);
    if (!existing) throw notFound('Operator');
    try {
      return await this.deps.ds.transaction(async (m) => {
        await this.manage(m, caller, existing.institutionId);
        const row = (await this.deps.repos.operators.byId(operatorId, m))!;
        const enabledBefore = row.enabled;
        if (input.position !== undefined) row.position = optionalText('position', input.position, 50);
        if (input.enabled != null) {
          if (!input.enabled && row.main) {
            throw new DomainError(
              ErrorCode.INVALID_STATE,
              'The main operator cannot be disabled; hand the main role over first',
              'enabled',
            );
          }
          if (
            input.enabled &&
            !row.enabled &&
            (await this.deps.repos.operators.enabledMembership(row.personId, m))
          ) {
            throw actsElsewhere('enabled');
          }
          row.enabled = input.enabled;
        }
        const now = this.deps.clock.now();
        row.updatedAt = now;
        await this.deps.repos.operators.update(m, row);
        if (row.enabled !== enabledBefore)
          await enqueue(m, [trainingEvents.operatorMembershipChanged(row, now, caller.id!)]);
        await audit(
          this.deps,
          m,
          caller,
          'operator.update',
          { type: 'Operator', id: row.id },
          {
            enabled: row.enabled,
            position: row.position,
          },
        );
        return row;
      });
    } catch (err) {
      throw this.translate(err);
    }
  }

  /** The main operator hands the main role to another enabled operator, in one transaction. */
  async transferMain(
    caller: Caller,
    input: TransferMainOperator,
  ): Promise<{ from: OperatorRow; to: OperatorRow }> {
    const personId = requirePerson(caller);
    const institutionId = requireUuid('institutionId', input.institutionId);
    const toOperatorId = requireUuid('toOperatorId', input.toOperatorId);
    try {
      return await this.deps.ds.transaction(async (m) => {
        const institution = await this.deps.repos.institutions.lockById(m, institutionId);
        if (!institution) throw notFound('Institution');
        const from = await this.deps.repos.operators.mainOf(institutionId, m);
        if (!from || from.personId !== personId) {
          throw new DomainError(
            ErrorCode.FORBIDDEN,
            'Only the main operator (主经办人) can hand the main role over',
          );
        }
        const to = await this.deps.repos.operators.byId(toOperatorId, m);
        if (!to || to.institutionId !== institutionId) throw notFound('Operator');
        if (to.id === from.id)
          throw new DomainError(ErrorCode.BAD_USER_INPUT, 'You already hold the main role', 'toOperatorId');
        if (!to.enabled) {
          throw new DomainError(
            ErrorCode.INVALID_STATE,
            'Enable the operator before handing them the main role',
            'toOperatorId',
          );
        }
        const now = this.deps.clock.now();
        // Demote first: the one-main index holds at every statement.
        from.main = false;
        from.updatedAt = now;
        await this.deps.repos.operators.update(m, from);
        to.main = true;
        to.updatedAt = now;
        await this.deps.repos.operators.update(m, to);
        await enqueue(m, [
          trainingEvents.operatorMembershipChanged(from, now, personId),
          trainingEvents.operatorMembershipChanged(to, now, personId),
        ]);
        await audit(
          this.deps,
          m,
          caller,
          'operator.transfer-main',
          { type: 'Institution', id: institutionId },
          {
            fromOperatorId: from.id,
            toOperatorId: to.id,
          },
        );
        return { from, to };
      });
    } catch (err) {
      throw this.translate(err);
    }
  }

  /** Constraint violations under a race become the same business errors as the checks above. */
  private translate(err: unknown): unknown {
    if (isUniqueViolation(err, 'operators_one_main')) {
      return new DomainError(ErrorCode.CONFLICT, 'The institution already has a main operator', 'main');
    }
    if (isUniqueViolation(err, 'operators_one_institution')) return actsElsewhere('personId');
    if (isUniqueViolation(err, 'operators_institution_id_person_id_key')) {
      return new DomainError(
        ErrorCode.CONFLICT,
        'This person is already an operator of the institution',
        'personId',
      );
    }
    return err;
  }
}
