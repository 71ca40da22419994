import { enqueue } from '@vtv/events';
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
  type Connection,
  type EntityManager,
  type PageArgs,
} from '@vtv/kit';
import {
  BatchRow,
  type ApprovedClassRow,
  type BatchState,
  type BatchTransitionRow,
  type BusinessMode,
  type FunctionMode,
  type ValidityEnd,
  type VoucherRow,
} from '../data/entities';
import type { NewVoucher } from '../data/repositories';
import { codeDigest, codeHint, deriveCode } from '../domain/codes';
import { endOfChinaDay } from '../domain/dates';
import { VoucherError } from '../errors';
import { voucherEvents } from '../events/outgoing';
import { VOUCHERS_INVALIDATE, VOUCHERS_ISSUE, VOUCHERS_READ, VOUCHERS_REVIEW } from '../permissions';
import { SYSTEM, requireInRegion, staffActor, staffRegion, staffSees, type Actor } from './access';
import { audit, keyed, type Deps } from './context';
import {
  date,
  fen,
  optionalFen,
  optionalOneOf,
  optionalText,
  reason as reasonInput,
  text,
  uuid,
} from './input';
import type { Lifecycle } from './lifecycle';
import { FUNCTION_MODES, VALIDITY_ENDS, type RuleService } from './rules';

export interface CreateBatchInput {
  classId: string;
  name?: string | null;
  functionMode?: FunctionMode | null;
  businessMode?: BusinessMode | null;
  faceValueFen?: number | null;
  certificateLevel?: string | null;
  eligiblePopulation?: string | null;
  validityEnd?: ValidityEnd | null;
  /** YYYY-MM-DD: overrides the validity end the rule gives (券有效期 chosen by hand). */
  validUntil?: string | null;
  nationalTemplateCode?: string | null;
  nationalTemplateName?: string | null;
}

const BUSINESS_MODES: readonly BusinessMode[] = ['POPULAR', 'UPGRADE'];
const PENDING: readonly BatchState[] = ['PENDING_REVIEW', 'PENDING_FIRST_REVIEW', 'PENDING_SECOND_REVIEW'];
const READ_PERMISSIONS = [VOUCHERS_READ, VOUCHERS_ISSUE, VOUCHERS_REVIEW, VOUCHERS_INVALIDATE];
const NATIONAL_CODE_RE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Directed vouchers (定向券, SPEC §4.3): the awaiting-issuance list, batches created from approved classes
 * with defaults from the plan and the inherited rules, review (none / single / first + second by two
 * people), issuance of one voucher per roster member, supplementary issuance, invalidation — and the
 * AUTO flow that does all of it from training's events without a click.
 */
export class BatchService {
  constructor(
    private readonly deps: Deps,
    private readonly rules: RuleService,
    private readonly lifecycle: Lifecycle,
  ) {}

  private get repos() {
    return this.deps.repos;
  }

  // ------------------------------------------------------------------ reads

  /** 待发券: approved classes in the caller's subtree whose vouchers are not issued yet. */
  async awaitingInRegion(caller: Caller, args: PageArgs): Promise<Connection<ApprovedClassRow>> {
    const root = staffRegion(
      caller,
      caller.permissions.includes(VOUCHERS_ISSUE) ? VOUCHERS_ISSUE : VOUCHERS_READ,
    );
    const { limit, afterKey } = parsePage(args);
    if (afterKey !== null && !isUuid(afterKey)) throw badInput('after', 'Invalid cursor');
    const rows = await this.repos.classes.pageAwaiting(regionPrefix(root), limit, afterKey);
    return toConnection(rows, limit, (r) => r.classId);
  }

  async isAwaiting(classId: string): Promise<boolean> {
    if (!isUuid(classId)) return false;
    const row = await this.repos.classes.byId(classId);
    return !!row && row.issuedAt === null;
  }

  private readable(caller: Caller, regionCode: string): boolean {
    return READ_PERMISSIONS.some((p) => staffSees(caller, p, regionCode));
  }

  async get(caller: Caller, id: string): Promise<BatchRow | null> {
    if (!isUuid(id)) return null;
    const b = await this.repos.batches.byId(id);
    return b && this.readable(caller, b.regionCode) ? b : null;
  }

