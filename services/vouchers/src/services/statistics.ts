import {
  DomainError,
  ErrorCode,
  isRegionCode,
  parentRegion,
  regionLevel,
  regionPrefix,
  type Caller,
} from '@vtv/kit';
import type { QuotaTargetRow } from '../data/entities';
import type { FactCounts, FactGroup } from '../data/repositories';
import { chinaYear } from '../domain/dates';
import { VOUCHERS_QUOTAS_WRITE, VOUCHERS_STATISTICS } from '../permissions';
import { requireInRegion, staffActor, staffRegion, staffSees } from './access';
import { audit, type Deps } from './context';
import { int, optionalText, regionCode as regionInput } from './input';

export interface Target {
  regionCode: string;
  year: number;
  issuedTarget: number;
  usedTarget: number;
  source: string;
}

export interface Breakdown {
  key: string;
  counts: FactCounts;
}

export interface RegionStatistics {
  regionCode: string;
  year: number;
  counts: FactCounts;
  /** Facts recorded at the region itself (its own batches and templates), not at a child. */
  ownCounts: FactCounts;
  currentlyHeld: number;
  target: Target | null;
  /** Sum of the direct children's targets (a child without one counts its own children's). */
  childTargets: { issuedTarget: number; usedTarget: number } | null;
  byChildRegion: (Breakdown & { target: Target | null })[];
  byInstitution: Breakdown[];
  byTrainingType: Breakdown[];
  byMonth: Breakdown[];
  computedAt: Date;
}

const ZERO: FactCounts = {
  issued: 0,
  claimed: 0,
  used: 0,
  settled: 0,
  expired: 0,
  invalidated: 0,
  issuedFaceValueFen: 0,
  usedFaceValueFen: 0,
  settledFaceValueFen: 0,
};

function counts(g: FactGroup | undefined): FactCounts {
  if (!g) return { ...ZERO };
  const { dimension: _d, key: _k, ...c } = g;
  return c;
}

function target(q: QuotaTargetRow): Target {
  return {
    regionCode: q.regionCode.trim(),
    year: q.year,
    issuedTarget: q.issuedTarget,
    usedTarget: q.usedTarget,
    source: q.source,
  };
}

/** The direct child of `root` that `code` lies under (429004 under 420000 → 429000). */
function childOf(root: string, code: string): string | null {
  for (let c: string | null = code; c; c = parentRegion(c)) if (parentRegion(c) === root) return c;
  return null;
}

/**
 * 查询统计 (SPEC §4.7): yearly targets per region as absolute numbers, and flows rolled up the region
 * tree — issued, claimed, used, settled, expired, invalidated, face-value amounts — against them, by child
 * region, institution, training type and month. Computed from the transition log in one indexed pass and
 * cached briefly for dashboards.
 */
export class StatisticsService {
  constructor(private readonly deps: Deps) {}

  /** Null when the caller may not see the region's statistics (not yours ≡ not found). */
  async forRegion(caller: Caller, regionCode: string, year: number): Promise<RegionStatistics | null> {
    if (!isRegionCode(regionCode) || !staffSees(caller, VOUCHERS_STATISTICS, regionCode)) return null;
    int('year', year, 2000, 2100);
    return this.compute(regionCode, year);
  }

