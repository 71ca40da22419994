/**
 * Every permission a subgraph checks must be in the catalogue, or no role could ever be granted it
 * and the feature would be unreachable.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isPermission } from '@vtv/kit';

const services = join(__dirname, '..', 'services');
const PATTERN = /'((?:person|vouchers|training|settlement|careers|admin|audit):[a-z]+(?::[a-z]+)*)'/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : sources(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

test('permissions checked by the subgraphs are all grantable', () => {
  const used = new Set<string>();
  for (const s of readdirSync(services)) {
    for (const file of sources(join(services, s, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(PATTERN)) used.add(m[1]!);
    }
  }
  expect(used.size).toBeGreaterThan(10);
  expect([...used].filter((p) => !isPermission(p)).sort()).toEqual([]);
});
