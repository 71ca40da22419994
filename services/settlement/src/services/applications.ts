import {
  DomainError,
  ErrorCode,
  badInput,
  inRegion,
  isUuid,
  parsePage,
  regionPrefix,
  toConnection,
  type Caller,
  type Connection,
  type DataSource,
  type EntityManager,
  type PageArgs,
} from '@vtv/kit';
import type { SubsidyApplicationRow, SubsidyApplicationState } from '../data/entities';
import {
  isUniqueViolation,
  type AuditRepository,
  type AuditRow,
  type EvidenceRepository,
  type LineRow,
  type NewLine,
  type SubsidyApplicationRepository,
} from '../data/repositories';
import { evaluateLines } from '../domain/evaluation';
import { sumFen } from '../domain/money';
import { requirePerson, requireRegionArg, staffScope } from './access';
import { publishTransition } from './outbox';
import type { RulesService } from './rules';

export interface LineInput {
  personId: string;
  voucherId: string;
  certificateNumber?: string | null;
}

export interface ApplicationOptions {
  minAttendanceBp: number;
  maxLines: number;
}

const STATES: readonly SubsidyApplicationState[] = [
  'DRAFT',
  'SUBMITTED',
  'FIRST_APPROVED',
  'APPROVED',
  'REJECTED',
  'PAID',
];

const CERT_RE = /^[\p{L}\p{N} ._:/()-]{1,64}$/u;

const notFound = (what = 'Subsidy application', field?: string) =>
  new DomainError(ErrorCode.NOT_FOUND, `${what} not found`, field);

const VOUCHER_HELD_INDEX = 'subsidy_application_lines_voucher_held';

function voucherTaken(voucherId?: string, applicationId?: string): DomainError {
  return new DomainError(
    'VOUCHER_IN_ANOTHER_APPLICATION',
    voucherId
      ? `Voucher ${voucherId} is already claimed by application ${applicationId} (a voucher can be in only one application that is not rejected)`
      : 'A voucher is already claimed by another application that is not rejected',
    'lines',
  );
}

/** Validates and normalises trainee lines: ids are UUIDs, no voucher twice, certificate numbers tidy. */
export function normaliseLines(lines: LineInput[]): NewLine[] {
  const seen = new Set<string>();
  return lines.map((l, i) => {
    const personId = l.personId.toLowerCase();
    const voucherId = l.voucherId.toLowerCase();
    if (!isUuid(personId)) throw badInput(`lines.${i}.personId`, 'personId must be a person id');
    if (!isUuid(voucherId)) throw badInput(`lines.${i}.voucherId`, 'voucherId must be a voucher id');
    if (seen.has(voucherId))
      throw new DomainError(
        'DUPLICATE_VOUCHER',
        `Voucher ${voucherId} is listed twice`,
        `lines.${i}.voucherId`,
      );
    seen.add(voucherId);
    let certificateNumber: string | null = null;
    if (l.certificateNumber != null && l.certificateNumber.trim() !== '') {
      certificateNumber = l.certificateNumber.trim();
      if (!CERT_RE.test(certificateNumber))
        throw badInput(
          `lines.${i}.certificateNumber`,
          'certificateNumber must be 1-64 letters, digits or ._:/()-',
        );
    }
    return { personId, voucherId, certificateNumber };
  });
}

/**
 * Subsidy applications (补贴申请): an institution's operators prepare and file them per class; the evidence
 * is evaluated from the projections on submission and at every review step.
 */
export class SubsidyApplicationService {
  constructor(
    private readonly ds: DataSource,
    private readonly applications: SubsidyApplicationRepository,
    private readonly evidence: EvidenceRepository,
    private readonly rules: RulesService,
    private readonly audit: AuditRepository,
    readonly options: ApplicationOptions,
  ) {}

  // ── Reads ──────────────────────────────────────────────────────────────────────────────────────────

  /** Staff reading in the application's region, or an enabled operator of its institution. */
  async canSee(caller: Caller, app: SubsidyApplicationRow): Promise<boolean> {
    const scope = staffScope(caller);
    if (scope) return inRegion(scope, app.regionCode);
    if (caller.kind === 'person' && caller.id)
      return this.evidence.isOperator(this.ds, app.institutionId, caller.id);
    return false;
  }

  /** Loads an application the caller has just acted on (the service already checked access). */
  load(id: string): Promise<SubsidyApplicationRow | null> {
    return this.applications.byId(id);
  }

