import { DomainError, ErrorCode, notFound, uuidv7, type Caller } from '@vtv/kit';
import type {
  FaceValueRuleRow,
  FunctionMode,
  IssuanceFlow,
  IssuanceRuleRow,
  ReviewMode,
  ValidityEnd,
} from '../data/entities';
import { chinaDate } from '../domain/dates';
import { regionChain, resolveFields, ruleApplies, type Resolved } from '../domain/rules';
import { VOUCHERS_ISSUE, VOUCHERS_READ, VOUCHERS_REVIEW, VOUCHERS_RULES_WRITE } from '../permissions';
import { requireInRegion, staffActor, staffRegion, staffSees } from './access';
import { audit, type Deps } from './context';
import {
  optionalDate,
  optionalFen,
  optionalOneOf,
  optionalText,
  regionCode as regionInput,
  text,
  uuid,
} from './input';

export const REVIEW_MODES: readonly ReviewMode[] = ['NONE', 'SINGLE', 'TWO_LEVEL'];
export const FLOWS: readonly IssuanceFlow[] = ['MANUAL', 'AUTO'];
export const VALIDITY_ENDS: readonly ValidityEnd[] = ['CLASS_START_DATE', 'CLASS_END_DATE'];
export const FUNCTION_MODES: readonly FunctionMode[] = ['FACE_VALUE', 'DEDUCTION'];

const ISSUANCE_FIELDS = ['reviewMode', 'flow', 'validityEnd'] as const;
/** What the platform does where no region in the chain says otherwise. */
const ISSUANCE_DEFAULTS = { reviewMode: 'SINGLE', flow: 'MANUAL', validityEnd: 'CLASS_END_DATE' } as const;

const FACE_VALUE_FIELDS = [
  'functionMode',
  'subsidyAmountFen',
  'certificateType',
  'certificateLevel',
  'shortageOccupation',
  'remark',
  'eligiblePopulation',
] as const;

export type ResolvedIssuanceRule = Resolved<{
  reviewMode: ReviewMode | null;
  flow: IssuanceFlow | null;
  validityEnd: ValidityEnd | null;
}> & { regionCode: string };

export type ResolvedFaceValueRule = Resolved<{
  functionMode: FunctionMode | null;
  subsidyAmountFen: number | null;
  certificateType: string | null;
  certificateLevel: string | null;
  shortageOccupation: boolean | null;
  remark: string | null;
  eligiblePopulation: string | null;
}> & { regionCode: string; trainingType: string; date: string; appliedRuleIds: string[] };

export interface SetIssuanceRule {
  regionCode: string;
  reviewMode?: ReviewMode | null;
  flow?: IssuanceFlow | null;
  validityEnd?: ValidityEnd | null;
}

export interface SetFaceValueRule {
  regionCode: string;
  trainingType: string;
  functionMode?: FunctionMode | null;
  certificateType?: string | null;
  certificateLevel?: string | null;
  subsidyAmountFen?: number | null;
  validFrom?: string | null;
  validTo?: string | null;
  shortageOccupation?: boolean | null;
  remark?: string | null;
  eligiblePopulation?: string | null;
}

/**
 * 面值券规则 and 发券规则 (administrator guide, 培训券管理 steps 1–2). A region sets only what differs from
 * its parent; anything it leaves empty is inherited field by field from the nearest ancestor that sets
 * it, and every resolved rule says where each field came from.
 */
export class RuleService {
  constructor(private readonly deps: Deps) {}

  async resolveIssuanceRule(regionCode: string): Promise<ResolvedIssuanceRule> {
    const chain = regionChain(regionCode);
    const rows = await this.deps.repos.rules.issuanceRules(chain);
    const layers = chain.flatMap((code) => {
      const rule = rows.find((r) => r.regionCode.trim() === code);
      return rule ? [{ regionCode: code, rule, ruleId: null }] : [];
    });
    return {
      regionCode,
      ...resolveFields<IssuanceRuleRow, (typeof ISSUANCE_FIELDS)[number]>(
        regionCode,
        layers,
        ISSUANCE_FIELDS,
        ISSUANCE_DEFAULTS,
      ),
    };
  }

  /** The face-value rule for a training type in a region on a date (rules outside their window are skipped). */
  async resolveFaceValueRule(
    regionCode: string,
    trainingType: string,
    date = chinaDate(this.deps.now()),
  ): Promise<ResolvedFaceValueRule> {
    const chain = regionChain(regionCode);
    const rows = await this.deps.repos.rules.faceValueRules(chain, trainingType);
    const layers = chain.flatMap((code) => {
      const rule = rows.find((r) => r.regionCode.trim() === code && ruleApplies(r, date));
      return rule ? [{ regionCode: code, rule, ruleId: rule.id }] : [];
    });
    return {
      regionCode,
      trainingType,
      date,
      appliedRuleIds: layers.map((l) => l.rule.id),
      ...resolveFields<FaceValueRuleRow, (typeof FACE_VALUE_FIELDS)[number]>(
        regionCode,
        layers,
        FACE_VALUE_FIELDS,
        {
          functionMode: 'FACE_VALUE',
        },
      ),
    };
  }