  /** 已发券管理 / 培训券审核: the caller's subtree, optionally by state. */
  async page(caller: Caller, states: BatchState[] | null, args: PageArgs): Promise<Connection<BatchRow>> {
    const root = staffRegion(
      caller,
      READ_PERMISSIONS.find((p) => caller.permissions.includes(p)) ?? VOUCHERS_READ,
    );
    const { limit, afterKey } = parsePage(args);
    if (afterKey !== null && !isUuid(afterKey)) throw badInput('after', 'Invalid cursor');
    const rows = await this.repos.batches.pageInRegion(regionPrefix(root), states, limit, afterKey);
    return toConnection(rows, limit, (r) => r.id);
  }

  async forClass(caller: Caller, classId: string): Promise<BatchRow[]> {
    if (!isUuid(classId) || (caller.kind !== 'staff' && caller.kind !== 'client') || !caller.regionCode)
      return [];
    const rows = await this.repos.batches.byClass(classId, regionPrefix(caller.regionCode));
    return rows.filter((b) => this.readable(caller, b.regionCode));
  }

  liveForClass(classId: string): Promise<BatchRow | null> {
    return this.repos.batches.liveForClass(classId);
  }

  history(batchId: string): Promise<BatchTransitionRow[]> {
    return this.repos.batches.history(batchId);
  }

  // ------------------------------------------------------------------ writes

  /** 创建券: a draft batch for an approved class, its defaults from the plan and the inherited rules. */
  async create(caller: Caller, input: CreateBatchInput): Promise<string> {
    const root = staffRegion(caller, VOUCHERS_ISSUE);
    const classId = uuid('classId', input.classId);
    const cls = await this.repos.classes.byId(classId);
    if (!cls) throw notFound('Class awaiting issuance');
    requireInRegion(root, cls.regionCode, 'Class awaiting issuance');
    const draft = await this.draft(cls, input, staffActor(caller));
    return this.deps.ds.transaction(async (m) => {
      await this.insertDraft(m, cls.classId, draft, staffActor(caller));
      return draft.id;
    });
  }

  /** Builds a draft from the plan, the rules and the input; throws on bad input before any write. */
  private async draft(cls: ApprovedClassRow, input: CreateBatchInput, actor: Actor): Promise<BatchRow> {
    const now = this.deps.now();
    const [issuance, face] = await Promise.all([
      this.rules.resolveIssuanceRule(cls.regionCode),
      this.rules.resolveFaceValueRule(cls.regionCode, cls.trainingType),
    ]);
    const functionMode =
      optionalOneOf('functionMode', input.functionMode, FUNCTION_MODES) ??
      face.values.functionMode ??
      'FACE_VALUE';
    let faceValueFen: number | null = null;
    if (functionMode === 'FACE_VALUE') {
      faceValueFen = optionalFen('faceValueFen', input.faceValueFen) ?? face.values.subsidyAmountFen;
      if (faceValueFen === null) {
        throw badInput(
          'faceValueFen',
          `No face-value rule for ${cls.trainingType} applies in ${cls.regionCode} or above: give faceValueFen`,
        );
      }
      fen('faceValueFen', faceValueFen);
    }
    const validityEnd =
      optionalOneOf('validityEnd', input.validityEnd, VALIDITY_ENDS) ??
      issuance.values.validityEnd ??
      'CLASS_END_DATE';
    const validUntil = input.validUntil
      ? endOfChinaDay(date('validUntil', input.validUntil))
      : endOfChinaDay(validityEnd === 'CLASS_START_DATE' ? cls.startDate : cls.endDate);
    if (validUntil.getTime() <= now.getTime())
      throw badInput(
        input.validUntil ? 'validUntil' : 'validityEnd',
        'The vouchers would already have expired',
      );
    const code = optionalText('nationalTemplateCode', input.nationalTemplateCode, 64);
    if (code && !NATIONAL_CODE_RE.test(code))
      throw badInput(
        'nationalTemplateCode',
        'nationalTemplateCode must be 1-64 characters of A-Z a-z 0-9 _ -',
      );
    const b = new BatchRow();
    Object.assign(b, {
      id: uuidv7(now.getTime()),
      classId: cls.classId,
      institutionId: cls.institutionId,
      regionCode: cls.regionCode,
      name: input.name != null ? text('name', input.name, 100) : cls.name,
      state: 'DRAFT',
      quantity: cls.rosterPersonIds.length,
      issuedCount: 0,
      functionMode,
      businessMode: optionalOneOf('businessMode', input.businessMode, BUSINESS_MODES),
      faceValueFen,
      trainingType: cls.trainingType,
      occupation: cls.occupation,
      certificateLevel:
        optionalText('certificateLevel', input.certificateLevel, 50) ??
        face.values.certificateLevel ??
        cls.level,
      eligiblePopulation:
        optionalText('eligiblePopulation', input.eligiblePopulation, 200) ?? face.values.eligiblePopulation,
      validityEnd: input.validUntil ? null : validityEnd,
      validUntil,
      reviewMode: issuance.values.reviewMode ?? 'SINGLE',
      flow: issuance.values.flow ?? 'MANUAL',
      nationalTemplateCode: code,
      nationalTemplateName: optionalText('nationalTemplateName', input.nationalTemplateName, 100),
      firstReviewerId: null,
      firstReviewedAt: null,
      secondReviewerId: null,
      secondReviewedAt: null,
      rejectionReason: null,
      createdBy: actor.id,
      createdAt: now,
      issuedAt: null,
      invalidatedAt: null,
      invalidatedBy: null,
      invalidationReason: null,
    } satisfies Omit<BatchRow, never>);
    return b;
  }

