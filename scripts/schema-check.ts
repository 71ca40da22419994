/**
 * `npm run schema:check [-- --base <git ref>] [--allow-breaking] [--with name=path.graphql@url ...]`
 *
 * Composes the candidate supergraph from schema/subgraphs.json (plus any --with subgraphs, e.g. a
 * province's own), compares its API schema with the baseline supergraph committed at --base (default:
 * main) and validates schema/operations against it. Fails on composition errors, invalid registered
 * operations, or breaking changes unless --allow-breaking is given.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkOperations,
  classifyChanges,
  compose,
  formatChanges,
  type SubgraphSource,
} from './lib/schema-check';

const root = join(__dirname, '..');

function registered(): SubgraphSource[] {
  const { subgraphs } = JSON.parse(readFileSync(join(root, 'schema', 'subgraphs.json'), 'utf8')) as {
    subgraphs: { name: string; schema: string; url: string }[];
  };
  return subgraphs.map((s) => ({
    name: s.name,
    url: s.url,
    file: s.schema,
    sdl: readFileSync(join(root, s.schema), 'utf8'),
  }));
}

function extra(args: string[]): SubgraphSource[] {
  const out: SubgraphSource[] = [];
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] !== '--with') continue;
    const m = /^([a-z][a-z0-9-]*)=([^@]+)@(https?:\/\/.+)$/.exec(args[i + 1] ?? '');
    if (!m)
      throw new Error(
        `--with expects name=path/to/schema.graphql@http://host:port/graphql, got ${args[i + 1]}`,
      );
    out.push({ name: m[1]!, file: m[2]!, url: m[3]!, sdl: readFileSync(join(root, m[2]!), 'utf8') });
  }
  return out;
}

function baseline(ref: string): string | null {
  try {
    return execFileSync('git', ['show', `${ref}:schema/supergraph.graphql`], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const base = args.includes('--base') ? args[args.indexOf('--base') + 1]! : 'main';
  const allowBreaking = args.includes('--allow-breaking');
  const { supergraph, errors } = compose([...registered(), ...extra(args)]);
  if (!supergraph) {
    console.error(
      `Composition failed (${errors.length} error(s)):\n${errors.map((e) => `  - ${e}`).join('\n')}`,
    );
    process.exit(1);
  }
  console.log('composition: ok');

  let failed = false;
  const problems = checkOperations(supergraph, join(root, 'schema', 'operations'), root);
  if (problems.length) {
    failed = true;
    console.error(
      `Registered operations no longer valid:\n${problems.map((p) => `  - ${p.file}: ${p.message}`).join('\n')}`,
    );
  } else console.log('registered operations: valid');

  const before = baseline(base);
  if (!before) {
    console.log(`baseline: no schema/supergraph.graphql at ${base}; diff skipped`);
  } else {
    const changes = await classifyChanges(before, supergraph);
    console.log(`changes against ${base}:\n${formatChanges(changes)}`);
    if (changes.breaking.length && !allowBreaking) {
      failed = true;
      console.error(
        `${changes.breaking.length} breaking change(s). Keep the old field (deprecate it) or rerun with --allow-breaking after agreeing it with the graph's clients.`,
      );
    }
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
