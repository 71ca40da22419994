import { Supergraph } from '@apollo/federation-internals';
import type { SupergraphSdlHook } from '@apollo/gateway';
import type { Logger } from '@vtv/kit';
import { Kind, parse, print, visit } from 'graphql';
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { GatewayMetrics } from './metrics';

const ENFORCED_HERE = /^https:\/\/specs\.apollo\.dev\/(authenticated|requiresScopes|policy)\/v/;

/**
 * ApolloGateway refuses a supergraph linking a `for: SECURITY` feature it does not enforce itself
 * (the authorization directives): a safe default for a gateway that would silently ignore them. This
 * gateway enforces them (kit/authz.ts, against this very SDL), so it drops `for: SECURITY` from those
 * three links only; any other security feature still stops the load.
 */
export function forGateway(sdl: string): string {
  if (!/for: SECURITY/.test(sdl)) return sdl;
  let changed = false;
  const doc = visit(parse(sdl), {
    Directive(d) {
      if (d.name.value !== 'link') return undefined;
      const url = d.arguments?.find((a) => a.name.value === 'url')?.value;
      if (url?.kind !== Kind.STRING || !ENFORCED_HERE.test(url.value)) return undefined;
      changed = true;
      return { ...d, arguments: d.arguments?.filter((a) => a.name.value !== 'for') };
    },
  });
  return changed ? print(doc) : sdl;
}

/**
 * The supergraph from a file, reloaded when the file changes: the new version is validated first and
 * applied only when valid, so a bad write leaves the gateway on its last good supergraph. The
 * directory is watched (editors and `npm run compose` replace the file rather than write into it).
 */
export class SupergraphFile {
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private current = '';
  private update?: (sdl: string) => void;
  /** Resolves after each reload attempt; tests await it. */
  private waiters: ((result: 'applied' | 'rejected' | 'unchanged') => void)[] = [];

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
    private readonly watchFile: boolean,
    private readonly debounceMs = 100,
  ) {}

  get sdl(): string {
    return this.current;
  }

  /** Throws when the SDL is not a valid supergraph. */
  static validate(sdl: string): void {
    Supergraph.build(forGateway(sdl), { validateSupergraph: true });
  }

  /** The ApolloGateway `supergraphSdl` hook: first load (must succeed) and the update channel. */
  readonly hook: SupergraphSdlHook = async ({ update }) => {
    const sdl = readFileSync(this.path, 'utf8');
    SupergraphFile.validate(sdl);
    this.current = sdl;
    this.update = update;
    if (this.watchFile) this.startWatching();
    return { supergraphSdl: forGateway(sdl), cleanup: async () => this.close() };
  };

  private startWatching(): void {
    const file = basename(this.path);
    this.watcher = watch(dirname(resolve(this.path)), (_event, name) => {
      if (name && name.toString() !== file) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), this.debounceMs);
    });
    this.watcher.on('error', (err) => this.logger.warn({ err }, 'supergraph watch failed'));
  }

  /** Reads the file again and applies it when valid and changed. */
  reload(): 'applied' | 'rejected' | 'unchanged' {
    let result: 'applied' | 'rejected' | 'unchanged';
    try {
      const sdl = readFileSync(this.path, 'utf8');
      if (sdl === this.current) result = 'unchanged';
      else {
        SupergraphFile.validate(sdl);
        this.update?.(forGateway(sdl));
        this.current = sdl;
        result = 'applied';
        this.logger.info({ path: this.path }, 'supergraph reloaded');
      }
    } catch (err) {
      result = 'rejected';
      this.logger.error({ err, path: this.path }, 'supergraph reload rejected; keeping the last good one');
    }
    if (result !== 'unchanged') this.metrics.supergraphReloads.inc({ result });
    for (const w of this.waiters.splice(0)) w(result);
    return result;
  }

  /** Resolves with the outcome of the next reload attempt. */
  nextReload(): Promise<'applied' | 'rejected' | 'unchanged'> {
    return new Promise((r) => this.waiters.push(r));
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
