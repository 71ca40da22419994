import { isRegionCode, parentRegion } from '@vtv/kit';
import type { RegionRow } from '../data/entities';
import type { Store } from '../data/repositories';

export class RegionService {
  constructor(private readonly store: Store) {}

  async get(code: string): Promise<RegionRow | null> {
    return typeof code === 'string' && isRegionCode(code) ? this.store.read.regions.byCode(code) : null;
  }

  async children(parentCode: string | null): Promise<RegionRow[]> {
    if (parentCode !== null && !isRegionCode(parentCode)) return [];
    return this.store.read.regions.children(parentCode);
  }

  async parent(code: string): Promise<RegionRow | null> {
    const p = parentRegion(code);
    return p ? this.store.read.regions.byCode(p) : null;
  }
}
