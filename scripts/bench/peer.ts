/**
 * Starts the peer gateway (Hive Gateway) as its own process. Its packages are not root dependencies:
 * they live in scripts/bench/peer (own package.json and lock file, installed here on first use with
 * `npm ci --ignore-scripts`), because the registry this repository resolves against lacks a version
 * Hive Gateway asks for (@graphql-tools/batch-execute ^10.3.2; the lock pins 10.2.0 by an override)
 * and because its ~750 packages would otherwise join the platform's dependency tree.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnTs } from '@vtv/testing';
import { ROOT, SECRET, freePort, waitReady, type Platform, type Proc } from './platform';

const PEER = join(__dirname, 'peer');

export async function startPeerGateway(platform: Platform, env: Record<string, string> = {}): Promise<Proc> {
  if (!existsSync(join(PEER, 'node_modules', '@graphql-hive', 'gateway-runtime'))) {
    const r = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: PEER,
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (r.status !== 0)
      throw new Error(`npm ci in scripts/bench/peer failed: ${(r.stderr || r.stdout).slice(-400)}`);
  }
  const port = await freePort();
  const proc = spawnTs(join(PEER, 'server.ts'), {
    PORT: String(port),
    INTERNAL_AUTH_SECRET: SECRET,
    SUPERGRAPH_PATH: join(ROOT, 'schema', 'supergraph.graphql'),
    JWKS_URL: new URL('/.well-known/jwks.json', platform.services.identity!.url).toString(),
    ...Object.fromEntries(
      Object.values(platform.services).map((s) => [`${s.name.toUpperCase()}_URL`, s.url]),
    ),
    NODE_ENV: 'production',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, 60_000);
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`${(err as Error).message}: ${proc.output().slice(-400)}`);
  }
  return { name: 'hive-gateway', url: `${url}/graphql`, proc };
}