  private async insertDraft(m: EntityManager, classId: string, b: BatchRow, actor: Actor): Promise<void> {
    const cls = await this.repos.classes.lock(m, classId);
    if (!cls) throw notFound('Class awaiting issuance');
    if (cls.issuedAt)
      throw new DomainError(ErrorCode.CONFLICT, 'Vouchers for this class were already issued');
    if (await this.repos.batches.lockLiveForClass(m, classId))
      throw new DomainError(ErrorCode.CONFLICT, 'This class already has a voucher batch');
    b.quantity = cls.rosterPersonIds.length;
    await this.repos.batches.insert(m, b);
    await this.record(m, b, null, actor, null);
    await audit(
      this.deps,
      m,
      actor,
      'batch.create',
      { type: 'batch', id: b.id, regionCode: b.regionCode },
      {
        classId,
        functionMode: b.functionMode,
        faceValueFen: b.faceValueFen,
      },
    );
  }

  /** 提交审核: DRAFT → the review the rule asks for (or straight to APPROVED without review). */
  async submit(caller: Caller, id: string): Promise<string> {
    const actor = staffActor(caller);
    return this.withBatch(caller, VOUCHERS_ISSUE, id, async (m, b) => {
      if (b.state !== 'DRAFT') throw invalidState(b, 'Only a draft can be submitted');
      await this.submitDraft(m, b, actor);
    });
  }

  private async submitDraft(m: EntityManager, b: BatchRow, actor: Actor): Promise<void> {
    b.rejectionReason = null;
    const next: BatchState =
      b.reviewMode === 'NONE'
        ? 'APPROVED'
        : b.reviewMode === 'SINGLE'
          ? 'PENDING_REVIEW'
          : 'PENDING_FIRST_REVIEW';
    await this.move(m, b, next, actor, b.reviewMode === 'NONE' ? 'no review required (无需审核)' : null);
    if (next === 'APPROVED') await this.afterApproval(m, b, actor);
  }

  /** 审核 / 初审 / 复审. The second review must be by someone other than the first reviewer. */
  async approve(caller: Caller, id: string): Promise<string> {
    const actor = staffActor(caller);
    return this.withBatch(caller, VOUCHERS_REVIEW, id, async (m, b) => {
      const now = this.deps.now();
      let next: BatchState;
      if (b.state === 'PENDING_REVIEW' || b.state === 'PENDING_FIRST_REVIEW') {
        b.firstReviewerId = actor.id;
        b.firstReviewedAt = now;
        next = b.state === 'PENDING_REVIEW' ? 'APPROVED' : 'PENDING_SECOND_REVIEW';
      } else if (b.state === 'PENDING_SECOND_REVIEW') {
        if (b.firstReviewerId === actor.id) {
          throw new DomainError(
            VoucherError.SAME_REVIEWER,
            'The second review (复审) must be done by someone other than the first reviewer',
          );
        }
        b.secondReviewerId = actor.id;
        b.secondReviewedAt = now;
        next = 'APPROVED';
      } else {
        throw invalidState(b, 'This batch is not waiting for review');
      }
      await this.move(m, b, next, actor, null);
      await audit(
        this.deps,
        m,
        actor,
        'batch.approve',
        { type: 'batch', id: b.id, regionCode: b.regionCode },
        {
          state: next,
        },
      );
      if (next === 'APPROVED') await this.afterApproval(m, b, actor);
    });
  }

