/**
 * SMS delivery behind a provider interface. Careers never holds phone numbers: a message names the
 * person (opaque id) and the provider — the bureau's SMS gateway, which is integrated with identity's
 * e-SSC records — resolves the number and renders the template.
 */
export interface SmsMessage {
  /** Unique per message; also the idempotency key, so a repeated send is delivered once. */
  id: string;
  personId: string;
  template: string;
  params: Record<string, string | number>;
}

export type SmsSendResult =
  | { outcome: 'SENT'; providerMessageId: string | null }
  /** A transient failure (5xx, 408, 429, network, timeout): try again later. */
  | { outcome: 'RETRY'; error: string; retryAfterMs: number | null }
  /** The provider refused the message for good (other 4xx). */
  | { outcome: 'REJECTED'; error: string };

export interface SmsProvider {
  readonly name: string;
  send(message: SmsMessage): Promise<SmsSendResult>;
}

export interface HttpSmsProviderOptions {
  url: string;
  apiKey: string;
  /** Header the key travels in (default x-api-key). */
  apiKeyHeader?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const RETRYABLE_STATUS = new Set([408, 425, 429]);

function retryAfterMs(header: string | null): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 86_400) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.min(at - Date.now(), 86_400_000));
}

/**
 * The real adapter: POST {messageId, recipient: {personId}, template, params} as JSON to the gateway,
 * with the API key header and `Idempotency-Key: <message id>`. 2xx is delivered; 5xx, 408, 425, 429,
 * network errors and timeouts are retried; other statuses are refused for good. Response bodies are
 * never logged or stored (a gateway might echo a phone number); only the status and an optional
 * `messageId` are read.
 */
export class HttpSmsProvider implements SmsProvider {
  readonly name = 'http';
  private readonly fetch: typeof fetch;

  constructor(private readonly o: HttpSmsProviderOptions) {
    this.fetch = o.fetch ?? globalThis.fetch;
  }

  async send(message: SmsMessage): Promise<SmsSendResult> {
    let res: Response;
    try {
      res = await this.fetch(this.o.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          [this.o.apiKeyHeader ?? 'x-api-key']: this.o.apiKey,
          'idempotency-key': message.id,
        },
        body: JSON.stringify({
          messageId: message.id,
          recipient: { personId: message.personId },
          template: message.template,
          params: message.params,
        }),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 5_000),
        redirect: 'error',
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const kind = e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.name ?? 'network error');
      return { outcome: 'RETRY', error: `network: ${kind}`, retryAfterMs: null };
    }
    if (res.ok) {
      let providerMessageId: string | null = null;
      try {
        const body = (await res.json()) as { messageId?: unknown };
        if (typeof body?.messageId === 'string' && body.messageId.length <= 200)
          providerMessageId = body.messageId;
      } catch {
        // A 2xx without a JSON body is still a delivery.
      }
      return { outcome: 'SENT', providerMessageId };
    }
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 500 || RETRYABLE_STATUS.has(res.status))
      return {
        outcome: 'RETRY',
        error: `HTTP ${res.status}`,
        retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
      };
    return { outcome: 'REJECTED', error: `HTTP ${res.status}` };
  }
}
