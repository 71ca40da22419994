import { enqueue } from '@vtv/events';
import {
  DomainError,
  ErrorCode,
  badInput,
  isRegionCode,
  isUuid,
  notFound,
  uuidv7,
  type Caller,
} from '@vtv/kit';
import { InstitutionRow, OperatorRow } from '../data/entities';
import { isUniqueViolation } from '../data/repositories';
import { trainingError } from '../errors';
import { INSTITUTION_WRITE } from '../permissions';
import { audit, requireStaff, staffIn, type Access, type Deps } from './context';
import { normaliseCreditCode } from './credit-code';
import { trainingEvents } from './events';
import { optionalText, requireCoordinates, requireText, requireUuid } from './input';

export { INSTITUTION_WRITE };

export interface RegisterInstitution {
  name: string;
  creditCode: string;
  regionCode: string;
  address: string;
  latitude: number;
  longitude: number;
  /** The main operator (主经办人), when the bureau names one at registration. */
  mainOperatorPersonId?: string | null;
  mainOperatorPosition?: string | null;
}

export class InstitutionService {
  constructor(
    private readonly deps: Deps,
    private readonly access: Access,
  ) {}

  get(id: string): Promise<InstitutionRow | null> {
    return isUuid(id) ? this.deps.repos.institutions.byId(id) : Promise.resolve(null);
  }

  /** Staff register an institution in their region, optionally with its main operator. */
  async register(caller: Caller, input: RegisterInstitution): Promise<InstitutionRow> {
    const staff = requireStaff(caller, INSTITUTION_WRITE);
    if (!isRegionCode(input.regionCode))
      throw badInput('regionCode', 'regionCode must be a 6-digit GB/T 2260 code');
    if (!staffIn(caller, input.regionCode, [INSTITUTION_WRITE])) {
      throw new DomainError(ErrorCode.FORBIDDEN, 'The region is outside your jurisdiction', 'regionCode');
    }
    const creditCode = normaliseCreditCode(String(input.creditCode ?? ''));
    if (!creditCode)
      throw badInput(
        'creditCode',
        'Not a valid unified social credit code (统一社会信用代码, GB 32100-2015)',
      );
    const name = requireText('name', input.name, 200);
    const address = requireText('address', input.address, 300);
    requireCoordinates(input.latitude, input.longitude);
    const mainPersonId =
      input.mainOperatorPersonId == null
        ? null
        : requireUuid('mainOperatorPersonId', input.mainOperatorPersonId);
    const position = optionalText('mainOperatorPosition', input.mainOperatorPosition, 50);
    const conflict = () =>
      new DomainError(
        ErrorCode.CONFLICT,
        'An institution with this credit code is already registered',
        'creditCode',
      );
    if (await this.deps.repos.institutions.byCreditCode(creditCode)) throw conflict();

    const now = this.deps.clock.now();
    const row = Object.assign(new InstitutionRow(), {
      id: uuidv7(),
      name,
      creditCode,
      regionCode: input.regionCode,
      address,
      latitude: input.latitude,
      longitude: input.longitude,
      active: false,
      activationChangedAt: null,
      activationChangedBy: null,
      ratingCount: 0,
      ratingSum: 0,
      createdAt: now,
    });
    try {
      await this.deps.ds.transaction(async (m) => {
        await this.deps.repos.institutions.insert(m, row);
        if (mainPersonId) {
          if (await this.deps.repos.operators.enabledMembership(mainPersonId, m))
            throw actsElsewhere('mainOperatorPersonId');
          const op = newOperator(row.id, mainPersonId, true, position, staff.id, now);
          await this.deps.repos.operators.insert(m, op);
          await enqueue(m, [trainingEvents.operatorMembershipChanged(op, now, staff.id)]);
        }
        await audit(
          this.deps,
          m,
          caller,
          'institution.register',
          { type: 'Institution', id: row.id },
          {
            creditCode,
            regionCode: row.regionCode,
            mainOperatorPersonId: mainPersonId,
          },
        );
      });
    } catch (err) {
      if (isUniqueViolation(err, 'institutions_credit_code_key')) throw conflict();
      if (isUniqueViolation(err, 'operators_one_institution')) throw actsElsewhere('mainOperatorPersonId');
      throw err;
    }
    return row;
  }

  /**
   * 关联部端: the bureau links (or unlinks) the institution for voucher issuance. Linking needs an enabled
   * main operator, as in the administrator guide.
   */
  async setActive(caller: Caller, id: string, active: boolean): Promise<InstitutionRow> {
    const staff = requireStaff(caller, INSTITUTION_WRITE);
    if (!isUuid(id)) throw notFound('Institution');
    return this.deps.ds.transaction(async (m) => {
      const row = await this.deps.repos.institutions.lockById(m, id);
      if (!row || !staffIn(caller, row.regionCode, [INSTITUTION_WRITE])) throw notFound('Institution');
      if (row.active === active) {
        throw new DomainError(
          ErrorCode.INVALID_STATE,
          active
            ? 'The institution is already linked for issuance'
            : 'The institution is not linked for issuance',
        );
      }
      if (active && !(await this.deps.repos.operators.mainOf(row.id, m))) {
        throw trainingError(
          'MAIN_OPERATOR_REQUIRED',
          'Add the main operator (主经办人) before linking the institution',
        );
      }
      const now = this.deps.clock.now();
      row.active = active;
      row.activationChangedAt = now;
      row.activationChangedBy = staff.id;
      await this.deps.repos.institutions.save(m, row);
      await enqueue(m, [trainingEvents.institutionActivationChanged(row, now, staff.id)]);
      await audit(this.deps, m, caller, active ? 'institution.activate' : 'institution.deactivate', {
        type: 'Institution',
        id: row.id,
      });
      return row;
    });
  }

  canSeeInternals(caller: Caller, row: InstitutionRow): Promise<boolean> {
    return this.access.canSeeInternals(caller, row);
  }
}

export function newOperator(
  institutionId: string,
  personId: string,
  main: boolean,
  position: string | null,
  createdBy: string,
  now: Date,
): OperatorRow {
  return Object.assign(new OperatorRow(), {
    id: uuidv7(),
    institutionId,
    personId,
    main,
    enabled: true,
    position,
    createdBy,
    createdAt: now,
    updatedAt: now,
  });
}

export const actsElsewhere = (field: string) =>
  new DomainError(
    ErrorCode.CONFLICT,
    'This person already acts as an operator of another institution',
    field,
  );