  /** 驳回: back to draft with the reason. */
  async reject(caller: Caller, id: string, why: string): Promise<string> {
    const actor = staffActor(caller);
    const reason = reasonInput(why);
    return this.withBatch(caller, VOUCHERS_REVIEW, id, async (m, b) => {
      if (!PENDING.includes(b.state)) throw invalidState(b, 'This batch is not waiting for review');
      b.rejectionReason = reason;
      b.firstReviewerId = null;
      b.firstReviewedAt = null;
      await this.move(m, b, 'DRAFT', actor, reason);
      await audit(
        this.deps,
        m,
        actor,
        'batch.reject',
        { type: 'batch', id: b.id, regionCode: b.regionCode },
        { reason },
      );
    });
  }

  /** 发券: one voucher per roster member. */
  async issue(caller: Caller, id: string, key?: string): Promise<string> {
    const actor = staffActor(caller);
    return this.withBatch(
      caller,
      VOUCHERS_ISSUE,
      id,
      async (m, b) => {
        if (b.state !== 'APPROVED') throw invalidState(b, 'Only an approved batch can be issued');
        await this.issueMissing(m, b, actor, 'ISSUED', 'issued (发券)');
      },
      { key, operation: 'issueVoucherBatch' },
    );
  }

  /** 人员追加: vouchers for the people who joined the roster after issuance. */
  async supplement(caller: Caller, id: string, key?: string): Promise<string> {
    const actor = staffActor(caller);
    return this.withBatch(
      caller,
      VOUCHERS_ISSUE,
      id,
      async (m, b) => {
        if (b.state !== 'AWAITING_SUPPLEMENT')
          throw invalidState(b, 'This batch is not awaiting a supplement');
        await this.issueMissing(m, b, actor, 'ISSUED', 'supplementary issue (追加发券)');
      },
      { key, operation: 'issueSupplementaryVouchers' },
    );
  }

  /** 设置失效: the batch and every voucher of it not yet settled, with the reason; irreversible. */
  async invalidate(caller: Caller, id: string, why: string, key?: string): Promise<string> {
    const actor = staffActor(caller);
    const reason = reasonInput(why);
    return this.withBatch(
      caller,
      VOUCHERS_INVALIDATE,
      id,
      async (m, b) => {
        if (b.state === 'INVALIDATED') throw invalidState(b, 'This batch is already invalidated');
        const at = this.deps.now();
        b.invalidatedAt = at;
        b.invalidatedBy = actor.id;
        b.invalidationReason = reason;
        await this.move(m, b, 'INVALIDATED', actor, reason);
        const vouchers = await this.lifecycle.apply(
          m,
          { batchId: b.id },
          { to: 'INVALIDATED', actor, reason, at },
        );
        await audit(
          this.deps,
          m,
          actor,
          'batch.invalidate',
          { type: 'batch', id: b.id, regionCode: b.regionCode },
          {
            reason,
            vouchers: vouchers.length,
          },
        );
      },
      { key, operation: 'invalidateVoucherBatch', input: { reason } },
    );
  }

  /** 关联部端: record the national (ministry) template the batch is linked to. */
  async linkNationalTemplate(caller: Caller, id: string, code: string, name: string): Promise<string> {
    const actor = staffActor(caller);
    const c = text('code', code, 64);
    if (!NATIONAL_CODE_RE.test(c)) throw badInput('code', 'code must be 1-64 characters of A-Z a-z 0-9 _ -');
    const n = text('name', name, 100);
    return this.withBatch(caller, VOUCHERS_ISSUE, id, async (m, b) => {
      if (b.state === 'INVALIDATED') throw invalidState(b, 'This batch is invalidated');
      b.nationalTemplateCode = c;
      b.nationalTemplateName = n;
      await this.repos.batches.update(m, b);
      await audit(
        this.deps,
        m,
        actor,
        'batch.link-national-template',
        { type: 'batch', id: b.id, regionCode: b.regionCode },
        {
          code: c,
          name: n,
        },
      );
    });
  }

