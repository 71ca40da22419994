import { createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError, ErrorCode } from './errors';

/** Who is calling, as verified by the gateway and forwarded to subgraphs. */
export interface Caller {
  kind: 'anonymous' | 'person' | 'staff' | 'client';
  /** Person id, staff user id or machine-client id. */
  id?: string;
  /** Staff and clients act only inside this region's subtree (GB/T 2260 code). */
  regionCode?: string;
  permissions: string[];
}

export const ANONYMOUS: Caller = Object.freeze({ kind: 'anonymous', permissions: [] }) as Caller;

/** Header the gateway sets on every subgraph request. */
export const CALLER_HEADER = 'x-vtv-caller';
const VERSION = 'v1';
const MAX_AGE_S = 60;

interface Envelope {
  c: Caller;
  iat: number;
  exp: number;
}

function mac(secret: string, data: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

/** Signs a caller for one hop (gateway → subgraph). Short-lived so a leaked header is of little use. */
export function signCaller(caller: Caller, secret: string, now = Date.now()): string {
  const iat = Math.floor(now / 1000);
  const envelope: Envelope = { c: caller, iat, exp: iat + MAX_AGE_S };
  const body = `${VERSION}.${Buffer.from(JSON.stringify(envelope)).toString('base64url')}`;
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

/** Verifies the gateway's signature; throws UNAUTHENTICATED for anything else. */
export function verifyCaller(header: string | undefined, secret: string, now = Date.now()): Caller {
  const refuse = () => new DomainError(ErrorCode.UNAUTHENTICATED, 'Requests must come through the gateway');
  if (!header || header.length > 8192) throw refuse();
  const parts = header.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) throw refuse();
  const body = `${parts[0]}.${parts[1]}`;
  const given = Buffer.from(parts[2]!, 'base64url');
  const expected = mac(secret, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refuse();
  let envelope: Envelope;
  try {
    envelope = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Envelope;
  } catch {
    throw refuse();
  }
  const nowS = Math.floor(now / 1000);
  if (typeof envelope.exp !== 'number' || envelope.exp < nowS || envelope.iat > nowS + 5) throw refuse();
  const c = envelope.c;
  return {
    kind: c.kind,
    id: c.id,
    regionCode: c.regionCode,
    permissions: Array.isArray(c.permissions) ? c.permissions : [],
  };
}

export function requireCaller(
  caller: Caller,
  ...kinds: Caller['kind'][]
): asserts caller is Caller & { id: string } {
  if (caller.kind === 'anonymous' || !caller.id)
    throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Sign in first');
  if (kinds.length && !kinds.includes(caller.kind))
    throw new DomainError(ErrorCode.FORBIDDEN, 'Not allowed for this caller');
}

export function requirePermission(caller: Caller, permission: string): void {
  requireCaller(caller);
  if (!caller.permissions.includes(permission)) {
    throw new DomainError(ErrorCode.FORBIDDEN, `Missing permission ${permission}`);
  }
}
