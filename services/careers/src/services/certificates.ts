import { inRegion, isRegionCode, isUuid, regionPrefix, type Caller } from '@vtv/kit';
import type { CertificateRow } from '../data/entities';
import type { CertificateRepository } from '../data/repositories';

export const CAREERS_READ = 'careers:read';

/** The region staff holding careers:read may read certificates in; null for everyone else. */
function staffScope(caller: Caller): string | null {
  if (caller.kind !== 'staff' || !caller.permissions.includes(CAREERS_READ)) return null;
  return caller.regionCode && isRegionCode(caller.regionCode) ? caller.regionCode : null;
}

export class CertificateService {
  constructor(private readonly certificates: CertificateRepository) {}

  /**
   * The holder, or staff holding careers:read whose region contains the certificate's.
   * "Not yours" is indistinguishable from "does not exist": both are null.
   */
  async visibleTo(caller: Caller, id: string): Promise<CertificateRow | null> {
    if (!isUuid(id)) return null;
    const certificate = await this.certificates.byId(id);
    if (!certificate) return null;
    if (caller.kind === 'person' && caller.id === certificate.holderPersonId) return certificate;
    const scope = staffScope(caller);
    return scope && inRegion(scope, certificate.regionCode) ? certificate : null;
  }

  /** A person's certificates: all of them for the person themself, those in region for staff, none for others. */
  async forPerson(caller: Caller, personId: string): Promise<CertificateRow[]> {
    if (!isUuid(personId)) return [];
    if (caller.kind === 'person' && caller.id === personId) return this.certificates.byHolder(personId, null);
    const scope = staffScope(caller);
    return scope ? this.certificates.byHolder(personId, regionPrefix(scope)) : [];
  }
}