  // ------------------------------------------------------------------ events

  /**
   * ClassPlanApproved: the class joins the awaiting-issuance list; when the region's rule says AUTO, a
   * batch is created with the defaults, submitted, and — once its review passes (at once without one) —
   * issued. A plan the defaults cannot cover (no face value) stays in the list for a person to handle.
   */
  async onClassApproved(m: EntityManager, cls: Omit<ApprovedClassRow, 'issuedAt'>): Promise<void> {
    if (!(await this.repos.classes.insert(m, cls))) return; // A replayed approval.
    const rule = await this.rules.resolveIssuanceRule(cls.regionCode);
    if (rule.values.flow !== 'AUTO') return;
    let draft: BatchRow;
    try {
      draft = await this.draft({ ...cls, issuedAt: null }, { classId: cls.classId }, SYSTEM);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      this.deps.logger.warn(
        { classId: cls.classId, reason: err.message },
        'AUTO issuance skipped; the class waits for a person',
      );
      return;
    }
    await this.insertDraft(m, cls.classId, draft, SYSTEM);
    await this.submitDraft(m, draft, SYSTEM);
  }

  /**
   * RosterChanged: the projection follows the roster. After issuance, added people put the batch in
   * AWAITING_SUPPLEMENT (待追加) — or, in the AUTO flow, get their vouchers at once; removed people's
   * unused directed vouchers are invalidated.
   */
  async onRosterChanged(
    m: EntityManager,
    e: { classId: string; added: string[]; removed: string[]; at: Date; by: string },
  ): Promise<void> {
    const roster = await this.repos.classes.changeRoster(m, e.classId, e.added, e.removed);
    if (!roster) {
      this.deps.logger.warn(
        { classId: e.classId },
        'roster change for a class not known as approved; ignored',
      );
      return;
    }
    const b = await this.repos.batches.lockLiveForClass(m, e.classId);
    if (!b) return;
    const at = this.deps.now();
    if (e.removed.length) {
      const ids = await this.repos.vouchers.heldInBatch(m, b.id, e.removed);
      if (ids.length)
        await this.lifecycle.apply(
          m,
          { ids },
          { to: 'INVALIDATED', actor: SYSTEM, reason: 'removed from the class roster', at },
        );
    }
    if (b.state === 'ISSUED' || b.state === 'AWAITING_SUPPLEMENT') {
      const holders = await this.repos.vouchers.holdersOfBatch(m, b.id);
      const missing = roster.filter((p) => !holders.has(p));
      b.quantity = roster.length;
      if (missing.length === 0) {
        await this.repos.batches.update(m, b);
      } else if (b.flow === 'AUTO') {
        await this.issueMissing(m, b, SYSTEM, 'ISSUED', 'supplementary issue (追加发券, AUTO)');
      } else if (b.state === 'ISSUED') {
        await this.move(
          m,
          b,
          'AWAITING_SUPPLEMENT',
          SYSTEM,
          `${missing.length} joined the roster after issuance`,
        );
      } else {
        await this.repos.batches.update(m, b);
      }
    } else if (b.state !== 'INVALIDATED') {
      b.quantity = roster.length;
      await this.repos.batches.update(m, b);
    }
  }

  // ------------------------------------------------------------------ internals

  private async afterApproval(m: EntityManager, b: BatchRow, actor: Actor): Promise<void> {
    if (b.flow !== 'AUTO') return;
    if (b.validUntil.getTime() <= this.deps.now().getTime()) {
      this.deps.logger.warn({ batchId: b.id }, 'AUTO issuance skipped: the batch validity has ended');
      return;
    }
    await this.issueMissing(
      m,
      b,
      actor.kind === 'SYSTEM' ? SYSTEM : actor,
      'ISSUED',
      'issued automatically (自动发券)',
    );
  }