  /** "Not yours" is indistinguishable from "does not exist": both are null. */
  async visibleTo(caller: Caller, id: string): Promise<SubsidyApplicationRow | null> {
    if (!isUuid(id)) return null;
    const app = await this.applications.byId(id.toLowerCase());
    return app && (await this.canSee(caller, app)) ? app : null;
  }

  /** A training class's applications the caller may see (empty for everyone else). */
  async forClass(caller: Caller, classId: string): Promise<SubsidyApplicationRow[]> {
    if (!isUuid(classId)) return [];
    const scope = staffScope(caller);
    if (scope) return this.applications.byClass(classId, regionPrefix(scope));
    if (caller.kind !== 'person' || !caller.id) return [];
    const rows = await this.applications.byClass(classId, null);
    const out: SubsidyApplicationRow[] = [];
    const operated = new Map<string, boolean>();
    for (const r of rows) {
      if (!operated.has(r.institutionId))
        operated.set(r.institutionId, await this.evidence.isOperator(this.ds, r.institutionId, caller.id));
      if (operated.get(r.institutionId)) out.push(r);
    }
    return out;
  }

  /** An institution's applications the caller may see, one page at a time in creation order. */
  async forInstitution(
    caller: Caller,
    institutionId: string,
    args: PageArgs,
  ): Promise<Connection<SubsidyApplicationRow>> {
    const { limit, afterKey } = parsePage(args);
    if (afterKey !== null && !isUuid(afterKey)) throw badInput('after', 'Invalid cursor');
    const empty = toConnection<SubsidyApplicationRow>([], limit, (a) => a.id);
    if (!isUuid(institutionId)) return empty;
    const scope = staffScope(caller);
    let prefix: string | null;
    if (scope) prefix = regionPrefix(scope);
    else if (
      caller.kind === 'person' &&
      caller.id &&
      (await this.evidence.isOperator(this.ds, institutionId, caller.id))
    )
      prefix = null;
    else return empty;
    const rows = await this.applications.pageByInstitution(institutionId, prefix, afterKey, limit);
    return toConnection(rows, limit, (a) => a.id);
  }

  /** Staff's work list: applications in a region subtree, optionally in one state. */
  async list(
    caller: Caller,
    args: PageArgs & { regionCode?: string | null; state?: SubsidyApplicationState | null },
  ): Promise<Connection<SubsidyApplicationRow>> {
    const { limit, afterKey } = parsePage(args);
    if (afterKey !== null && !isUuid(afterKey)) throw badInput('after', 'Invalid cursor');
    const scope = staffScope(caller);
    if (!scope) return toConnection<SubsidyApplicationRow>([], limit, (a) => a.id);
    const region = requireRegionArg(scope, args.regionCode ?? scope);
    const state = args.state ?? null;
    if (state !== null && !STATES.includes(state)) throw badInput('state', 'Unknown state');
    const rows = await this.applications.pageByRegion(regionPrefix(region), state, afterKey, limit);
    return toConnection(rows, limit, (a) => a.id);
  }

  /** A page of an application the caller already sees. */
  async lines(
    app: SubsidyApplicationRow,
    args: PageArgs & { onlyAnomalous?: boolean | null },
  ): Promise<Connection<LineRow>> {
    const { limit, afterKey } = parsePage(args, 50);
    if (afterKey !== null && !isUuid(afterKey)) throw badInput('after', 'Invalid cursor');
    const rows = await this.applications.pageLines(app.id, afterKey, limit, args.onlyAnomalous ?? false);
    return toConnection(rows, limit, (l) => l.id);
  }

  history(app: SubsidyApplicationRow): Promise<AuditRow[]> {
    return this.audit.forApplication(this.ds, app.id);
  }

  // ── The institution's side ─────────────────────────────────────────────────────────────────────────

