import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkOperations,
  classifyChanges,
  compose,
  formatChanges,
  type SubgraphSource,
} from '../../scripts/lib/schema-check';

const root = join(__dirname, '..', '..');
const registered: SubgraphSource[] = (
  JSON.parse(readFileSync(join(root, 'schema', 'subgraphs.json'), 'utf8')) as {
    subgraphs: { name: string; schema: string; url: string }[];
  }
).subgraphs.map((s) => ({
  name: s.name,
  url: s.url,
  file: s.schema,
  sdl: readFileSync(join(root, s.schema), 'utf8'),
}));

const baseline = compose(registered).supergraph!;

function withSdl(name: string, edit: (sdl: string) => string): SubgraphSource[] {
  return registered.map((s) => (s.name === name ? { ...s, sdl: edit(s.sdl) } : s));
}

describe('schema checks', () => {
  it('classifies removing a field as breaking, with a readable message', async () => {
    const candidate = compose(
      withSdl('identity', (sdl) => sdl.replace(/\n\s*name: String!\n/, '\n')),
    ).supergraph!;
    const changes = await classifyChanges(baseline, candidate);
    expect(changes.breaking.map((c) => c.message)).toContain(
      "Field 'name' was removed from object type 'Region'",
    );
    expect(formatChanges(changes)).toMatch(/^BREAKING \(1\):/);
  });

  it('classifies adding an optional field as safe', async () => {
    const candidate = compose(
      withSdl('identity', (sdl) =>
        sdl.replace('  level: RegionLevel!\n', '  level: RegionLevel!\n  nameEn: String\n'),
      ),
    ).supergraph!;
    const changes = await classifyChanges(baseline, candidate);
    expect(changes.breaking).toEqual([]);
    expect(changes.safe.map((c) => c.message)).toContain("Field 'nameEn' was added to object type 'Region'");
  });

  it('reports composition errors with the subgraph file and line', () => {
    const { supergraph, errors } = compose([
      ...registered,
      {
        name: 'hubei',
        url: 'http://hubei/graphql',
        file: 'examples/hubei/schema.graphql',
        sdl: 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Region @key(fields: "code") {\n  code: ID!\n  name: Int\n}\n',
      },
    ]);
    expect(supergraph).toBeUndefined();
    expect(errors.join('\n')).toMatch(/Region\.name/);
    expect(errors.join('\n')).toMatch(/examples\/hubei\/schema\.graphql:4/);
  });

  it('finds registered operations that a change would break', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ops-'));
    mkdirSync(join(dir, 'staff'));
    writeFileSync(join(dir, 'staff', 'RegionTree.graphql'), 'query RegionTree { regions { code name } }\n');
    expect(checkOperations(baseline, dir, dir)).toEqual([]);
    const candidate = compose(
      withSdl('identity', (sdl) => sdl.replace(/\n\s*name: String!\n/, '\n')),
    ).supergraph!;
    expect(checkOperations(candidate, dir, dir)).toEqual([
      { file: 'staff/RegionTree.graphql', message: 'Cannot query field "name" on type "Region".' },
    ]);
  });
});
