import type { ApolloServerPlugin } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  TypeInfo,
  getNamedType,
  isAbstractType,
  isObjectType,
  isInterfaceType,
  visit,
  visitWithTypeInfo,
  type ConstDirectiveNode,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { Caller } from './caller';
import { DomainError, ErrorCode } from './errors';

/**
 * Enforces Federation's authorization directives (`@authenticated`, `@requiresScopes`, `@policy`).
 * Apollo Gateway composes them into the supergraph but does not enforce them; Apollo Router does. This
 * module does the same in two places: the gateway (against the supergraph) and every subgraph (against
 * its own schema, as defence in depth), so a field marked in a subgraph is refused wherever it is asked.
 *
 * Semantics follow the Router's: a directive on a type applies to every field returning that type; a
 * field on an abstract type also carries the requirements of that field on each implementation.
 * `@requiresScopes(scopes: [["a", "b"], ["c"]])` means (a AND b) OR c. A caller's scopes are its
 * permissions plus `kind:<caller kind>` (e.g. `kind:person`). `@policy` has no policy engine here, so
 * it fails closed: a field under a policy is refused to everyone.
 */

export interface Requirement {
  authenticated: boolean;
  /** Every entry must be satisfied; each entry is an OR of AND-sets. */
  scopes: string[][][];
  policies: string[][][];
}

/** Requirements by schema coordinate: a type name (`Voucher`) or a field (`Voucher.code`). */
export type Requirements = ReadonlyMap<string, Requirement>;

const SPEC = {
  authenticated: /^https:\/\/specs\.apollo\.dev\/authenticated\/v/,
  requiresScopes: /^https:\/\/specs\.apollo\.dev\/requiresScopes\/v/,
  policy: /^https:\/\/specs\.apollo\.dev\/policy\/v/,
  federation: /^https:\/\/specs\.apollo\.dev\/federation\/v2/,
} as const;
type Spec = 'authenticated' | 'requiresScopes' | 'policy';

function stringArg(d: ConstDirectiveNode, name: string): string | undefined {
  const arg = d.arguments?.find((a) => a.name.value === name);
  return arg?.value.kind === Kind.STRING ? arg.value.value : undefined;
}

/**
 * The local names the three directives go by in this schema: a supergraph links each spec
 * (`@link(url: ".../authenticated/v0.1", as: ...)`); a subgraph imports them from the federation spec
 * (`import: ["@authenticated", { name: "@requiresScopes", as: "@scopes" }]`) or uses `@federation__*`.
 */
function directiveNames(doc: DocumentNode): Record<string, Spec> {
  const names: Record<string, Spec> = {
    federation__authenticated: 'authenticated',
    federation__requiresScopes: 'requiresScopes',
    federation__policy: 'policy',
  };
  for (const def of doc.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const d of def.directives ?? []) {
      if (d.name.value !== 'link') continue;
      const url = stringArg(d, 'url') ?? '';
      for (const spec of ['authenticated', 'requiresScopes', 'policy'] as const) {
        if (SPEC[spec].test(url)) names[(stringArg(d, 'as') ?? spec).replace(/^@/, '')] = spec;
      }
      if (SPEC.federation.test(url)) {
        const imports = d.arguments?.find((a) => a.name.value === 'import')?.value;
        if (imports?.kind !== Kind.LIST) continue;
        for (const item of imports.values) {
          let name: string | undefined;
          let as: string | undefined;
          if (item.kind === Kind.STRING) name = item.value;
          else if (item.kind === Kind.OBJECT) {
            for (const f of item.fields) {
              if (f.value.kind !== Kind.STRING) continue;
              if (f.name.value === 'name') name = f.value.value;
              if (f.name.value === 'as') as = f.value.value;
            }
          }
          const spec = name?.replace(/^@/, '');
          if (spec === 'authenticated' || spec === 'requiresScopes' || spec === 'policy')
            names[(as ?? spec).replace(/^@/, '')] = spec;
        }
      }
    }
  }
  return names;
}

function nestedStrings(d: ConstDirectiveNode, argName: string): string[][] {
  const arg = d.arguments?.find((a) => a.name.value === argName)?.value;
  if (arg?.kind !== Kind.LIST) return [];
  return arg.values.map((inner) =>
    inner.kind === Kind.LIST
      ? inner.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : []))
      : inner.kind === Kind.STRING
        ? [inner.value]
        : [],
  );
}

