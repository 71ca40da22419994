import {
  DomainError,
  ErrorCode,
  inRegion,
  regionPrefix,
  requireCaller,
  uuidv7,
  type Caller,
  type DataSource,
  type EntityManager,
} from '@vtv/kit';
import type { Clock } from '../clock';
import type { TrainingConfig } from '../config';
import { AuditRow, type InstitutionRow, type OperatorRow } from '../data/entities';
import type { Repositories } from '../data/repositories';
import { STAFF_READ_PERMISSIONS } from '../permissions';

/** What every domain service of this subgraph works with. */
export interface Deps {
  ds: DataSource;
  repos: Repositories;
  clock: Clock;
  config: TrainingConfig;
}

export const SOURCE = '/vtv/training';

/** Staff and integrators act by permission inside their region; people act as themselves. */
const isAuthority = (caller: Caller) => caller.kind === 'staff' || caller.kind === 'client';

/** True when the caller is staff (or an integrator) whose region subtree holds `regionCode` and who holds one of `permissions`. */
export function staffIn(caller: Caller, regionCode: string, permissions: readonly string[]): boolean {
  return (
    isAuthority(caller) &&
    !!caller.regionCode &&
    inRegion(caller.regionCode, regionCode) &&
    permissions.some((p) => caller.permissions.includes(p))
  );
}

/** Requires a staff caller holding `permission`; returns the caller's region (its jurisdiction). */
export function requireStaff(caller: Caller, permission: string): { id: string; regionCode: string } {
  requireCaller(caller);
  if (!isAuthority(caller) || !caller.permissions.includes(permission) || !caller.regionCode) {
    throw new DomainError(ErrorCode.FORBIDDEN, `Missing permission ${permission}`);
  }
  return { id: caller.id, regionCode: caller.regionCode };
}

/** The region-subtree prefix staff may read in, or null when the caller is not such staff. */
export function readableRegionPrefix(caller: Caller): string | null {
  if (!isAuthority(caller) || !caller.regionCode) return null;
  return STAFF_READ_PERMISSIONS.some((p) => caller.permissions.includes(p))
    ? regionPrefix(caller.regionCode)
    : null;
}

/** Requires a signed-in person (劳动者 or operator); returns their person id. */
export function requirePerson(caller: Caller): string {
  requireCaller(caller);
  if (caller.kind !== 'person')
    throw new DomainError(ErrorCode.FORBIDDEN, 'Only a signed-in person can do this');
  return caller.id;
}

/** Operator membership checks: training owns who acts for which institution. */
export class Access {
  constructor(private readonly repos: Repositories) {}

  /** The caller's enabled membership of the institution, or null. */
  async operatorOf(caller: Caller, institutionId: string, m?: EntityManager): Promise<OperatorRow | null> {
    if (caller.kind !== 'person' || !caller.id) return null;
    const row = await this.repos.operators.of(institutionId, caller.id, m);
    return row?.enabled ? row : null;
  }

  /** Requires the caller to be an enabled operator (经办人) of the institution. */
  async requireOperator(caller: Caller, institutionId: string, m?: EntityManager): Promise<OperatorRow> {
    requirePerson(caller);
    const row = await this.operatorOf(caller, institutionId, m);
    if (!row) {
      throw new DomainError(
        ErrorCode.FORBIDDEN,
        'You are not an enabled operator (经办人) of this institution',
      );
    }
    return row;
  }

  /** Operators of the institution and staff reading in its region see its internals (operators, rosters). */
  async canSeeInternals(
    caller: Caller,
    institution: Pick<InstitutionRow, 'id' | 'regionCode'>,
  ): Promise<boolean> {
    if (staffIn(caller, institution.regionCode, STAFF_READ_PERMISSIONS)) return true;
    return (await this.operatorOf(caller, institution.id)) !== null;
  }
}

/** Appends to the audit log inside the action's transaction: the record exists exactly when the action does. */
export async function audit(
  deps: Deps,
  m: EntityManager,
  caller: Caller,
  action: string,
  subject: { type: string; id: string },
  detail: Record<string, unknown> = {},
): Promise<void> {
  await deps.repos.audit.append(
    m,
    Object.assign(new AuditRow(), {
      id: uuidv7(),
      at: deps.clock.now(),
      actorKind: caller.kind,
      actorId: caller.id ?? '',
      action,
      subjectType: subject.type,
      subjectId: subject.id,
      detail,
    }),
  );
}