  /** Starts an application (草稿) for a class of the operator's institution. Returns its id. */
  async create(caller: Caller, input: { classId: string; lines: LineInput[] }): Promise<string> {
    const operator = requirePerson(caller);
    const classId = input.classId.toLowerCase();
    if (!isUuid(classId)) throw notFound('Training class', 'classId');
    const lines = normaliseLines(input.lines);
    if (lines.length === 0) throw badInput('lines', 'An application needs at least one trainee');
    const cls = await this.evidence.classById(this.ds, classId);
    // An approved class of an institution the caller operates; anything else looks like "not found".
    if (!cls || !(await this.evidence.isOperator(this.ds, cls.institutionId, operator)))
      throw notFound('Training class', 'classId');
    return this.write(async (m) => {
      const app = await this.applications.insert(m, {
        institutionId: cls.institutionId,
        classId,
        regionCode: cls.regionCode,
        createdBy: operator,
      });
      await this.addLinesTx(m, app, lines);
      await this.audit.record(m, {
        action: 'CREATED',
        actorId: operator,
        actorKind: 'person',
        applicationId: app.id,
        regionCode: app.regionCode,
        details: { lines: lines.length },
      });
      return app.id;
    });
  }

  /** Adds trainees to a draft (or a rejected application, which becomes a draft again). */
  async addLines(caller: Caller, input: { applicationId: string; lines: LineInput[] }): Promise<string> {
    const operator = requirePerson(caller);
    const lines = normaliseLines(input.lines);
    if (lines.length === 0) throw badInput('lines', 'Nothing to add');
    return this.write(async (m) => {
      const app = await this.lockForOperator(m, input.applicationId, operator);
      this.requireEditable(app);
      if (app.state === 'REJECTED') await this.reopen(m, app, operator);
      await this.addLinesTx(m, app, lines);
      await this.audit.record(m, {
        action: 'LINES_ADDED',
        actorId: operator,
        actorKind: 'person',
        applicationId: app.id,
        regionCode: app.regionCode,
        details: { lines: lines.length },
      });
      return app.id;
    });
  }

  /** Removes trainees from a draft (or a rejected application, which becomes a draft again). */
  async removeLines(caller: Caller, input: { applicationId: string; lineIds: string[] }): Promise<string> {
    const operator = requirePerson(caller);
    const ids = input.lineIds.map((id) => id.toLowerCase());
    if (ids.length === 0) throw badInput('lineIds', 'Nothing to remove');
    if (!ids.every(isUuid)) throw badInput('lineIds', 'lineIds must be line ids');
    return this.write(async (m) => {
      const app = await this.lockForOperator(m, input.applicationId, operator);
      this.requireEditable(app);
      const removed = await this.applications.deleteLines(m, app.id, [...new Set(ids)]);
      if (removed !== new Set(ids).size) throw notFound('Line', 'lineIds');
      // Removing first lets an operator drop a voucher another application took while this one was rejected.
      if (app.state === 'REJECTED') await this.reopen(m, app, operator);
      await this.applications.patch(m, app.id, { lineCount: await this.applications.countLines(m, app.id) });
      await this.audit.record(m, {
        action: 'LINES_REMOVED',
        actorId: operator,
        actorKind: 'person',
        applicationId: app.id,
        regionCode: app.regionCode,
        details: { lines: removed },
      });
      return app.id;
    });
  }

  /** Files (or re-files) the application: evidence evaluated, review rule fixed. */
  async submit(caller: Caller, id: string): Promise<string> {
    const operator = requirePerson(caller);
    return this.write(async (m) => {
      const app = await this.lockForOperator(m, id, operator);
      if (app.state !== 'DRAFT' && app.state !== 'REJECTED')
        throw new DomainError(
          ErrorCode.INVALID_STATE,
          `An application in state ${app.state} cannot be submitted`,
        );
      if ((await this.applications.countLines(m, app.id)) === 0)
        throw new DomainError(ErrorCode.INVALID_STATE, 'An application needs at least one trainee');
      if (app.state === 'REJECTED') await this.holdVouchersAgain(m, app.id);
      await this.applications.clearDecisions(m, app.id);
      const rule = await this.rules.effectiveReviewRule(m, app.regionCode);
      await this.evaluate(m, app);
      await this.applications.patch(m, app.id, {
        state: 'SUBMITTED',
        submittedAt: new Date(),
        reviewMode: rule.mode,
        firstReviewedBy: null,
        firstReviewedAt: null,
        finalReviewedBy: null,
        finalReviewedAt: null,
        approvedAmountFen: null,
        approvedLineCount: null,
      });
      await this.audit.record(m, {
        action: 'SUBMITTED',
        actorId: operator,
        actorKind: 'person',
        applicationId: app.id,
        regionCode: app.regionCode,
        details: { reviewMode: rule.mode, ruleDefinedIn: rule.definedIn },
      });
      const fresh = (await this.applications.byId(app.id, m))!;
      await publishTransition(m, fresh, app.state, 'SUBMITTED', operator);
      return app.id;
    });
  }

