/**
 * `npm run new-subgraph -- <name> [--dir services|examples] [--port N] [--root <repo>]`
 *
 * Creates a subgraph with the house layout (schema, config, database + migrations, health through the
 * runtime, tests) from scripts/templates/subgraph, registers it for composition (schema/subgraphs.json),
 * adds it to the README's service table, and recomposes the supergraph. The result composes and its
 * tests pass before any edit.
 *
 * Under services/ it is also registered for delivery like the platform's own subgraphs
 * (scripts/lib/deploy-registration.ts): the Helm umbrella chart and its values, skaffold.yaml, the
 * Dockerfile and the dev cluster's database and Secret. All files are planned in memory and written
 * together at the end, so a refusal (a name already registered anywhere) leaves the repository unchanged.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { registerForDelivery } from './lib/deploy-registration';
import { compose } from './lib/schema-check';
import { FileChanges } from './lib/yaml-edit';

const TEMPLATE = join(__dirname, 'templates', 'subgraph');
const NAME_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const RESERVED = new Set([
  'identity',
  'vouchers',
  'training',
  'settlement',
  'careers',
  'gateway',
  'kit',
  'events',
  'cache',
  'runtime',
  'testing',
]);

interface Options {
  name: string;
  dir: string;
  port?: number;
  root: string;
}

interface Registry {
  $comment?: string;
  subgraphs: { name: string; schema: string; url: string }[];
}

export function tokens(name: string, port: number, stamp: number): Record<string, string> {
  const parts = name.split('-');
  const pascal = parts.map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');
  return {
    __NAME__: name,
    __PASCAL__: pascal,
    __CAMEL__: pascal[0]!.toLowerCase() + pascal.slice(1),
    __SNAKE__: parts.join('_'),
    __PORT__: String(port),
    __STAMP__: String(stamp),
  };
}

function render(text: string, t: Record<string, string>): string {
  return Object.entries(t).reduce((acc, [k, v]) => acc.split(k).join(v), text);
}

function templateFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? templateFiles(path) : [path];
  });
}

export function scaffold(o: Options): { dir: string; files: string[]; port: number; registered: string[] } {
  if (!NAME_RE.test(o.name) || o.name.length > 30)
    throw new Error(`"${o.name}" is not a valid name: lower-case words joined by hyphens, e.g. hubei-carers`);
  if (RESERVED.has(o.name)) throw new Error(`"${o.name}" is taken by the platform`);
  const registryPath = join(o.root, 'schema', 'subgraphs.json');
  const registry = JSON.parse(readFileSync(registryPath, 'utf8')) as Registry;
  if (registry.subgraphs.some((s) => s.name === o.name))
    throw new Error(`a subgraph named "${o.name}" is already registered`);
  const target = join(o.root, o.dir, o.name);
  if (existsSync(target)) throw new Error(`${relative(o.root, target)} already exists`);

  const usedPorts = registry.subgraphs.map((s) => Number(new URL(s.url).port));
  const port = o.port ?? Math.max(4005, ...usedPorts) + 1;
  const stamp = Date.now();
  const t = tokens(o.name, port, stamp);

  // Everything is planned in memory first; one refusal or failed check and nothing is written.
  const changes = new FileChanges();
  for (const file of templateFiles(TEMPLATE)) {
    let rel = relative(TEMPLATE, file).replace(/\.tmpl$/, '');
    if (rel.endsWith('Init.ts')) rel = rel.replace('Init.ts', `${stamp}-Init.ts`);
    changes.set(join(target, rel), render(readFileSync(file, 'utf8'), t));
  }
  const files = changes.paths.map((p) => relative(o.root, p));

  // Register for composition, and prove the graph still composes.
  const schemaFile = join(target, 'src', 'schema.graphql');
  registry.subgraphs.push({
    name: o.name,
    schema: relative(o.root, schemaFile),
    url: `http://127.0.0.1:${port}/graphql`,
  });
  const { supergraph, errors } = compose(
    registry.subgraphs.map((s) => ({
      name: s.name,
      url: s.url,
      file: s.schema,
      sdl: s.name === o.name ? changes.get(schemaFile)! : readFileSync(join(o.root, s.schema), 'utf8'),
    })),
  );
  if (!supergraph) throw new Error(`the new subgraph does not compose:\n${errors.join('\n')}`);
  changes.set(registryPath, `${JSON.stringify(registry, null, 2)}\n`);
  changes.set(join(o.root, 'schema', 'supergraph.graphql'), supergraph);

  const readme = join(o.root, 'README.md');
  const marker = '<!-- new-subgraph: rows above this line -->';
  if (existsSync(readme)) {
    const text = readFileSync(readme, 'utf8');
    if (text.includes(marker)) {
      const row = `| ${o.name} | ${port} | \`${t.__PASCAL__}Item\` (generated example) | — | — | — |`;
      changes.set(readme, text.replace(marker, `${row}\n${marker}`));
    }
  }

  // Delivery (Helm, skaffold, image, dev cluster) for the platform's services; examples/ are not deployed.
  if (o.dir === 'services')
    registerForDelivery(o.root, { name: o.name, workspace: `${o.dir}/${o.name}` }, changes);

  try {
    changes.commit();
  } catch (err) {
    rmSync(target, { recursive: true, force: true });
    throw err;
  }
  formatGenerated(o.root, target);
  const registered = changes.paths.filter((p) => !p.startsWith(target)).map((p) => relative(o.root, p));
  return { dir: relative(o.root, target), files, port, registered };
}

/**
 * The generated files in the house format, so the repository's `prettier --check .` (part of the test
 * command) passes right after scaffolding; the registry edits above are written formatted already.
 * After the commit, so a failure here only costs the format (said on stderr), never a half registration.
 */
function formatGenerated(root: string, target: string): void {
  const bin = require.resolve('prettier/bin/prettier.cjs', { paths: [root, __dirname] });
  const run = spawnSync(process.execPath, [bin, '--write', '--log-level', 'warn', target], {
    cwd: root,
    encoding: 'utf8',
  });
  if (run.status !== 0)
    process.stderr.write(
      `warning: formatting ${relative(root, target)} failed; run prettier --write on it\n${run.stderr}`,
    );
}

function parseArgs(argv: string[]): Options {
  const name = argv.find((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  if (!name) throw new Error('usage: npm run new-subgraph -- <name> [--dir services|examples] [--port N]');
  const value = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const dir = value('--dir') ?? 'services';
  if (!['services', 'examples'].includes(dir)) throw new Error('--dir must be services or examples');
  const port = value('--port') ? Number(value('--port')) : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port > 1024 && port < 65536))
    throw new Error('--port must be 1025-65535');
  return { name, dir, port, root: value('--root') ?? join(__dirname, '..') };
}

if (require.main === module) {
  try {
    const o = parseArgs(process.argv.slice(2));
    const result = scaffold(o);
    const delivery = result.registered.filter((p) => !/^(schema|README)/.test(p));
    console.log(`created ${result.dir} (port ${result.port}), registered it in schema/subgraphs.json and recomposed the supergraph.
${delivery.length ? `registered it for delivery in ${delivery.join(', ')}.\n` : ''}next:
  npm install                                           # records the new workspace in package-lock.json
  npx jest ${result.dir} --selectProjects integration   # its tests pass as generated
  npm run schema:check                                  # composition, operations and the diff against main
${delivery.length ? '  bash scripts/k8s-validate.sh                          # the charts render and validate with it\n' : ''}  see docs/integrators.md for extending Person, TrainingClass, Institution and consuming events`);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
