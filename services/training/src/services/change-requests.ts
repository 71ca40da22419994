import { enqueue, type EventRecord } from '@vtv/events';
import {
  DomainError,
  ErrorCode,
  badInput,
  isUuid,
  notFound,
  parsePage,
  regionPrefix,
  toConnection,
  uuidv7,
  type Caller,
  type EntityManager,
  type PageArgs,
} from '@vtv/kit';
import { ChangeRequestRow, type ChangeRequestState, type OperatorRow } from '../data/entities';
import { isUniqueViolation } from '../data/repositories';
import { trainingError } from '../errors';
import { INSTITUTION_WRITE } from '../permissions';
import { audit, requireStaff, staffIn, type Access, type Deps } from './context';
import { trainingEvents } from './events';
import { optionalText, requireCoordinates, requireText, requireUuid, uuidList } from './input';
import { actsElsewhere, newOperator } from './institutions';

export interface RequestInstitutionChange {
  institutionId: string;
  name?: string | null;
  address?: string | null;
  latitude?: number | null;
  longitude?: number | null;
  /** The new main operator (系统管理员/主经办人). */
  mainOperatorPersonId?: string | null;
  addOperatorPersonIds?: string[] | null;
  disableOperatorPersonIds?: string[] | null;
  reason: string;
}

const MAX_OPERATORS = 50;

/**
 * Art. 10: changes of an institution's name, location, administrator (main operator) or operators are
 * filed by its operators and take effect when the local bureau approves them. One request may be
 * pending per institution; approval applies everything in one transaction or nothing.
 */
export class ChangeRequestService {
  constructor(
    private readonly deps: Deps,
    private readonly access: Access,
  ) {}

  async pageForInstitution(institutionId: string, args: PageArgs) {
    const { limit, afterKey } = parsePage(args);
    const rows = await this.deps.repos.changeRequests.page({ institutionId }, { limit, after: afterKey });
    return toConnection(rows, limit, (r) => r.id);
  }

  /** The bureau's queue: requests in its region subtree, by state. */
  async pageForReview(caller: Caller, state: ChangeRequestState | null | undefined, args: PageArgs) {
    const staff = requireStaff(caller, INSTITUTION_WRITE);
    const { limit, afterKey } = parsePage(args);
    const rows = await this.deps.repos.changeRequests.page(
      { regionPrefix: regionPrefix(staff.regionCode), state: state ?? 'SUBMITTED' },
      { limit, after: afterKey },
    );
    return toConnection(rows, limit, (r) => r.id);
  }

  async request(caller: Caller, input: RequestInstitutionChange): Promise<ChangeRequestRow> {
    const institutionId = requireUuid('institutionId', input.institutionId);
    const name = input.name == null ? null : requireText('name', input.name, 200);
    const address = optionalText('address', input.address, 300);
    const hasLat = input.latitude != null;
    if (hasLat !== (input.longitude != null)) {
      throw badInput(hasLat ? 'longitude' : 'latitude', 'Give latitude and longitude together');
    }
    if (hasLat) requireCoordinates(input.latitude!, input.longitude!);
    const mainPersonId =
      input.mainOperatorPersonId == null
        ? null
        : requireUuid('mainOperatorPersonId', input.mainOperatorPersonId);
    const add = uuidList('addOperatorPersonIds', input.addOperatorPersonIds, MAX_OPERATORS);
    const disable = uuidList('disableOperatorPersonIds', input.disableOperatorPersonIds, MAX_OPERATORS);
    const reason = requireText('reason', input.reason, 500);
    if (!name && !address && !hasLat && !mainPersonId && add.length === 0 && disable.length === 0) {
      throw badInput('institutionId', 'Name at least one change');
    }
    try {
      return await this.deps.ds.transaction(async (m) => {
        const institution = await this.deps.repos.institutions.lockById(m, institutionId);
        if (!institution) throw notFound('Institution');
        await this.access.requireOperator(caller, institutionId, m);
        if (await this.deps.repos.changeRequests.pendingOf(m, institutionId)) {
          throw trainingError(
            'CHANGE_REQUEST_PENDING',
            'A change request of this institution already awaits the bureau',
          );
        }
        const row = Object.assign(new ChangeRequestRow(), {
          id: uuidv7(),
          institutionId,
          regionCode: institution.regionCode,
          state: 'SUBMITTED' as const,
          name,
          address,
          latitude: hasLat ? input.latitude! : null,
          longitude: hasLat ? input.longitude! : null,
          mainOperatorPersonId: mainPersonId,
          addOperatorPersonIds: add,
          disableOperatorPersonIds: disable,
          reason,
          requestedBy: caller.id!,
          requestedAt: this.deps.clock.now(),
          reviewedBy: null,
          reviewedAt: null,
          rejectionReason: null,
        });
        await this.checkOperatorChanges(m, row);
        await this.deps.repos.changeRequests.insert(m, row);
        await audit(
          this.deps,
          m,
          caller,
          'institution-change.request',
          { type: 'InstitutionChangeRequest', id: row.id },
          {
            institutionId,
          },
        );
        return row;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'change_requests_one_pending')) {
        throw trainingError(
          'CHANGE_REQUEST_PENDING',
          'A change request of this institution already awaits the bureau',
        );
      }
      throw err;
    }
  }

