/**
 * The event contracts as buf compiles them (with comments): a FileDescriptorSet built from proto/ by the
 * pinned buf, and helpers to read a descriptor's documentation. Shared by the docs generator and tests.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  createFileRegistry,
  fromBinary,
  type DescEnum,
  type DescField,
  type DescMessage,
  type FileRegistry,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

export const ROOT = join(__dirname, '..', '..');

/** `buf build` of proto/ as a FileDescriptorSet with imports and source info (comments). */
export function buildDescriptorSet(): Buffer {
  return execFileSync(
    join(ROOT, 'node_modules', '.bin', 'buf'),
    ['build', '--as-file-descriptor-set', '-o', '-'],
    {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
}

export function contractRegistry(set: Uint8Array): FileRegistry {
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, set));
}

/** Source path of a message, field, enum or enum value inside its file (descriptor.proto numbering). */
function sourcePath(desc: DescMessage | DescField | DescEnum): number[] {
  if (desc.kind === 'field') {
    const msg = desc.parent;
    return [...sourcePath(msg), 2, msg.proto.field.indexOf(desc.proto)];
  }
  const parent = desc.parent;
  if (desc.kind === 'message') {
    return parent
      ? [...sourcePath(parent), 3, parent.proto.nestedType.indexOf(desc.proto)]
      : [4, desc.file.proto.messageType.indexOf(desc.proto)];
  }
  return parent
    ? [...sourcePath(parent), 4, parent.proto.enumType.indexOf(desc.proto)]
    : [5, desc.file.proto.enumType.indexOf(desc.proto)];
}

function commentAt(file: DescMessage['file'], path: number[]): string {
  const key = path.join(',');
  const loc = file.proto.sourceCodeInfo?.location.find((l) => l.path.join(',') === key);
  const text = loc?.leadingComments ?? '';
  return text
    .split('\n')
    .map((l) => l.trim())
    .join('\n')
    .trim();
}

/** The leading comment of a message, field or enum in the .proto source ('' when none). */
export function comment(desc: DescMessage | DescField | DescEnum): string {
  const file = desc.kind === 'field' ? desc.parent.file : desc.file;
  return commentAt(file, sourcePath(desc));
}

/** The comment on an enum value. */
export function enumValueComment(e: DescEnum, index: number): string {
  return commentAt(e.file, [...sourcePath(e), 2, index]);
}

/** The comment above a file's `package` line. */
export function packageComment(file: DescMessage['file']): string {
  return commentAt(file, [2]);
}

/** `vtv.<service>.v<N>` → { service, version }; undefined for other packages. */
export function contractPackage(typeName: string): { service: string; version: number } | undefined {
  const m = /^vtv\.([a-z][a-z0-9_]*)\.v(\d+)\./.exec(typeName);
  return m ? { service: m[1]!, version: Number(m[2]) } : undefined;
}

/** `<service>.<aggregate>.v<N>` → { service, version }. */
export function topicParts(topic: string): { service: string; version: number } | undefined {
  const m = /^([a-z][a-z0-9_]*)\.[a-z][a-z0-9-]*\.v(\d+)$/.exec(topic);
  return m ? { service: m[1]!, version: Number(m[2]) } : undefined;
}
