import { DomainError, ErrorCode, inRegion, isUuid, type Caller, type DataSource } from '@vtv/kit';
import type { DisbursementRow } from '../data/entities';
import {
  isUniqueViolation,
  type AuditRepository,
  type DisbursementRepository,
  type LedgerRepository,
  type SubsidyApplicationRepository,
} from '../data/repositories';
import { SETTLEMENT_DISBURSE } from '../permissions';
import { requireStaff } from './access';
import type { SubsidyApplicationService } from './applications';
import { publishDisbursed, publishTransition } from './outbox';
import { moneyTransaction } from './transactions';

export interface DisburseInput {
  applicationId: string;
  paymentReference: string;
  paidAt?: string | null;
}

const REFERENCE_RE = /^[A-Za-z0-9_.:/-]{1,100}$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

const yuan = (fen: bigint) => {
  const sign = fen < 0n ? '-' : '';
  const abs = fen < 0n ? -fen : fen;
  return `${sign}${(abs / 100n).toString()}.${(abs % 100n).toString().padStart(2, '0')}`;
};

/**
 * Payment (拨付) of approved applications. Exactly once per application, whatever the retries or the
 * number of workers: the application row is locked for the payment; a payment is UNIQUE per application
 * and per reference; a commitment is paid by one PAYMENT entry (unique per application); each voucher is
 * settled once (settled_vouchers' primary key); and the SubsidyDisbursed event is written to the outbox in
 * the same transaction, so it exists exactly when the payment does.
 */
export class DisbursementService {
  constructor(
    private readonly ds: DataSource,
    private readonly disbursements: DisbursementRepository,
    private readonly applications: SubsidyApplicationRepository,
    private readonly ledger: LedgerRepository,
    private readonly audit: AuditRepository,
    private readonly applicationService: SubsidyApplicationService,
  ) {}

  /** A disbursement is visible exactly when its application is. */
  async visibleTo(caller: Caller, id: string): Promise<DisbursementRow | null> {
    if (!isUuid(id)) return null;
    const disbursement = await this.disbursements.byId(id.toLowerCase());
    if (!disbursement) return null;
    return (await this.applicationService.visibleTo(caller, disbursement.applicationId))
      ? disbursement
      : null;
  }

  /** The payment for an application the caller already sees. */
  forApplication(applicationId: string): Promise<DisbursementRow | null> {
    return this.disbursements.byApplication(applicationId);
  }

  byId(id: string): Promise<DisbursementRow | null> {
    return this.disbursements.byId(id);
  }