  /** Checks the operator changes against the current memberships (at filing and again at approval). */
  private async checkOperatorChanges(m: EntityManager, r: ChangeRequestRow): Promise<void> {
    const ops = this.deps.repos.operators;
    const currentMain = await ops.mainOf(r.institutionId, m);
    if (r.mainOperatorPersonId && currentMain?.personId === r.mainOperatorPersonId) {
      throw badInput('mainOperatorPersonId', 'This person is already the main operator');
    }
    if (r.mainOperatorPersonId && r.disableOperatorPersonIds.includes(r.mainOperatorPersonId)) {
      throw badInput('disableOperatorPersonIds', 'The new main operator cannot also be disabled');
    }
    if (r.addOperatorPersonIds.some((p) => r.disableOperatorPersonIds.includes(p))) {
      throw badInput('disableOperatorPersonIds', 'A person cannot be both added and disabled');
    }
    const mainAfter = r.mainOperatorPersonId ?? currentMain?.personId;
    if (mainAfter && r.disableOperatorPersonIds.includes(mainAfter)) {
      throw badInput(
        'disableOperatorPersonIds',
        'The main operator cannot be disabled; name a new main operator too',
      );
    }
    for (const personId of r.disableOperatorPersonIds) {
      const op = await ops.of(r.institutionId, personId, m);
      if (!op?.enabled)
        throw badInput(
          'disableOperatorPersonIds',
          'Only enabled operators of the institution can be disabled',
        );
    }
    for (const personId of [
      ...r.addOperatorPersonIds,
      ...(r.mainOperatorPersonId ? [r.mainOperatorPersonId] : []),
    ]) {
      const field = r.addOperatorPersonIds.includes(personId)
        ? 'addOperatorPersonIds'
        : 'mainOperatorPersonId';
      const elsewhere = await ops.enabledMembership(personId, m);
      if (elsewhere && elsewhere.institutionId !== r.institutionId) throw actsElsewhere(field);
      if (field === 'addOperatorPersonIds' && elsewhere) {
        throw new DomainError(
          ErrorCode.CONFLICT,
          'This person is already an enabled operator of the institution',
          field,
        );
      }
    }
  }

