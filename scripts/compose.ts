/**
 * Composes the subgraphs listed in schema/subgraphs.json into schema/supergraph.graphql.
 * --check: fails when composition fails or the committed supergraph differs from a fresh composition.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compose } from './lib/schema-check';

const root = join(__dirname, '..');
const out = join(root, 'schema', 'supergraph.graphql');

interface Entry {
  name: string;
  schema: string;
  url: string;
}

function main(): void {
  const { subgraphs } = JSON.parse(readFileSync(join(root, 'schema', 'subgraphs.json'), 'utf8')) as {
    subgraphs: Entry[];
  };
  const { supergraph, errors } = compose(
    subgraphs.map((e) => ({
      name: e.name,
      url: e.url,
      file: e.schema,
      sdl: readFileSync(join(root, e.schema), 'utf8'),
    })),
  );
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

main();
