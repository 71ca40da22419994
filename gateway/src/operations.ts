import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

/**
 * Trusted operations (persisted queries): the operations the platform's own clients send, registered
 * ahead of time in manifests of Apollo's persisted-query format (schema/operations/manifest.json,
 * built by scripts/operations-manifest.ts, plus any front-end's). In production the gateway runs only
 * these, asked for by id or by their exact text.
 */
export interface RegisteredOperation {
  /** sha256 of body, lower-case hex. */
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

export interface OperationManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: RegisteredOperation[];
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export class OperationRegistry {
  private readonly byHash = new Map<string, RegisteredOperation>();

  constructor(operations: RegisteredOperation[] = []) {
    for (const op of operations) {
      if (sha256(op.body) !== op.id)
        throw new Error(`manifest entry ${op.name}: id is not the sha256 of its body`);
      this.byHash.set(op.id, op);
    }
  }

  /** Reads and merges manifests; a missing file is an error only when `required`. */
  static load(paths: string[], required: boolean): OperationRegistry {
    const operations: RegisteredOperation[] = [];
    for (const path of paths) {
      if (!existsSync(path)) {
        if (required) throw new Error(`operation manifest ${path} not found`);
        continue;
      }
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as OperationManifest;
      if (manifest.format !== 'apollo-persisted-query-manifest' || manifest.version !== 1)
        throw new Error(`${path} is not an apollo-persisted-query-manifest v1`);
      operations.push(...manifest.operations);
    }
    return new OperationRegistry(operations);
  }

  get size(): number {
    return this.byHash.size;
  }

  all(): RegisteredOperation[] {
    return [...this.byHash.values()];
  }

  /** By id: bare hex or `sha256:<hex>` (GraphQL-over-HTTP documentId). */
  byId(id: string): RegisteredOperation | undefined {
    return this.byHash.get(id.replace(/^sha256:/, '').toLowerCase());
  }

  /** By exact text. */
  byBody(body: string): RegisteredOperation | undefined {
    return this.byHash.get(sha256(body));
  }

  isRegisteredName(name: string | undefined): boolean {
    if (!name) return false;
    for (const op of this.byHash.values()) if (op.name === name) return true;
    return false;
  }
}