  async approve(caller: Caller, id: string): Promise<ChangeRequestRow> {
    const staff = requireStaff(caller, INSTITUTION_WRITE);
    if (!isUuid(id)) throw notFound('Change request');
    try {
      return await this.deps.ds.transaction(async (m) => {
        const row = await this.deps.repos.changeRequests.lockById(m, id);
        if (!row || !staffIn(caller, row.regionCode, [INSTITUTION_WRITE])) throw notFound('Change request');
        if (row.state !== 'SUBMITTED') {
          throw new DomainError(
            ErrorCode.INVALID_STATE,
            `Only a submitted request can be approved; this one is ${row.state}`,
          );
        }
        const institution = (await this.deps.repos.institutions.lockById(m, row.institutionId))!;
        await this.checkOperatorChanges(m, row);
        const now = this.deps.clock.now();
        if (row.name) institution.name = row.name;
        if (row.address) institution.address = row.address;
        if (row.latitude != null && row.longitude != null) {
          institution.latitude = row.latitude;
          institution.longitude = row.longitude;
        }
        await this.deps.repos.institutions.save(m, institution);
        const events = await this.applyOperatorChanges(m, row, staff.id, now);
        row.state = 'APPROVED';
        row.reviewedBy = staff.id;
        row.reviewedAt = now;
        await this.deps.repos.changeRequests.save(m, row);
        await enqueue(m, events);
        await audit(
          this.deps,
          m,
          caller,
          'institution-change.approve',
          { type: 'InstitutionChangeRequest', id: row.id },
          {
            institutionId: row.institutionId,
          },
        );
        return row;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'operators_one_institution')) throw actsElsewhere('addOperatorPersonIds');
      throw err;
    }
  }

  private async applyOperatorChanges(
    m: EntityManager,
    r: ChangeRequestRow,
    by: string,
    now: Date,
  ): Promise<EventRecord[]> {
    const ops = this.deps.repos.operators;
    const changed = new Map<string, OperatorRow>();
    const write = async (op: OperatorRow) => {
      op.updatedAt = now;
      await ops.update(m, op);
      changed.set(op.id, op);
    };
    const ensure = async (personId: string): Promise<OperatorRow> => {
      const existing = await ops.of(r.institutionId, personId, m);
      if (existing) {
        if (!existing.enabled) {
          existing.enabled = true;
          await write(existing);
        }
        return existing;
      }
      const op = newOperator(r.institutionId, personId, false, null, by, now);
      await ops.insert(m, op);
      changed.set(op.id, op);
      return op;
    };
    // Order keeps the one-main index satisfied at every statement: demote, disable, add, promote.
    const currentMain = await ops.mainOf(r.institutionId, m);
    if (r.mainOperatorPersonId && currentMain) {
      currentMain.main = false;
      await write(currentMain);
    }
    for (const personId of r.disableOperatorPersonIds) {
      const op = (await ops.of(r.institutionId, personId, m))!;
      op.enabled = false;
      op.main = false;
      await write(op);
    }
    for (const personId of r.addOperatorPersonIds) await ensure(personId);
    if (r.mainOperatorPersonId) {
      const op = await ensure(r.mainOperatorPersonId);
      op.main = true;
      await write(op);
    }
    return [...changed.values()].map((op) => trainingEvents.operatorMembershipChanged(op, now, by));
  }

  async reject(caller: Caller, id: string, reason: string): Promise<ChangeRequestRow> {
    const staff = requireStaff(caller, INSTITUTION_WRITE);
    const why = requireText('reason', reason, 500);
    if (!isUuid(id)) throw notFound('Change request');
    return this.deps.ds.transaction(async (m) => {
      const row = await this.deps.repos.changeRequests.lockById(m, id);
      if (!row || !staffIn(caller, row.regionCode, [INSTITUTION_WRITE])) throw notFound('Change request');
      if (row.state !== 'SUBMITTED') {
        throw new DomainError(
          ErrorCode.INVALID_STATE,
          `Only a submitted request can be rejected; this one is ${row.state}`,
        );
      }
      row.state = 'REJECTED';
      row.reviewedBy = staff.id;
      row.reviewedAt = this.deps.clock.now();
      row.rejectionReason = why;
      await this.deps.repos.changeRequests.save(m, row);
      await audit(
        this.deps,
        m,
        caller,
        'institution-change.reject',
        { type: 'InstitutionChangeRequest', id: row.id },
        {
          reason: why,
        },
      );
      return row;
    });
  }
}
