/**
 * Composes the subgraphs listed in schema/subgraphs.json into schema/supergraph.graphql.
 * --check: fails when composition fails or the committed supergraph differs from a fresh composition.
 */
import { composeServices } from '@apollo/composition';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Source, parse } from 'graphql';

const root = join(__dirname, '..');
const out = join(root, 'schema', 'supergraph.graphql');

interface Entry {
  name: string;
  schema: string;
  url: string;
}

export function composeSupergraph(entries: Entry[], base = root): { supergraph?: string; errors: string[] } {
  const services = entries.map((e) => ({
    name: e.name,
    url: e.url,
    typeDefs: parse(new Source(readFileSync(join(base, e.schema), 'utf8'), e.schema)),
  }));
  const result = composeServices(services);
  if (result.errors) {
    return {
      errors: result.errors.map((err) => {
        const where = err.nodes
          ?.map((n) => `${n.loc?.source.name ?? ''}:${n.loc?.startToken.line ?? '?'}`)
          .join(', ');
        return `${err.message}${where ? ` (${where})` : ''}`;
      }),
    };
  }
  return { supergraph: `${result.supergraphSdl.trim()}\n`, errors: [] };
}

function main(): void {
  const { subgraphs } = JSON.parse(readFileSync(join(root, 'schema', 'subgraphs.json'), 'utf8')) as {
    subgraphs: Entry[];
  };
  const { supergraph, errors } = composeSupergraph(subgraphs);
  if (!supergraph) {
    console.error(`Composition failed:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    process.exit(1);
  }
  if (process.argv.includes('--check')) {
    const committed = existsSync(out) ? readFileSync(out, 'utf8') : '';
    if (committed !== supergraph) {
      console.error('schema/supergraph.graphql is stale: run `npm run compose` and commit it');
      process.exit(1);
    }
    console.log(`supergraph is current (${subgraphs.length} subgraphs)`);
    return;
  }
  writeFileSync(out, supergraph);
  console.log(`composed ${subgraphs.length} subgraphs into schema/supergraph.graphql`);
}

if (require.main === module) main();