  // ── Evaluation (also used by review) ───────────────────────────────────────────────────────────────

  /**
   * Re-reads every line's evidence, flags anomalies and computes amounts; stores the snapshot and the
   * application's totals. Runs inside the caller's transaction, with the application row locked.
   */
  async evaluate(m: EntityManager, app: SubsidyApplicationRow): Promise<void> {
    const cls = await this.evidence.classById(m, app.classId);
    const standard = cls
      ? await this.rules.effectiveStandard(m, app.regionCode, cls.trainingType, cls.level)
      : null;
    const evidence = await this.evidence.forApplication(m, app.id, app.classId);
    const evaluations = evaluateLines(evidence, {
      institutionId: app.institutionId,
      classId: app.classId,
      minAttendanceBp: this.options.minAttendanceBp,
      standardFen: standard?.amountFen ?? null,
    });
    await this.applications.saveEvaluation(m, evidence, evaluations);
    await this.applications.patch(m, app.id, {
      totalAmountFen: sumFen(evaluations.map((e) => e.amountFen)),
      anomalyCount: evaluations.filter((e) => e.anomalies.length > 0).length,
      lineCount: evidence.length,
      standardFen: standard?.amountFen ?? null,
      evaluatedAt: new Date(),
    });
  }

  // ── Internals ──────────────────────────────────────────────────────────────────────────────────────

  /** Runs a write; a lost race on the voucher index becomes the business error it is. */
  private async write<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.ds.transaction(work);
    } catch (err) {
      if (isUniqueViolation(err, VOUCHER_HELD_INDEX)) throw voucherTaken();
      throw err;
    }
  }

  private async lockForOperator(
    m: EntityManager,
    id: string,
    operator: string,
  ): Promise<SubsidyApplicationRow> {
    if (!isUuid(id)) throw notFound();
    const app = await this.applications.lock(m, id.toLowerCase());
    if (!app || !(await this.evidence.isOperator(m, app.institutionId, operator))) throw notFound();
    return app;
  }

  private requireEditable(app: SubsidyApplicationRow): void {
    if (app.state !== 'DRAFT' && app.state !== 'REJECTED')
      throw new DomainError(
        ErrorCode.INVALID_STATE,
        `Trainees can only be changed while the application is a draft or rejected (it is ${app.state})`,
      );
  }

  private async addLinesTx(m: EntityManager, app: SubsidyApplicationRow, lines: NewLine[]): Promise<void> {
    const voucherIds = lines.map((l) => l.voucherId);
    const listed = await this.applications.alreadyListed(m, app.id, voucherIds);
    if (listed.length)
      throw new DomainError(
        'DUPLICATE_VOUCHER',
        `Voucher ${listed[0]} is already on this application`,
        'lines',
      );
    const taken = await this.applications.heldElsewhere(m, voucherIds, app.id);
    if (taken.length) throw voucherTaken(taken[0]!.voucherId, taken[0]!.applicationId);
    const count = (await this.applications.countLines(m, app.id)) + lines.length;
    if (count > this.options.maxLines)
      throw badInput('lines', `An application carries at most ${this.options.maxLines} trainees`);
    await this.applications.insertLines(m, app.id, lines);
    await this.applications.patch(m, app.id, { lineCount: count });
  }

  private async holdVouchersAgain(m: EntityManager, applicationId: string): Promise<void> {
    const taken = await this.applications.ownVouchersHeldElsewhere(m, applicationId);
    if (taken.length) throw voucherTaken(taken[0]!.voucherId, taken[0]!.applicationId);
    await this.applications.setHolds(m, applicationId, true);
  }

  /** A rejected application becomes a draft again: its vouchers are taken back. */
  private async reopen(m: EntityManager, app: SubsidyApplicationRow, operator: string): Promise<void> {
    await this.holdVouchersAgain(m, app.id);
    await this.applications.clearDecisions(m, app.id);
    await this.applications.patch(m, app.id, { state: 'DRAFT' });
    await this.audit.record(m, {
      action: 'REOPENED',
      actorId: operator,
      actorKind: 'person',
      applicationId: app.id,
      regionCode: app.regionCode,
    });
    const fresh = (await this.applications.byId(app.id, m))!;
    await publishTransition(m, fresh, 'REJECTED', 'DRAFT', operator);
    app.state = 'DRAFT';
  }
}
