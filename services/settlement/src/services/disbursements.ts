import { isUuid, type Caller } from '@vtv/kit';
import type { DisbursementRow } from '../data/entities';
import type { DisbursementRepository } from '../data/repositories';
import type { SubsidyApplicationService } from './applications';

export class DisbursementService {
  constructor(
    private readonly disbursements: DisbursementRepository,
    private readonly applications: SubsidyApplicationService,
  ) {}

  /** A disbursement is visible exactly when its application is. */
  async visibleTo(caller: Caller, id: string): Promise<DisbursementRow | null> {
    if (!isUuid(id)) return null;
    const disbursement = await this.disbursements.byId(id);
    if (!disbursement) return null;
    return (await this.applications.visibleTo(caller, disbursement.applicationId)) ? disbursement : null;
  }

  /** The payment for an application the caller already sees. */
  forApplication(applicationId: string): Promise<DisbursementRow | null> {
    return this.disbursements.byApplication(applicationId);
  }
}
