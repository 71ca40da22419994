import type { Logger } from 'pino';
import type { Caller } from './caller';

/** What every resolver receives. Built once per request by the subgraph server. */
export interface RequestContext {
  caller: Caller;
  requestId: string;
  /** Client-supplied key for mutations that move money or vouchers. */
  idempotencyKey?: string;
  logger: Logger;
}

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const REQUEST_ID_HEADER = 'x-request-id';
