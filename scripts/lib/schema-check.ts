/**
 * Schema checks for a candidate supergraph: composition (errors named by subgraph file and line),
 * a diff of the client-facing API schema against a baseline classified as breaking / dangerous /
 * safe, and validation of the registered operations against the candidate.
 */
import { composeServices } from '@apollo/composition';
import { Supergraph } from '@apollo/federation-internals';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import { Source, parse, validate, type GraphQLSchema } from 'graphql';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface SubgraphSource {
  name: string;
  url: string;
  /** SDL text and the file it came from (used in error locations). */
  sdl: string;
  file: string;
}

export interface CompositionResult {
  supergraph?: string;
  errors: string[];
}

export function compose(subgraphs: SubgraphSource[]): CompositionResult {
  const services = subgraphs.map((s) => ({
    name: s.name,
    url: s.url,
    typeDefs: parse(new Source(s.sdl, s.file)),
  }));
  const result = composeServices(services);
  if (result.errors) {
    return {
      errors: result.errors.map((err) => {
        const where = err.nodes
          ?.map((n) =>
            n.loc ? `${n.loc.source.name}:${n.loc.startToken.line}:${n.loc.startToken.column}` : '',
          )
          .filter(Boolean)
          .join(', ');
        const code = (err.extensions?.code as string | undefined) ?? 'COMPOSITION_ERROR';
        return `[${code}] ${err.message}${where ? `\n      at ${where}` : ''}`;
      }),
    };
  }
  return { supergraph: `${result.supergraphSdl.trim()}\n`, errors: [] };
}

/** The schema clients see (federation machinery and @inaccessible elements removed). */
export function apiSchema(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
}

export interface ClassifiedChanges {
  breaking: Change[];
  dangerous: Change[];
  safe: Change[];
}

export async function classifyChanges(
  baselineSupergraph: string,
  candidateSupergraph: string,
): Promise<ClassifiedChanges> {
  const changes = await diff(apiSchema(baselineSupergraph), apiSchema(candidateSupergraph));
  return {
    breaking: changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking),
    dangerous: changes.filter((c) => c.criticality.level === CriticalityLevel.Dangerous),
    safe: changes.filter((c) => c.criticality.level === CriticalityLevel.NonBreaking),
  };
}

export interface OperationProblem {
  file: string;
  message: string;
}

function graphqlFiles(dir: string): string[] {
  let out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out = out.concat(graphqlFiles(path));
    else if (entry.endsWith('.graphql')) out.push(path);
  }
  return out;
}

/** Validates every registered operation document against the candidate API schema. */
export function checkOperations(
  candidateSupergraph: string,
  operationsDir: string,
  root: string,
): OperationProblem[] {
  const schema = apiSchema(candidateSupergraph);
  const problems: OperationProblem[] = [];
  let files: string[] = [];
  try {
    files = graphqlFiles(operationsDir);
  } catch {
    return problems;
  }
  for (const file of files) {
    const name = relative(root, file);
    try {
      const errors = validate(schema, parse(new Source(readFileSync(file, 'utf8'), name)));
      for (const e of errors) problems.push({ file: name, message: e.message });
    } catch (err) {
      problems.push({ file: name, message: (err as Error).message });
    }
  }
  return problems;
}

export function formatChanges(c: ClassifiedChanges): string {
  const section = (title: string, list: Change[]) =>
    list.length
      ? `${title} (${list.length}):\n${list.map((x) => `  - ${x.message}${x.path ? `  [${x.path}]` : ''}`).join('\n')}\n`
      : '';
  return (
    section('BREAKING', c.breaking) + section('DANGEROUS', c.dangerous) + section('SAFE', c.safe) ||
    'No changes to the API schema.\n'
  );
}