  /** Records the payment; returns the disbursement id (the same one for every repeat). */
  async disburse(caller: Caller, idempotencyKey: string | undefined, input: DisburseInput): Promise<string> {
    const staff = requireStaff(caller, SETTLEMENT_DISBURSE);
    const id = input.applicationId.toLowerCase();
    const notFound = new DomainError(ErrorCode.NOT_FOUND, 'Subsidy application not found', 'applicationId');
    if (!isUuid(id)) throw notFound;
    const reference = input.paymentReference.trim();
    if (!REFERENCE_RE.test(reference))
      throw new DomainError(
        ErrorCode.BAD_USER_INPUT,
        'paymentReference must be 1-100 characters of A-Z a-z 0-9 _ . : / -',
        'paymentReference',
      );
    let paidAt = new Date();
    if (input.paidAt != null) {
      paidAt = new Date(input.paidAt);
      if (!ISO_RE.test(input.paidAt) || Number.isNaN(paidAt.getTime()))
        throw new DomainError(ErrorCode.BAD_USER_INPUT, 'paidAt must be an ISO 8601 timestamp', 'paidAt');
      if (paidAt.getTime() > Date.now() + 24 * 3600_000)
        throw new DomainError(ErrorCode.BAD_USER_INPUT, 'paidAt lies in the future', 'paidAt');
    }

    try {
      return await moneyTransaction(
        this.ds,
        {
          key: idempotencyKey,
          scope: `settlement.disburse:${staff.id}`,
          input: { id, reference, paidAt: input.paidAt ?? null },
        },
        async (m) => {
          const app = await this.applications.lock(m, id);
          if (!app || !inRegion(staff.region, app.regionCode)) throw notFound;
          if (app.state === 'PAID') {
            // Another worker (or an earlier attempt) paid it: the same payment is the same answer.
            const paid = await this.disbursements.byApplication(app.id, m);
            if (paid && paid.paymentReference === reference) return paid.id;
            throw new DomainError(
              'ALREADY_DISBURSED',
              `The application was already paid (payment reference ${paid?.paymentReference ?? 'unknown'})`,
              'applicationId',
            );
          }
          if (app.state !== 'APPROVED')
            throw new DomainError(
              ErrorCode.INVALID_STATE,
              `An application in state ${app.state} cannot be paid`,
            );
          if (await this.disbursements.byReference(m, reference))
            throw new DomainError(
              'PAYMENT_REFERENCE_USED',
              'This payment reference was already recorded for another application',
              'paymentReference',
            );
          const amount = app.approvedAmountFen!;
          const budgetRegion = app.budgetRegionCode!;

          // Overdraw check under the budget's lock: what was allocated minus what was paid must cover it.
          const accounts = await this.ledger.lockAccounts(m, budgetRegion);
          const balances = await this.ledger.balances(m, budgetRegion);
          const allocated = -balances.FUNDING;
          const unpaid = allocated - balances.PAID;
          if (unpaid < amount)
            throw new DomainError(
              'INSUFFICIENT_BUDGET',
              `Paying ${yuan(amount)} yuan would overdraw the training-subsidy budget of region ${budgetRegion}: ` +
                `${yuan(unpaid)} yuan of ${yuan(allocated)} allocated remain unpaid`,
              'applicationId',
            );
          if (balances.COMMITTED < amount) throw new Error(`ledger: commitment of ${app.id} is missing`);

          const voucherIds = await this.applications.approvedVoucherIds(m, app.id);
          if (voucherIds.length !== app.approvedLineCount)
            throw new Error(
              `application ${app.id}: ${voucherIds.length} approved vouchers, expected ${app.approvedLineCount}`,
            );
          const disbursement = await this.disbursements.insert(m, {
            applicationId: app.id,
            amountFen: amount,
            paymentReference: reference,
            paidAt,
            budgetRegionCode: budgetRegion,
            voucherCount: voucherIds.length,
            disbursedBy: staff.id,
          });
          const settled = await this.applications.settleVouchers(m, app.id, disbursement.id);
          if (settled !== voucherIds.length)
            throw new Error(`application ${app.id}: settled ${settled} vouchers`);
          await this.ledger.post(
            m,
            {
              regionCode: budgetRegion,
              kind: 'PAYMENT',
              applicationId: app.id,
              actorId: staff.id,
              memo: `Payment ${reference}`,
              lines: [
                { account: 'PAID', amountFen: amount, institutionId: app.institutionId },
                { account: 'COMMITTED', amountFen: -amount, institutionId: app.institutionId },
              ],
            },
            accounts,
          );
          await this.applications.patch(m, app.id, { state: 'PAID' });
          await this.audit.record(m, {
            action: 'DISBURSED',
            actorId: staff.id,
            actorKind: 'staff',
            applicationId: app.id,
            regionCode: app.regionCode,
            details: {
              disbursementId: disbursement.id,
              paymentReference: reference,
              amountFen: amount.toString(),
              vouchers: voucherIds.length,
              budgetRegionCode: budgetRegion,
            },
          });
          const fresh = (await this.applications.byId(app.id, m))!;
          await publishDisbursed(m, fresh, disbursement, voucherIds);
          await publishTransition(m, fresh, 'APPROVED', 'PAID', staff.id);
          return disbursement.id;
        },
      );
    } catch (err) {
      // The constraints are the last word when two payments race past every check above.
      if (isUniqueViolation(err, 'settled_vouchers_pkey'))
        throw new DomainError(
          'VOUCHER_ALREADY_SETTLED',
          'A voucher of this application was already paid for',
        );
      if (isUniqueViolation(err, 'disbursements_payment_reference_key'))
        throw new DomainError(
          'PAYMENT_REFERENCE_USED',
          'This payment reference was already recorded for another application',
          'paymentReference',
        );
      if (isUniqueViolation(err))
        throw new DomainError('ALREADY_DISBURSED', 'The application was already paid', 'applicationId');
      throw err;
    }
  }
}