  /** Issues a voucher to every roster member who has none of this batch yet, then moves the batch. */
  private async issueMissing(
    m: EntityManager,
    b: BatchRow,
    actor: Actor,
    to: BatchState,
    reason: string,
  ): Promise<VoucherRow[]> {
    const at = this.deps.now();
    if (b.validUntil.getTime() <= at.getTime())
      throw invalidState(b, 'The batch’s validity has ended; invalidate it and create a new one');
    const cls = await this.repos.classes.lock(m, b.classId);
    if (!cls) throw notFound('Class awaiting issuance');
    const holders = await this.repos.vouchers.holdersOfBatch(m, b.id);
    const vouchers: NewVoucher[] = cls.rosterPersonIds
      .filter((p) => !holders.has(p))
      .map((personId) => {
        const id = uuidv7(at.getTime());
        const code = deriveCode(this.deps.codeKey, id);
        return {
          id,
          holderPersonId: personId,
          regionCode: b.regionCode,
          kind: 'DIRECTED',
          batchId: b.id,
          templateId: null,
          classId: b.classId,
          institutionId: b.institutionId,
          functionMode: b.functionMode,
          businessMode: b.businessMode,
          faceValueFen: b.faceValueFen,
          trainingType: b.trainingType,
          occupation: b.occupation,
          certificateLevel: b.certificateLevel,
          codeDigest: codeDigest(code),
          codeHint: codeHint(code),
          issuedAt: at,
          validFrom: at,
          validUntil: b.validUntil,
        };
      });
    const inserted = await this.repos.vouchers.insertIssued(m, vouchers);
    await this.lifecycle.recordIssued(m, inserted, actor, reason);
    b.issuedCount += inserted.length;
    b.quantity = cls.rosterPersonIds.length;
    b.issuedAt ??= at;
    await this.repos.classes.markIssued(m, cls.classId, at);
    if (b.state !== to) await this.move(m, b, to, actor, `${reason}: ${inserted.length}`);
    else await this.repos.batches.update(m, b);
    await audit(
      this.deps,
      m,
      actor,
      'batch.issue',
      { type: 'batch', id: b.id, regionCode: b.regionCode },
      {
        issued: inserted.length,
        reason,
      },
    );
    return inserted;
  }

  /** Moves a batch to `to`: saves it, records the transition and publishes BatchStateChanged. */
  private async move(
    m: EntityManager,
    b: BatchRow,
    to: BatchState,
    actor: Actor,
    reason: string | null,
  ): Promise<void> {
    const from = b.state;
    b.state = to;
    await this.repos.batches.update(m, b);
    await this.record(m, b, from, actor, reason);
  }

  private async record(
    m: EntityManager,
    b: BatchRow,
    from: BatchState | null,
    actor: Actor,
    reason: string | null,
  ) {
    const at = this.deps.now();
    await this.repos.batches.insertTransition(m, {
      id: uuidv7(at.getTime()),
      batchId: b.id,
      fromState: from,
      toState: b.state,
      actorId: actor.id,
      reason,
      at,
    });
    await enqueue(m, [voucherEvents.batchStateChanged(b, from, actor, reason, at)]);
  }

  /** Loads and locks a batch the caller may act on (not yours ≡ not found), runs `work`, returns its id. */
  private async withBatch(
    caller: Caller,
    permission: string,
    id: string,
    work: (m: EntityManager, b: BatchRow) => Promise<void>,
    idem?: { key?: string; operation: string; input?: unknown },
  ): Promise<string> {
    const root = staffRegion(caller, permission);
    const batchId = uuid('id', id);
    const run = async (m: EntityManager) => {
      const b = await this.repos.batches.lock(m, batchId);
      if (!b) throw notFound('Voucher batch');
      requireInRegion(root, b.regionCode, 'Voucher batch');
      await work(m, b);
      return b.id;
    };
    if (!idem) return this.deps.ds.transaction(run);
    return keyed(
      this.deps,
      { caller, key: idem.key, operation: idem.operation, input: { id: batchId, ...(idem.input as object) } },
      run,
    );
  }
}

function invalidState(b: BatchRow, message: string): DomainError {
  return new DomainError(ErrorCode.INVALID_STATE, `${message} (the batch is ${b.state})`);
}
