import { enqueue } from '@vtv/events';
import {
  DomainError,
  ErrorCode,
  badInput,
  inRegion,
  isUuid,
  notFound,
  parsePage,
  regionPrefix,
  toConnection,
  uuidv7,
  type Caller,
  type Connection,
  type PageArgs,
} from '@vtv/kit';
import { TemplateRow, type BusinessMode, type FunctionMode, type TemplateValidity } from '../data/entities';
import { endOfChinaDay } from '../domain/dates';
import { voucherEvents } from '../events/outgoing';
import { VOUCHERS_ISSUE, VOUCHERS_READ } from '../permissions';
import { requireInRegion, staffActor, staffRegion, staffSees } from './access';
import { audit, type Deps } from './context';
import {
  date,
  fen,
  instant,
  int,
  oneOf,
  optionalFen,
  optionalInt,
  optionalOneOf,
  optionalText,
  reason as reasonInput,
  regionCode as regionInput,
  text,
  uuid,
  uuidList,
} from './input';
import { FUNCTION_MODES, type RuleService } from './rules';

export interface CreateTemplateInput {
  name: string;
  /** Issuing region; defaults to the caller's. */
  regionCode?: string | null;
  functionMode?: FunctionMode | null;
  businessMode?: BusinessMode | null;
  faceValueFen?: number | null;
  trainingType: string;
  occupation?: string | null;
  quantity: number;
  claimStartsAt?: string | null;
  claimEndsAt: string;
  validityType: TemplateValidity;
  /** FIXED_END: last valid day, YYYY-MM-DD. */
  validUntil?: string | null;
  /** DAYS_AFTER_CLAIM: days the voucher stays valid after its claim. */
  validDays?: number | null;
  eligibleRegionCode?: string | null;
  minAge?: number | null;
  maxAge?: number | null;
  targetGroups?: string[] | null;
  /** Only people in the template's pre-computed audience may claim (implied by target groups). */
  audienceOnly?: boolean | null;
}

const VALIDITY_TYPES: readonly TemplateValidity[] = ['FIXED_END', 'DAYS_AFTER_CLAIM'];
const BUSINESS_MODES: readonly BusinessMode[] = ['POPULAR', 'UPGRADE'];
const MAX_QUANTITY = 1_000_000;
const MAX_AUDIENCE_BATCH = 10_000;

export function stockKey(templateId: string): string {
  return `tpl:${templateId}:stock`;
}

/**
 * General-voucher templates (通用券模板, Art. 8–9): quantity, training type, occupation, validity type,
 * eligible population (region, age, target groups through a pre-computed audience), claim window.
 */
export class TemplateService {
  constructor(
    private readonly deps: Deps,
    private readonly rules: RuleService,
  ) {}

  private get repos() {
    return this.deps.repos;
  }

  async create(caller: Caller, input: CreateTemplateInput): Promise<TemplateRow> {
    const root = staffRegion(caller, VOUCHERS_ISSUE);
    const actor = staffActor(caller);
    const now = this.deps.now();
    const regionCode = input.regionCode ? regionInput('regionCode', input.regionCode) : root;
    requireInRegion(root, regionCode, 'Region');
    const trainingType = text('trainingType', input.trainingType, 50);
    const face = await this.rules.resolveFaceValueRule(regionCode, trainingType);
    const functionMode =
      optionalOneOf('functionMode', input.functionMode, FUNCTION_MODES) ??
      face.values.functionMode ??
      'FACE_VALUE';
    let faceValueFen: number | null = null;
    if (functionMode === 'FACE_VALUE') {
      faceValueFen = optionalFen('faceValueFen', input.faceValueFen) ?? face.values.subsidyAmountFen;
      if (faceValueFen === null)
        throw badInput(
          'faceValueFen',
          `No face-value rule for ${trainingType} applies here: give faceValueFen`,
        );
      fen('faceValueFen', faceValueFen);
    }
    const claimStartsAt = input.claimStartsAt ? instant('claimStartsAt', input.claimStartsAt) : now;
    const claimEndsAt = instant('claimEndsAt', input.claimEndsAt);
    if (claimEndsAt.getTime() <= claimStartsAt.getTime() || claimEndsAt.getTime() <= now.getTime())
      throw badInput('claimEndsAt', 'claimEndsAt must be after claimStartsAt and in the future');
    const validityType = oneOf('validityType', input.validityType, VALIDITY_TYPES);
    let validUntil: Date | null = null;
    let validDays: number | null = null;
    if (validityType === 'FIXED_END') {
      validUntil = endOfChinaDay(date('validUntil', input.validUntil));
      if (validUntil.getTime() <= claimStartsAt.getTime())
        throw badInput('validUntil', 'Vouchers must stay valid after the claim window opens');
    } else {
      validDays = int('validDays', input.validDays, 1, 3650);
    }
    const eligibleRegionCode = input.eligibleRegionCode
      ? regionInput('eligibleRegionCode', input.eligibleRegionCode)
      : regionCode;
    if (!inRegion(regionCode, eligibleRegionCode))
      throw badInput('eligibleRegionCode', 'A template can only be offered inside its own region');
    const minAge = optionalInt('minAge', input.minAge, 0, 150);
    const maxAge = optionalInt('maxAge', input.maxAge, 0, 150);
    if (minAge !== null && maxAge !== null && minAge > maxAge)
      throw badInput('maxAge', 'maxAge must not be below minAge');
    const groups = input.targetGroups ?? [];
    if (!Array.isArray(groups) || groups.length > 20)
      throw badInput('targetGroups', 'At most 20 target groups');
    const targetGroups = [...new Set(groups.map((g) => text('targetGroups', g, 50)))];
    const t = Object.assign(new TemplateRow(), {
      id: uuidv7(now.getTime()),
      regionCode,
      name: text('name', input.name, 100),
      state: 'ACTIVE',
      functionMode,
      businessMode: optionalOneOf('businessMode', input.businessMode, BUSINESS_MODES),
      faceValueFen,
      trainingType,
      occupation: optionalText('occupation', input.occupation, 50),
      quantity: int('quantity', input.quantity, 1, MAX_QUANTITY),
      claimed: 0,
      claimStartsAt,
      claimEndsAt,
      validityType,
      validUntil,
      validDays,
      eligibleRegionCode,
      minAge,
      maxAge,
      targetGroups,
      audienceOnly: targetGroups.length > 0 || input.audienceOnly === true,
      createdBy: actor.id,
      createdAt: now,
      closedAt: null,
      closeReason: null,
    } as const);
    await this.deps.ds.transaction(async (m) => {
      await this.repos.templates.insert(m, t);
      await enqueue(m, [voucherEvents.templatePublished(t, actor)]);
      await audit(
        this.deps,
        m,
        actor,
        'template.create',
        { type: 'template', id: t.id, regionCode },
        {
          quantity: t.quantity,
          faceValueFen,
        },
      );
    });
    return t;
  }

