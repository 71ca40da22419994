import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  parse,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/**
 * Cheap, bounded checks on an operation before Apollo validates it and the gateway plans it, the
 * way Apollo Router's operation limits and demand control do. The document is parsed once with a token
 * cap (so a megabyte of punctuation stops at the cap), then walked once with fragments expanded; the
 * walk stops as soon as any limit is passed, so a fragment bomb costs at most `maxFields` visits.
 */
export interface Limits {
  maxTokens: number;
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxFields: number;
  maxCost: number;
  /** Assumed length of a list no argument bounds. */
  defaultListSize: number;
}

export interface OperationShape {
  name?: string;
  type: 'query' | 'mutation' | 'subscription';
  depth: number;
  aliases: number;
  fields: number;
  cost: number;
  /** Root field coordinates, e.g. Mutation.redeemVoucher. */
  rootFields: string[];
}

export type LimitName = 'tokens' | 'depth' | 'aliases' | 'rootFields' | 'fields' | 'cost';

/** Thrown when a limit is passed; extensions carry the limit's name and maximum (never the document). */
export class LimitExceeded extends GraphQLError {
  constructor(
    readonly limit: LimitName,
    readonly max: number,
  ) {
    super(`Operation exceeds the ${limit} limit of ${max}`, {
      extensions: { code: 'OPERATION_LIMIT_EXCEEDED', limit, max },
    });
  }
}

const SIZE_ARGUMENTS = ['first', 'last', 'limit', 'pageSize'];
const MUTATION_COST = 10;

/** Parses with the token cap; a syntax error or the cap becomes a GraphQLError (parse or limit). */
export function parseLimited(query: string, maxTokens: number): DocumentNode {
  try {
    return parse(query, { maxTokens, noLocation: true });
  } catch (err) {
    if (err instanceof GraphQLError && /more th(?:an|at) \d+ tokens/.test(err.message)) {
      throw new LimitExceeded('tokens', maxTokens);
    }
    throw new GraphQLError(err instanceof GraphQLError ? err.message : 'Syntax error', {
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    });
  }
}

function intValue(node: ValueNode | undefined, variables: Record<string, unknown>): number | undefined {
  if (!node) return undefined;
  if (node.kind === Kind.INT) return Number.parseInt(node.value, 10);
  if (node.kind === Kind.VARIABLE) {
    const v = variables[node.name.value];
    return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
  }
  return undefined;
}

/** Picks the operation Apollo would run; null when none or ambiguous (Apollo reports that itself). */
export function selectOperation(
  doc: DocumentNode,
  operationName?: string | null,
): OperationDefinitionNode | null {
  const ops = doc.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  if (operationName) return ops.find((o) => o.name?.value === operationName) ?? null;
  return ops.length === 1 ? ops[0]! : null;
}

/**
 * Measures the operation (the named one, or the only one) and throws LimitExceeded at the first limit
 * passed. With a schema, lists multiply the cost of what they contain (by their first/last/limit
 * argument, or the default size); without one, only those arguments count.
 */
