import {
  DomainError,
  ErrorCode,
  badInput,
  isUuid,
  requireCaller,
  requirePermission,
  type Caller,
} from '@vtv/kit';
import { CarerRow, ProgrammeClassRow, type CareType } from '../data/entities';
import type { ProgrammeRepository } from '../data/repositories';

export const CARERS_WRITE = 'hubei-carers:write';
const HUBEI = '420000';
const CARE_TYPES: CareType[] = ['ELDERLY', 'MATERNAL', 'MEDICAL'];

export class ProgrammeService {
  constructor(private readonly repo: ProgrammeRepository) {}

  classInfo(classId: string): Promise<ProgrammeClassRow | null> {
    return isUuid(classId) ? this.repo.classById(classId) : Promise.resolve(null);
  }

  /** Provincial staff only: the programme is Hubei's, so the caller's region must be the province. */
  async designate(
    caller: Caller,
    classId: string,
    careType: CareType,
    topUpFen: number,
  ): Promise<ProgrammeClassRow> {
    requirePermission(caller, CARERS_WRITE);
    if (caller.regionCode !== HUBEI)
      throw new DomainError(ErrorCode.FORBIDDEN, 'Only the Hubei provincial bureau runs the carer programme');
    if (!isUuid(classId)) throw badInput('classId', 'classId must be a class id');
    if (!Number.isInteger(topUpFen) || topUpFen < 0 || topUpFen > 1_000_000)
      throw badInput('topUpFen', 'topUpFen must be whole fen between 0 and 1,000,000');
    const row = Object.assign(new ProgrammeClassRow(), {
      classId,
      careType,
      topUpFen,
      designatedBy: caller.id,
      designatedAt: new Date(),
    });
    await this.repo.upsertClass(row);
    return row;
  }

  async register(caller: Caller, careTypes: CareType[]): Promise<CarerRow> {
    requireCaller(caller, 'person');
    const types = [...new Set(careTypes)];
    if (types.length === 0 || types.some((t) => !CARE_TYPES.includes(t)))
      throw badInput('careTypes', 'Choose at least one care type');
    const existing = await this.repo.carer(caller.id);
    const row = Object.assign(new CarerRow(), {
      personId: caller.id,
      careTypes: types,
      certifiedAt: existing?.certifiedAt ?? null,
      registeredAt: existing?.registeredAt ?? new Date(),
    });
    await this.repo.upsertCarer(row);
    return row;
  }

  /** The person themself only; anyone else sees nothing. */
  registration(caller: Caller, personId: string): Promise<CarerRow | null> {
    return caller.kind === 'person' && caller.id === personId
      ? this.repo.carer(personId)
      : Promise.resolve(null);
  }
}
