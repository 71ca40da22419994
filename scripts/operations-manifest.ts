/**
 * Builds schema/operations/manifest.json, the trusted-operations list the gateway enforces in
 * production, from the named operations in schema/operations/*.graphql. Each operation becomes one
 * entry (with the fragments it uses) in Apollo's persisted-query manifest format; its id is the sha256
 * of its body. Every operation must be named, uniquely, and valid against schema/supergraph.graphql.
 *
 * --check: fails when an operation is invalid or the committed manifest differs from a fresh build.
 */
import { Supergraph } from '@apollo/federation-internals';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  Kind,
  Source,
  parse,
  print,
  validate,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';
import { format } from 'prettier';
import { forGateway } from '../gateway/src/supergraph';

const root = join(__dirname, '..');
const dir = join(root, 'schema', 'operations');
const out = join(dir, 'manifest.json');

export interface ManifestEntry {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

function usedFragments(
  node: DefinitionNode,
  fragments: Map<string, FragmentDefinitionNode>,
  seen: Set<string>,
) {
  visit(node, {
    FragmentSpread(spread) {
      const name = spread.name.value;
      if (seen.has(name)) return;
      seen.add(name);
      const f = fragments.get(name);
      if (!f) throw new Error(`fragment ${name} is not defined in schema/operations`);
      usedFragments(f, fragments, seen);
    },
  });
}

export function buildManifest(
  operationsDir = dir,
  supergraphPath = join(root, 'schema', 'supergraph.graphql'),
) {
  const files = readdirSync(operationsDir)
    .filter((f) => f.endsWith('.graphql'))
    .sort();
  const operations: OperationDefinitionNode[] = [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  const errors: string[] = [];
  for (const file of files) {
    const path = join(operationsDir, file);
    const doc = parse(new Source(readFileSync(path, 'utf8'), relative(root, path)));
    for (const def of doc.definitions) {
      if (def.kind === Kind.OPERATION_DEFINITION) {
        if (!def.name) errors.push(`${file}: every operation needs a name`);
        else operations.push(def);
      } else if (def.kind === Kind.FRAGMENT_DEFINITION) {
        if (fragments.has(def.name.value)) errors.push(`${file}: fragment ${def.name.value} defined twice`);
        fragments.set(def.name.value, def);
      } else errors.push(`${file}: only operations and fragments belong here`);
    }
  }
  const schema = Supergraph.build(forGateway(readFileSync(supergraphPath, 'utf8')))
    .apiSchema()
    .toGraphQLJSSchema();
  const names = new Set<string>();
  const entries: ManifestEntry[] = [];
  for (const op of operations) {
    const name = op.name!.value;
    if (names.has(name)) errors.push(`operation ${name} is defined twice`);
    names.add(name);
    const needed = new Set<string>();
    try {
      usedFragments(op, fragments, needed);
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message}`);
      continue;
    }
    const doc: DocumentNode = {
      kind: Kind.DOCUMENT,
      definitions: [op, ...[...needed].sort().map((n) => fragments.get(n)!)],
    };
    const problems = validate(schema, doc);
    for (const p of problems) errors.push(`${name}: ${p.message}`);
    const body = print(doc);
    entries.push({ id: createHash('sha256').update(body).digest('hex'), name, type: op.operation, body });
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  return { manifest: { format: 'apollo-persisted-query-manifest', version: 1, operations: entries }, errors };
}

async function main(): Promise<void> {
  const { manifest, errors } = buildManifest();
  if (errors.length) {
    console.error(`Invalid operations in schema/operations:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    process.exit(1);
  }
  const text = await format(JSON.stringify(manifest), { parser: 'json', filepath: out });
  if (process.argv.includes('--check')) {
    const committed = existsSync(out) ? readFileSync(out, 'utf8') : '';
    if (committed !== text) {
      console.error('schema/operations/manifest.json is stale: run `npm run operations` and commit it');
      process.exit(1);
    }
    console.log(`operations manifest is current (${manifest.operations.length} operations)`);
    return;
  }
  writeFileSync(out, text);
  console.log(`wrote ${manifest.operations.length} operations to schema/operations/manifest.json`);
}

if (require.main === module) void main();
