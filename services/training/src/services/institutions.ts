import {
  DomainError,
  ErrorCode,
  badInput,
  inRegion,
  isRegionCode,
  isUuid,
  requirePermission,
  requireText,
  uuidv7,
  type Caller,
} from '@vtv/kit';
import { InstitutionRow } from '../data/entities';
import type { InstitutionRepository } from '../data/repositories';
import { normaliseCreditCode } from './credit-code';

export const INSTITUTION_WRITE = 'training:institution:write';

export interface RegisterInstitution {
  name: string;
  creditCode: string;
  regionCode: string;
  address: string;
  latitude: number;
  longitude: number;
}

export class InstitutionService {
  constructor(private readonly institutions: InstitutionRepository) {}

  get(id: string): Promise<InstitutionRow | null> {
    return isUuid(id) ? this.institutions.byId(id) : Promise.resolve(null);
  }

  async register(caller: Caller, input: RegisterInstitution): Promise<InstitutionRow> {
    requirePermission(caller, INSTITUTION_WRITE);
    if (!isRegionCode(input.regionCode))
      throw badInput('regionCode', 'regionCode must be a 6-digit GB/T 2260 code');
    if (!caller.regionCode || !inRegion(caller.regionCode, input.regionCode)) {
      throw new DomainError(ErrorCode.FORBIDDEN, 'The region is outside your jurisdiction', 'regionCode');
    }
    const creditCode = normaliseCreditCode(input.creditCode);
    if (!creditCode) throw badInput('creditCode', 'Not a valid unified social credit code (GB 32100-2015)');
    if (!(Math.abs(input.latitude) <= 90)) throw badInput('latitude', 'latitude must be between -90 and 90');
    if (!(Math.abs(input.longitude) <= 180))
      throw badInput('longitude', 'longitude must be between -180 and 180');
    if (await this.institutions.byCreditCode(creditCode)) {
      throw new DomainError(
        ErrorCode.CONFLICT,
        'An institution with this credit code is already registered',
        'creditCode',
      );
    }
    const row = Object.assign(new InstitutionRow(), {
      id: uuidv7(),
      name: requireText('name', input.name, 200),
      creditCode,
      regionCode: input.regionCode,
      address: requireText('address', input.address, 300),
      latitude: input.latitude,
      longitude: input.longitude,
      createdAt: new Date(),
    });
    await this.institutions.insert(row);
    return row;
  }
}
