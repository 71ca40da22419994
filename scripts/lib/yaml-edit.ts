/**
 * Edits of the repository's YAML and JSON files for scripts that register things (npm run new-subgraph).
 *
 * YAML goes through the `yaml` library's document model, so comments, anchors, aliases, blank lines and
 * quoting survive: every YAML file of the repository prints back byte for byte with STYLE (Prettier's
 * output for .prettierrc.json). Nothing is written while edits are planned: FileChanges collects the new
 * texts and commit() puts them in place, so a refusal or a failed check leaves the tree as it was.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  Alias,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';

/** How Prettier (single quotes, 110 columns) prints YAML; the repository's files round-trip with it. */
const STYLE = { singleQuote: true, lineWidth: 110, flowCollectionPadding: false } as const;
const WIDTH = 110;

export class YamlFile {
  readonly docs: Document[];

  constructor(
    readonly path: string,
    text: string,
  ) {
    this.docs = parseAllDocuments(text) as Document[];
    if (!Array.isArray(this.docs)) throw new Error(`${path}: no YAML document`);
    const error = this.docs.flatMap((d) => d.errors)[0];
    if (error) throw new Error(`${path}: ${error.message}`);
  }

  /** The first document whose top level satisfies the predicate (e.g. a kind and a name). */
  doc(test: (top: Record<string, unknown>) => boolean = () => true): Document {
    const hit = this.docs.find((d) => test((d.toJS() ?? {}) as Record<string, unknown>));
    if (!hit) throw new Error(`${this.path}: no matching document`);
    return hit;
  }

  toString(): string {
    return this.docs.map((d) => d.toString(STYLE)).join('');
  }
}

const keyOf = (pair: Pair): unknown => (isScalar(pair.key) ? pair.key.value : pair.key);

function nodeAt(doc: Document, path: (string | number)[]): Node {
  const node = path.length ? doc.getIn(path, true) : doc.contents;
  if (!node) throw new Error(`no ${path.join('.') || 'top level'}`);
  return node as Node;
}

export function mapAt(doc: Document, path: (string | number)[]): YAMLMap {
  const node = nodeAt(doc, path);
  if (!isMap(node)) throw new Error(`${path.join('.') || 'the top level'} is not a map`);
  return node;
}

export function seqAt(doc: Document, path: (string | number)[]): YAMLSeq {
  const node = nodeAt(doc, path);
  if (!isSeq(node)) throw new Error(`${path.join('.')} is not a list`);
  return node;
}

export const hasKey = (map: YAMLMap, key: string) => map.items.some((p) => keyOf(p) === key);

/** The plain value of each item of a list (scalars as themselves, maps and lists as JS). */
export const itemValues = (seq: YAMLSeq): unknown[] =>
  seq.items.map((n) => (isScalar(n) ? n.value : (n as Node & { toJSON(): unknown }).toJSON()));

/** The value node under `key`, as it stands (an alias stays an alias). */
export function valueNode(map: YAMLMap, key: string): Node {
  const pair = map.items.find((p) => keyOf(p) === key);
  if (!pair?.value) throw new Error(`no ${key}`);
  return pair.value as Node;
}

/**
 * A node that says the same as `node` in another place: an alias stays an alias to the same anchor
 * (values-dev.yaml's `careers: *subgraph`), anything else is copied.
 */
export const sameAs = (node: Node): Node => (isAlias(node) ? new Alias(node.source) : (node.clone() as Node));

export interface InsertOptions {
  /** The key (maps) or the test (lists) of the entry to insert before; absent or not found: at the end. */
  before?: string | ((item: unknown) => boolean);
  /** Maps: the key of the entry to insert after (wins over `before`). */
  after?: string;
  /** A comment line above the new entry. */
  comment?: string;
  /** A blank line above the new entry. */
  spaceBefore?: boolean;
}

function place<T>(items: T[], item: T, index: number): void {
  items.splice(index < 0 ? items.length : index, 0, item);
}

function decorate(node: Node, o: InsertOptions): void {
  if (o.comment) node.commentBefore = ` ${o.comment}`;
  if (o.spaceBefore) node.spaceBefore = true;
}

/** Adds `key: value` to a map; `value` may be a plain JS value or a node (e.g. from sameAs). */
export function insertPair(doc: Document, map: YAMLMap, key: string, value: unknown, o: InsertOptions = {}) {
  if (hasKey(map, key)) throw new Error(`${key} is already there`);
  const pair = doc.createPair(key, value) as Pair<Node, Node>;
  decorate(pair.key, o);
  const after = map.items.findIndex((p) => keyOf(p) === o.after);
  place(map.items, pair, after >= 0 ? after + 1 : map.items.findIndex((p) => keyOf(p) === o.before));
}

/** Adds an item to a list (flow lists stay on one line while they fit). */
export function insertItem(doc: Document, seq: YAMLSeq, value: unknown, o: InsertOptions = {}) {
  const node = doc.createNode(value) as Node;
  decorate(node, o);
  const before = o.before;
  const values = itemValues(seq);
  place(seq.items, node, typeof before === 'function' ? values.findIndex(before) : values.indexOf(before));
}

/**
 * JSON as Prettier prints it for the repository's files: two-space indentation, objects expanded, lists of
 * plain values on one line while the line fits in 110 columns.
 */
export function jsonText(value: unknown): string {
  const expanded = JSON.stringify(value, null, 2);
  const collapsed = expanded.replace(
    /^( *)(.*)\[\n((?:\s*(?:"(?:[^"\\]|\\.)*"|-?[\d.eE+-]+|true|false|null),?\n)+)\s*\](,?)$/gm,
    (whole, indent: string, head: string, body: string, comma: string) => {
      const line = `${indent}${head}[${body
        .trim()
        .split(/,\n\s*/)
        .join(', ')}]${comma}`;
      return line.length <= WIDTH ? line : whole;
    },
  );
  return `${collapsed}\n`;
}

/** New file texts, written together: each to a temporary sibling first, then all renamed into place. */
export class FileChanges {
  private readonly texts = new Map<string, string>();

  set(path: string, text: string): void {
    this.texts.set(path, text);
  }

  get(path: string): string | undefined {
    return this.texts.get(path);
  }

  get paths(): string[] {
    return [...this.texts.keys()];
  }

  commit(): void {
    const staged: [string, string][] = [];
    try {
      for (const [path, text] of this.texts) {
        mkdirSync(dirname(path), { recursive: true });
        const temp = `${path}.${process.pid}.tmp`;
        writeFileSync(temp, text);
        staged.push([temp, path]);
      }
    } catch (err) {
      for (const [temp] of staged) rmSync(temp, { force: true });
      throw err;
    }
    for (const [temp, path] of staged) renameSync(temp, path);
  }
}