  /** Stops claims at once (the Redis gate is zeroed; the database refuses a closed template anyway). */
  async close(caller: Caller, id: string, why: string): Promise<TemplateRow> {
    const root = staffRegion(caller, VOUCHERS_ISSUE);
    const actor = staffActor(caller);
    const templateId = uuid('id', id);
    const reason = reasonInput(why);
    const existing = await this.repos.templates.byId(templateId);
    if (!existing) throw notFound('Voucher template');
    requireInRegion(root, existing.regionCode, 'Voucher template');
    const at = this.deps.now();
    const closed = await this.deps.ds.transaction(async (m) => {
      const t = await this.repos.templates.close(m, templateId, actor.id, reason, at);
      if (!t) throw new DomainError(ErrorCode.INVALID_STATE, 'This template is already closed');
      await enqueue(m, [voucherEvents.templateClosed(t, actor, reason, at)]);
      await audit(
        this.deps,
        m,
        actor,
        'template.close',
        { type: 'template', id: t.id, regionCode: t.regionCode },
        { reason },
      );
      return t;
    });
    await this.deps.cache.set(stockKey(templateId), '0', 24 * 3600_000).catch(() => undefined);
    return closed;
  }

  /** 大数据比对定位适用人群: people the template is meant for; they may be notified. */
  async addAudience(caller: Caller, id: string, personIds: string[]): Promise<number> {
    const root = staffRegion(caller, VOUCHERS_ISSUE);
    const actor = staffActor(caller);
    const templateId = uuid('id', id);
    const ids = uuidList('personIds', personIds, MAX_AUDIENCE_BATCH);
    const t = await this.repos.templates.byId(templateId);
    if (!t) throw notFound('Voucher template');
    requireInRegion(root, t.regionCode, 'Voucher template');
    const at = this.deps.now();
    return this.deps.ds.transaction(async (m) => {
      const added = await this.repos.templates.addAudience(m, t.id, ids);
      if (added.length) await enqueue(m, [voucherEvents.templateAudienceAdded(t, added, at)]);
      await audit(
        this.deps,
        m,
        actor,
        'template.audience.add',
        { type: 'template', id: t.id, regionCode: t.regionCode },
        {
          added: added.length,
        },
      );
      return added.length;
    });
  }

  /** Staff reading in the template's region see any template; everyone signed in sees active ones (领券中心). */
  async get(caller: Caller, id: string): Promise<TemplateRow | null> {
    if (!isUuid(id)) return null;
    const t = await this.repos.templates.byId(id);
    if (!t) return null;
    if ([VOUCHERS_READ, VOUCHERS_ISSUE].some((p) => staffSees(caller, p, t.regionCode))) return t;
    return caller.kind === 'person' && t.state === 'ACTIVE' ? t : null;
  }

  /** Staff: templates of their subtree. A person: templates open now for their e-SSC region. */
  async page(caller: Caller, args: PageArgs): Promise<Connection<TemplateRow>> {
    const { limit, afterKey } = parsePage(args);
    if (afterKey !== null && !isUuid(afterKey)) throw badInput('after', 'Invalid cursor');
    if (caller.kind === 'person' && caller.id) {
      const person = await this.repos.projections.person(caller.id);
      if (!person) return toConnection<TemplateRow>([], limit, (t) => t.id);
      const rows = await this.repos.templates.claimableFor(
        person.regionCode,
        this.deps.now(),
        limit,
        afterKey,
      );
      return toConnection(rows, limit, (t) => t.id);
    }
    const root = staffRegion(
      caller,
      caller.permissions.includes(VOUCHERS_ISSUE) ? VOUCHERS_ISSUE : VOUCHERS_READ,
    );
    const rows = await this.repos.templates.pageInRegion(regionPrefix(root), limit, afterKey);
    return toConnection(rows, limit, (t) => t.id);
  }
}
