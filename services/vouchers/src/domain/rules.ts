import { parentRegion } from '@vtv/kit';

/** A region and its ancestors, nearest first: 420113 → 420100 → 420000; 429004 → 429000 → 420000. */
export function regionChain(code: string): string[] {
  const chain: string[] = [];
  for (let c: string | null = code; c; c = parentRegion(c)) chain.push(c);
  return chain;
}

/** Where one resolved field's value came from. */
export interface FieldSource {
  field: string;
  /** The value, as text (null when nothing in the chain sets it and there is no default). */
  value: string | null;
  /** The region whose rule set it; null for a platform default or an unset field. */
  regionCode: string | null;
  ruleId: string | null;
  /** True when it came from an ancestor of the region asked about. */
  inherited: boolean;
  /** True when no region sets it and the platform default applies. */
  isDefault: boolean;
}

export interface Resolved<T> {
  values: T;
  explanation: FieldSource[];
}

interface Layer<R> {
  regionCode: string;
  rule: R;
  ruleId: string | null;
}

/**
 * Field-by-field inheritance down the region tree: each field takes the value of the nearest region
 * (the region itself, then its parent, …) whose rule sets it; a field no region sets takes the platform
 * default. The explanation says, per field, which region's rule decided it — so a county official sees
 * "subsidy amount: inherited from 420000".
 */
export function resolveFields<R extends object, K extends keyof R & string>(
  regionCode: string,
  layers: Layer<R>[],
  fields: readonly K[],
  defaults: Partial<Pick<R, K>> = {},
): Resolved<{ [P in K]: NonNullable<R[P]> | null }> {
  const values = {} as { [P in K]: NonNullable<R[P]> | null };
  const explanation: FieldSource[] = [];
  for (const field of fields) {
    const layer = layers.find((l) => l.rule[field] !== null && l.rule[field] !== undefined);
    if (layer) {
      values[field] = layer.rule[field] as NonNullable<R[K]>;
      explanation.push({
        field,
        value: String(layer.rule[field]),
        regionCode: layer.regionCode,
        ruleId: layer.ruleId,
        inherited: layer.regionCode !== regionCode,
        isDefault: false,
      });
    } else {
      const d = defaults[field];
      values[field] = (d ?? null) as NonNullable<R[K]> | null;
      explanation.push({
        field,
        value: d === undefined || d === null ? null : String(d),
        regionCode: null,
        ruleId: null,
        inherited: false,
        isDefault: d !== undefined && d !== null,
      });
    }
  }
  return { values, explanation };
}

/** A face-value rule applies on `date` (YYYY-MM-DD) when its own validity window contains it. */
export function ruleApplies(
  rule: { validFrom: string | null; validTo: string | null },
  date: string,
): boolean {
  return (!rule.validFrom || rule.validFrom <= date) && (!rule.validTo || rule.validTo >= date);
}