export function measureOperation(
  doc: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
  limits: Limits,
  schema?: GraphQLSchema,
): OperationShape | null {
  const operation = selectOperation(doc, operationName);
  if (!operation) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

  const rootType = schema
    ? ((operation.operation === 'query'
        ? schema.getQueryType()
        : operation.operation === 'mutation'
          ? schema.getMutationType()
          : schema.getSubscriptionType()) ?? undefined)
    : undefined;
  const rootName =
    rootType?.name ??
    (operation.operation === 'query'
      ? 'Query'
      : operation.operation === 'mutation'
        ? 'Mutation'
        : 'Subscription');

  const shape: OperationShape = {
    ...(operation.name ? { name: operation.name.value } : {}),
    type: operation.operation,
    depth: 0,
    aliases: 0,
    fields: 0,
    cost: 0,
    rootFields: [],
  };
  const rootFields = new Set<string>();
  /** Response keys at the root: aliases of one field count apart, as each is a separate resolution. */
  const rootKeys = new Set<string>();

  const fieldDef = (
    parent: GraphQLCompositeType | undefined,
    name: string,
  ): GraphQLField<unknown, unknown> | undefined =>
    parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;

  const walk = (
    set: SelectionSetNode,
    parent: GraphQLCompositeType | undefined,
    depth: number,
    multiplier: number,
    sizeHint: number | undefined,
    inFragments: ReadonlySet<string>,
  ): void => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        visitField(sel, parent, depth, multiplier, sizeHint, inFragments);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const cond = sel.typeCondition && schema?.getType(sel.typeCondition.name.value);
        walk(
          sel.selectionSet,
          cond && isCompositeType(cond) ? cond : parent,
          depth,
          multiplier,
          sizeHint,
          inFragments,
        );
      } else {
        const name = sel.name.value;
        const fragment = fragments.get(name);
        if (!fragment || inFragments.has(name)) continue; // Unknown or cyclic: validation reports it.
        const cond = schema?.getType(fragment.typeCondition.name.value);
        walk(
          fragment.selectionSet,
          cond && isCompositeType(cond) ? cond : parent,
          depth,
          multiplier,
          sizeHint,
          new Set([...inFragments, name]),
        );
      }
    }
  };

  const visitField = (
    field: FieldNode,
    parent: GraphQLCompositeType | undefined,
    depth: number,
    multiplier: number,
    sizeHint: number | undefined,
    inFragments: ReadonlySet<string>,
  ): void => {
    const name = field.name.value;
    if (name === '__typename') return; // Free: answered by the gateway itself.
    shape.fields += 1;
    if (shape.fields > limits.maxFields) throw new LimitExceeded('fields', limits.maxFields);
    const d = depth + 1;
    if (d > shape.depth) {
      shape.depth = d;
      if (d > limits.maxDepth) throw new LimitExceeded('depth', limits.maxDepth);
    }
    if (field.alias) {
      shape.aliases += 1;
      if (shape.aliases > limits.maxAliases) throw new LimitExceeded('aliases', limits.maxAliases);
    }
    if (depth === 0) {
      rootFields.add(`${rootName}.${name}`);
      rootKeys.add(field.alias?.value ?? name);
      if (rootKeys.size > limits.maxRootFields) throw new LimitExceeded('rootFields', limits.maxRootFields);
      if (operation.operation === 'mutation') shape.cost += MUTATION_COST;
    }
    const def = fieldDef(parent, name);
    const sizeArg = field.arguments?.find((a) => SIZE_ARGUMENTS.includes(a.name.value));
    const requested = intValue(sizeArg?.value, variables);
    const type = def ? getNullableType(def.type) : undefined;
    const isList = type ? isListType(type) : false;
    const named = def ? getNamedType(def.type) : undefined;
    const composite = named ? isCompositeType(named) : !!field.selectionSet;
    let childMultiplier = multiplier;
    let childHint: number | undefined;
    if (isList) {
      childMultiplier = multiplier * Math.max(1, requested ?? sizeHint ?? limits.defaultListSize);
    } else if (requested !== undefined) {
      // A connection: its first/last bounds the edges/nodes lists below it.
      childHint = Math.max(1, requested);
    }
    if (!def && requested !== undefined) childMultiplier = multiplier * Math.max(1, requested);
    if (composite) {
      shape.cost += childMultiplier;
      if (shape.cost > limits.maxCost) throw new LimitExceeded('cost', limits.maxCost);
    }
    if (field.selectionSet) {
      walk(
        field.selectionSet,
        named && isCompositeType(named) ? named : undefined,
        d,
        childMultiplier,
        childHint,
        inFragments,
      );
    }
  };

  walk(operation.selectionSet, rootType ?? undefined, 0, 1, undefined, new Set());
  shape.rootFields = [...rootFields];
  return shape;
}
