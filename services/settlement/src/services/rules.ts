import { DomainError, ErrorCode, badInput, inRegion, isUuid, type Caller, type DataSource } from '@vtv/kit';
import type { ReviewMode } from '../data/entities';
import type { AuditRepository, Queryable, RulesRepository, SubsidyStandardRow } from '../data/repositories';
import { requireAmount } from '../domain/money';
import { SETTLEMENT_STANDARDS_WRITE } from '../permissions';
import { regionChain, requireRegionArg, requireStaff, staffScope } from './access';

export interface EffectiveReviewRule {
  regionCode: string;
  mode: ReviewMode;
  /** Where the rule is defined; null for the platform default (SINGLE). */
  definedIn: string | null;
}

/** The largest standard a region may set: 1,000,000.00 yuan per trainee (also a CHECK in the table). */
export const MAX_STANDARD_FEN = 100_000_000n;

const TEXT_RE = /^[^\p{Cc}]+$/u;

function cleanText(field: string, value: string, max: number, allowEmpty = false): string {
  const v = value.trim();
  if (v.length === 0 && allowEmpty) return '';
  if (v.length === 0 || v.length > max || !TEXT_RE.test(v))
    throw badInput(field, `${field} must be 1-${max} printable characters`);
  return v;
}

/**
 * The settlement rules staff maintain per region, inherited down the tree: the review rule (single or
 * two-level) and the approved subsidy standards (补贴标准) per training type and level.
 */
export class RulesService {
  constructor(
    private readonly ds: DataSource,
    private readonly rules: RulesRepository,
    private readonly audit: AuditRepository,
  ) {}

  /** The rule in force: the region's own, else the nearest ancestor's, else SINGLE. */
  async effectiveReviewRule(q: Queryable, regionCode: string): Promise<EffectiveReviewRule> {
    const chain = regionChain(regionCode);
    const defined = await this.rules.reviewRules(q, chain);
    for (const code of chain) {
      const rule = defined.find((r) => r.regionCode === code);
      if (rule) return { regionCode, mode: rule.mode, definedIn: code };
    }
    return { regionCode, mode: 'SINGLE', definedIn: null };
  }

  /**
   * The approved standard for a training type and level: at each region from the nearest up, a standard
   * for exactly that level first, then one for every level ('').
   */
  async effectiveStandard(
    q: Queryable,
    regionCode: string,
    trainingType: string,
    level: string,
  ): Promise<SubsidyStandardRow | null> {
    const chain = regionChain(regionCode);
    const defined = await this.rules.standards(q, chain, trainingType);
    for (const code of chain) {
      const here = defined.filter((s) => s.regionCode === code);
      const match = (level && here.find((s) => s.level === level)) || here.find((s) => s.level === '');
      if (match) return match;
    }
    return null;
  }

  async reviewRuleFor(caller: Caller, regionCode: string): Promise<EffectiveReviewRule | null> {
    const scope = staffScope(caller);
    if (!scope) return null;
    return this.effectiveReviewRule(this.ds, requireRegionArg(scope, regionCode));
  }

  async standardsFor(caller: Caller, regionCode: string): Promise<SubsidyStandardRow[]> {
    const scope = staffScope(caller);
    if (!scope) return [];
    const chain = regionChain(requireRegionArg(scope, regionCode));
    const rows = await this.rules.standards(this.ds, chain);
    return rows.sort((a, b) => chain.indexOf(a.regionCode) - chain.indexOf(b.regionCode));
  }

  async effectiveStandardFor(
    caller: Caller,
    regionCode: string,
    trainingType: string,
    level: string | null | undefined,
  ): Promise<SubsidyStandardRow | null> {
    const scope = staffScope(caller);
    if (!scope) return null;
    return this.effectiveStandard(
      this.ds,
      requireRegionArg(scope, regionCode),
      cleanText('trainingType', trainingType, 50),
      cleanText('level', level ?? '', 20, true),
    );
  }

  async setReviewRule(caller: Caller, regionCode: string, mode: ReviewMode): Promise<EffectiveReviewRule> {
    const staff = requireStaff(caller, SETTLEMENT_STANDARDS_WRITE);
    requireRegionArg(staff.region, regionCode);
    if (mode !== 'SINGLE' && mode !== 'TWO_LEVEL') throw badInput('mode', 'mode must be SINGLE or TWO_LEVEL');
    return this.ds.transaction(async (m) => {
      await this.rules.setReviewRule(m, regionCode, mode, staff.id);
      await this.audit.record(m, {
        action: 'REVIEW_RULE_SET',
        actorId: staff.id,
        actorKind: 'staff',
        regionCode,
        details: { mode },
      });
      return this.effectiveReviewRule(m, regionCode);
    });
  }

  async setStandard(
    caller: Caller,
    input: { regionCode: string; trainingType: string; level?: string | null; amountFen: bigint },
  ): Promise<SubsidyStandardRow> {
    const staff = requireStaff(caller, SETTLEMENT_STANDARDS_WRITE);
    requireRegionArg(staff.region, input.regionCode);
    const trainingType = cleanText('trainingType', input.trainingType, 50);
    const level = cleanText('level', input.level ?? '', 20, true);
    const amountFen = requireAmount('amountFen', input.amountFen, MAX_STANDARD_FEN);
    return this.ds.transaction(async (m) => {
      const row = await this.rules.upsertStandard(m, {
        regionCode: input.regionCode,
        trainingType,
        level,
        amountFen,
        actorId: staff.id,
      });
      await this.audit.record(m, {
        action: 'SUBSIDY_STANDARD_SET',
        actorId: staff.id,
        actorKind: 'staff',
        regionCode: input.regionCode,
        details: { standardId: row.id, trainingType, level, amountFen: amountFen.toString() },
      });
      return row;
    });
  }

  async removeStandard(caller: Caller, id: string): Promise<string> {
    const staff = requireStaff(caller, SETTLEMENT_STANDARDS_WRITE);
    const notFound = new DomainError(ErrorCode.NOT_FOUND, 'Subsidy standard not found', 'id');
    if (!isUuid(id)) throw notFound;
    return this.ds.transaction(async (m) => {
      const row = await this.rules.standardById(m, id);
      if (!row || !inRegion(staff.region, row.regionCode)) throw notFound;
      await this.rules.deleteStandard(m, id);
      await this.audit.record(m, {
        action: 'SUBSIDY_STANDARD_REMOVED',
        actorId: staff.id,
        actorKind: 'staff',
        regionCode: row.regionCode,
        details: {
          standardId: id,
          trainingType: row.trainingType,
          level: row.level,
          amountFen: row.amountFen.toString(),
        },
      });
      return id;
    });
  }
}