  async compute(regionCode: string, year: number): Promise<RegionStatistics> {
    const ttl = this.deps.config.VOUCHER_STATS_CACHE_SECONDS * 1000;
    const key = `stats:${regionCode}:${year}`;
    if (ttl > 0) {
      const hit = await this.deps.cache.get(key).catch(() => null);
      if (hit) {
        const s = JSON.parse(hit) as RegionStatistics;
        return { ...s, computedAt: new Date(s.computedAt) };
      }
    }
    const level = regionLevel(regionCode);
    const prefix = regionPrefix(regionCode);
    const { start, end } = chinaYear(year);
    const [groups, held, own, under] = await Promise.all([
      this.deps.repos.statistics.facts(
        prefix,
        level === 'PROVINCE' ? 4 : level === 'CITY' ? 6 : null,
        start,
        end,
      ),
      this.deps.repos.statistics.currentlyHeld(prefix),
      this.deps.repos.rules.quotas(year, [regionCode]),
      level === 'COUNTY' ? Promise.resolve([]) : this.deps.repos.rules.quotasUnder(year, prefix, regionCode),
    ]);
    const by = (d: FactGroup['dimension']) =>
      groups
        .filter((g) => g.dimension === d && g.key !== null)
        .map((g) => ({ key: g.key!, counts: counts(g) }))
        .sort((a, b) => (a.key < b.key ? -1 : 1));

    // Children: those with facts and those with targets; a region's own facts are reported apart.
    const targets = new Map(under.map((q) => [q.regionCode.trim(), target(q)]));
    const childFacts = new Map(by('CHILD').map((b) => [b.key, b.counts]));
    const childCodes = new Set<string>();
    for (const code of [...childFacts.keys(), ...targets.keys()]) {
      const c = code === regionCode ? null : childOf(regionCode, code);
      if (c) childCodes.add(c);
    }
    const childTarget = (c: string): { issuedTarget: number; usedTarget: number } | null => {
      const own = targets.get(c);
      if (own) return own;
      const inner = [...targets.values()].filter(
        (t) => t.regionCode !== c && childOf(c, t.regionCode) === t.regionCode,
      );
      if (inner.length === 0) return null;
      return {
        issuedTarget: inner.reduce((s, t) => s + t.issuedTarget, 0),
        usedTarget: inner.reduce((s, t) => s + t.usedTarget, 0),
      };
    };
    const byChildRegion = [...childCodes].sort().map((c) => ({
      key: c,
      counts: childFacts.get(c) ?? { ...ZERO },
      target: targets.get(c) ?? null,
    }));
    const childSums = [...childCodes].map(childTarget).filter((t) => t !== null);
    const stats: RegionStatistics = {
      regionCode,
      year,
      counts: counts(groups.find((g) => g.dimension === 'TOTAL')),
      ownCounts:
        childFacts.get(regionCode) ??
        (level === 'COUNTY' ? counts(groups.find((g) => g.dimension === 'TOTAL')) : { ...ZERO }),
      currentlyHeld: held,
      target: own[0] ? target(own[0]) : null,
      childTargets: childSums.length
        ? {
            issuedTarget: childSums.reduce((s, t) => s + t.issuedTarget, 0),
            usedTarget: childSums.reduce((s, t) => s + t.usedTarget, 0),
          }
        : null,
      byChildRegion,
      byInstitution: by('INSTITUTION'),
      byTrainingType: by('TRAINING_TYPE'),
      byMonth: by('MONTH'),
      computedAt: new Date(),
    };
    if (ttl > 0) await this.deps.cache.set(key, JSON.stringify(stats), ttl).catch(() => undefined);
    return stats;
  }

  async quota(caller: Caller, regionCode: string, year: number): Promise<Target | null> {
    if (!isRegionCode(regionCode) || !staffSees(caller, VOUCHERS_STATISTICS, regionCode)) return null;
    const rows = await this.deps.repos.rules.quotas(int('year', year, 2000, 2100), [regionCode]);
    return rows[0] ? target(rows[0]) : null;
  }

  /** 目标任务: a region's yearly targets, absolute numbers. */
  async setQuota(
    caller: Caller,
    input: {
      regionCode: string;
      year: number;
      issuedTarget: number;
      usedTarget: number;
      source?: string | null;
    },
  ): Promise<Target> {
    const root = staffRegion(caller, VOUCHERS_QUOTAS_WRITE);
    const code = regionInput('regionCode', input.regionCode);
    requireInRegion(root, code, 'Region');
    const issuedTarget = int('issuedTarget', input.issuedTarget, 0, 100_000_000);
    const usedTarget = int('usedTarget', input.usedTarget, 0, 100_000_000);
    if (usedTarget > issuedTarget)
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'usedTarget cannot exceed issuedTarget', 'usedTarget');
    const row = {
      year: int('year', input.year, 2000, 2100),
      regionCode: code,
      issuedTarget,
      usedTarget,
      source: optionalText('source', input.source, 200) ?? `set by staff ${caller.id}`,
      updatedBy: caller.id!,
    };
    const saved = await this.deps.ds.transaction(async (m) => {
      const q = await this.deps.repos.rules.upsertQuota(m, row);
      await audit(
        this.deps,
        m,
        staffActor(caller),
        'quota.set',
        { type: 'region', id: code, regionCode: code },
        row,
      );
      return q;
    });
    return target(saved);
  }
}
