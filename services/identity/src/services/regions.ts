import { isRegionCode, parentRegion } from '@vtv/kit';
import type { RegionRow } from '../data/entities';
import type { RegionRepository } from '../data/repositories';

export class RegionService {
  constructor(private readonly regions: RegionRepository) {}

  async get(code: string): Promise<RegionRow | null> {
    return isRegionCode(code) ? this.regions.byCode(code) : null;
  }

  async children(parentCode: string | null): Promise<RegionRow[]> {
    if (parentCode !== null && !isRegionCode(parentCode)) return [];
    return this.regions.children(parentCode);
  }

  async parent(code: string): Promise<RegionRow | null> {
    const p = parentRegion(code);
    return p ? this.regions.byCode(p) : null;
  }
}
