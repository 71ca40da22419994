/**
 * Which subgraphs the platform has, read from the one registry: schema/subgraphs.json, which
 * `npm run compose` and `npm run schema:check` compose and `npm run new-subgraph` appends to.
 *
 * The deployed ones are its entries under services/ (services/<name>/src/schema.graphql), in registry
 * order: the platform's own first, then each scaffolded one, the order the scaffold also gives the chart's
 * dependencies, the gateway's routes and skaffold's artifacts. A subgraph scaffolded under examples/ is
 * composed but not delivered.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RegisteredSubgraph {
  name: string;
  /** Its SDL, relative to the repository root. */
  schema: string;
  /** Its local address (deployments override it). */
  url: string;
}

export const REGISTRY = join('schema', 'subgraphs.json');

/** Every subgraph composed into the supergraph, in registry order. */
export function registeredSubgraphs(root: string): RegisteredSubgraph[] {
  const { subgraphs } = JSON.parse(readFileSync(join(root, REGISTRY), 'utf8')) as {
    subgraphs: RegisteredSubgraph[];
  };
  return subgraphs;
}

/**
 * The names of the subgraphs the platform deploys (one Helm alias, image, Deployment and database each),
 * in registry order. A services/ entry whose folder is not its name is refused: delivery relies on it.
 */
export function platformSubgraphs(root: string): string[] {
  return registeredSubgraphs(root)
    .filter((s) => s.schema.startsWith('services/'))
    .map((s) => {
      if (s.schema !== `services/${s.name}/src/schema.graphql`)
        throw new Error(
          `${REGISTRY}: "${s.name}" has schema ${s.schema}; a deployed subgraph's is services/${s.name}/src/schema.graphql`,
        );
      return s.name;
    });
}