/** Collects requirements from SDL: a subgraph's type definitions or a composed supergraph. */
export function collectRequirements(doc: DocumentNode): Requirements {
  const names = directiveNames(doc);
  const out = new Map<string, Requirement>();
  const add = (coordinate: string, directives: readonly ConstDirectiveNode[] | undefined) => {
    for (const d of directives ?? []) {
      const spec = names[d.name.value];
      if (!spec) continue;
      const r = out.get(coordinate) ?? { authenticated: false, scopes: [], policies: [] };
      if (spec === 'authenticated') r.authenticated = true;
      if (spec === 'requiresScopes') r.scopes.push(nestedStrings(d, 'scopes'));
      if (spec === 'policy') r.policies.push(nestedStrings(d, 'policies'));
      out.set(coordinate, r);
    }
  };
  for (const def of doc.definitions) {
    switch (def.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION:
        add(def.name.value, def.directives);
        for (const f of def.fields ?? []) add(`${def.name.value}.${f.name.value}`, f.directives);
        break;
      case Kind.SCALAR_TYPE_DEFINITION:
      case Kind.SCALAR_TYPE_EXTENSION:
      case Kind.ENUM_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_EXTENSION:
        add(def.name.value, def.directives);
        break;
      default:
        break;
    }
  }
  return out;
}

/** The scopes a caller holds: its permissions and its kind. */
export function callerScopes(caller: Caller): Set<string> {
  return new Set([...caller.permissions, `kind:${caller.kind}`]);
}

export interface Denial {
  code: typeof ErrorCode.UNAUTHENTICATED | typeof ErrorCode.FORBIDDEN;
  /** The schema coordinates refused (no values, safe to return). */
  coordinates: string[];
}

function satisfied(
  r: Requirement,
  caller: Caller,
  scopes: Set<string>,
): 'ok' | 'unauthenticated' | 'forbidden' {
  const signedIn = caller.kind !== 'anonymous' && !!caller.id;
  if ((r.authenticated || r.scopes.length > 0 || r.policies.length > 0) && !signedIn)
    return 'unauthenticated';
  if (r.policies.length > 0) return 'forbidden';
  for (const alternatives of r.scopes) {
    if (!alternatives.some((set) => set.every((s) => scopes.has(s)))) return 'forbidden';
  }
  return 'ok';
}

/**
 * Checks one operation (the one named, or the only one) against the requirements. Fragments are
 * visited wherever they are defined, so nothing escapes the check through a spread.
 */
export function checkAuthorization(
  schema: GraphQLSchema,
  document: DocumentNode,
  requirements: Requirements,
  caller: Caller,
  operationName?: string | null,
): Denial | null {
  if (requirements.size === 0) return null;
  const scopes = callerScopes(caller);
  const unauthenticated = new Set<string>();
  const forbidden = new Set<string>();
  const check = (coordinate: string) => {
    const r = requirements.get(coordinate);
    if (!r) return;
    const verdict = satisfied(r, caller, scopes);
    if (verdict === 'unauthenticated') unauthenticated.add(coordinate);
    if (verdict === 'forbidden') forbidden.add(coordinate);
  };
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const selected = operationName
    ? operations.filter((o) => o.name?.value === operationName)
    : operations.slice(0, 1);
  const keep = new Set<unknown>(selected);
  const pruned: DocumentNode = {
    ...document,
    definitions: document.definitions.filter((d) => d.kind !== Kind.OPERATION_DEFINITION || keep.has(d)),
  };
  const typeInfo = new TypeInfo(schema);
  visit(
    pruned,
    visitWithTypeInfo(typeInfo, {
      Field() {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (!parent || !field) return;
        check(`${parent.name}.${field.name}`);
        if (isAbstractType(parent)) {
          for (const impl of schema.getPossibleTypes(parent)) check(`${impl.name}.${field.name}`);
        }
        const named = getNamedType(field.type);
        check(named.name);
        if (isAbstractType(named)) for (const impl of schema.getPossibleTypes(named)) check(impl.name);
      },
      InlineFragment() {
        const t = typeInfo.getType();
        if (t && (isObjectType(t) || isInterfaceType(t))) check(t.name);
      },
    }),
  );
  if (unauthenticated.size > 0) return { code: ErrorCode.UNAUTHENTICATED, coordinates: [...unauthenticated] };
  if (forbidden.size > 0) return { code: ErrorCode.FORBIDDEN, coordinates: [...forbidden] };
  return null;
}

/** The GraphQL error for a denial: 401 when signing in would help, 403 otherwise. */
export function denialError(denial: Denial): GraphQLError {
  const unauthenticated = denial.code === ErrorCode.UNAUTHENTICATED;
  const message = unauthenticated
    ? `Sign in to read ${denial.coordinates.join(', ')}`
    : `Not allowed to read ${denial.coordinates.join(', ')}`;
  // A DomainError inside, so the platform's error formatter passes the code instead of masking it.
  return new GraphQLError(message, {
    originalError: new DomainError(denial.code, message),
    extensions: { code: denial.code, http: { status: unauthenticated ? 401 : 403 } },
  });
}

/**
 * An Apollo Server plugin refusing, before execution, an operation that selects a field the caller
 * may not read. `requirements()` is called per request so a reloaded schema takes effect at once.
 */
export function authorizationPlugin<C extends { caller: Caller }>(
  requirements: () => Requirements,
): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operationName, contextValue }) {
          const denial = checkAuthorization(
            schema,
            document,
            requirements(),
            contextValue.caller,
            operationName,
          );
          if (denial) throw denialError(denial);
        },
      };
    },
  };
}