  /** Rules are readable by staff who issue, review or configure in the region. */
  private requireReader(caller: Caller, regionCode: string): void {
    const ok = [VOUCHERS_READ, VOUCHERS_RULES_WRITE, VOUCHERS_ISSUE, VOUCHERS_REVIEW].some((p) =>
      staffSees(caller, p, regionCode),
    );
    if (!ok) throw new DomainError(ErrorCode.FORBIDDEN, 'Not allowed to read this region’s voucher rules');
  }

  async issuanceRuleFor(caller: Caller, regionCode: string): Promise<ResolvedIssuanceRule> {
    const code = regionInput('regionCode', regionCode);
    this.requireReader(caller, code);
    return this.resolveIssuanceRule(code);
  }

  async faceValueRuleFor(
    caller: Caller,
    regionCode: string,
    trainingType: string,
    date?: string | null,
  ): Promise<ResolvedFaceValueRule> {
    const code = regionInput('regionCode', regionCode);
    this.requireReader(caller, code);
    return this.resolveFaceValueRule(
      code,
      text('trainingType', trainingType, 50),
      optionalDate('date', date) ?? undefined,
    );
  }

  async faceValueRulesAt(caller: Caller, regionCode: string): Promise<FaceValueRuleRow[]> {
    const code = regionInput('regionCode', regionCode);
    this.requireReader(caller, code);
    return this.deps.repos.rules.faceValueRulesAt(code);
  }

  async setIssuanceRule(caller: Caller, input: SetIssuanceRule): Promise<ResolvedIssuanceRule> {
    const root = staffRegion(caller, VOUCHERS_RULES_WRITE);
    const code = regionInput('regionCode', input.regionCode);
    requireInRegion(root, code, 'Region');
    const row = {
      regionCode: code,
      reviewMode: optionalOneOf('reviewMode', input.reviewMode, REVIEW_MODES),
      flow: optionalOneOf('flow', input.flow, FLOWS),
      validityEnd: optionalOneOf('validityEnd', input.validityEnd, VALIDITY_ENDS),
      updatedBy: caller.id!,
    };
    await this.deps.ds.transaction(async (m) => {
      if (!row.reviewMode && !row.flow && !row.validityEnd)
        await this.deps.repos.rules.deleteIssuanceRule(m, code);
      else await this.deps.repos.rules.upsertIssuanceRule(m, row);
      await audit(
        this.deps,
        m,
        staffActor(caller),
        'issuance-rule.set',
        { type: 'region', id: code, regionCode: code },
        row,
      );
    });
    return this.resolveIssuanceRule(code);
  }

  async setFaceValueRule(caller: Caller, input: SetFaceValueRule): Promise<FaceValueRuleRow> {
    const root = staffRegion(caller, VOUCHERS_RULES_WRITE);
    const code = regionInput('regionCode', input.regionCode);
    requireInRegion(root, code, 'Region');
    const validFrom = optionalDate('validFrom', input.validFrom);
    const validTo = optionalDate('validTo', input.validTo);
    if (validFrom && validTo && validFrom > validTo)
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'validTo must not be before validFrom', 'validTo');
    const functionMode = optionalOneOf('functionMode', input.functionMode, FUNCTION_MODES);
    const subsidyAmountFen = optionalFen('subsidyAmountFen', input.subsidyAmountFen);
    const row = {
      id: uuidv7(),
      regionCode: code,
      trainingType: text('trainingType', input.trainingType, 50),
      functionMode,
      certificateType: optionalText('certificateType', input.certificateType, 50),
      certificateLevel: optionalText('certificateLevel', input.certificateLevel, 50),
      subsidyAmountFen,
      validFrom,
      validTo,
      shortageOccupation: input.shortageOccupation ?? null,
      remark: optionalText('remark', input.remark, 200),
      eligiblePopulation: optionalText('eligiblePopulation', input.eligiblePopulation, 200),
      updatedBy: caller.id!,
    };
    return this.deps.ds.transaction(async (m) => {
      const saved = await this.deps.repos.rules.upsertFaceValueRule(m, row);
      await audit(
        this.deps,
        m,
        staffActor(caller),
        'face-value-rule.set',
        { type: 'face-value-rule', id: saved.id, regionCode: code },
        { ...row, id: saved.id },
      );
      return saved;
    });
  }

  async deleteFaceValueRule(caller: Caller, id: string): Promise<string> {
    const root = staffRegion(caller, VOUCHERS_RULES_WRITE);
    const ruleId = uuid('id', id);
    const rule = await this.deps.repos.rules.faceValueRule(ruleId);
    if (!rule) throw notFound('Face-value rule');
    requireInRegion(root, rule.regionCode, 'Face-value rule');
    await this.deps.ds.transaction(async (m) => {
      await this.deps.repos.rules.deleteFaceValueRule(m, ruleId);
      await audit(
        this.deps,
        m,
        staffActor(caller),
        'face-value-rule.delete',
        { type: 'face-value-rule', id: ruleId, regionCode: rule.regionCode },
        { trainingType: rule.trainingType },
      );
    });
    return ruleId;
  }
}
