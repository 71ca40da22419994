/**
 * The peer gateway: Hive Gateway's runtime (MIT) over the same supergraph file, with the subgraph URLs
 * of the benchmarked platform. Like our gateway, it verifies the bearer token against identity's JWKS
 * and forwards the caller to every subgraph as the signed `x-vtv-caller` header. Nothing else of ours
 * (trusted operations, limits, rate limits, authorization directives) is added: it is Hive's own path.
 *
 * Run by scripts/bench with tsx; its packages live in scripts/bench/peer/node_modules (installed on demand).
 */
import { ANONYMOUS, TokenVerifier, signCaller, type Caller } from '@vtv/kit';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

interface Runtime {
  createGatewayRuntime(o: Record<string, unknown>): Parameters<typeof createServer>[1] & object;
}

async function main(): Promise<void> {
  const env = (name: string) => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is required`);
    return v;
  };
  const secret = env('INTERNAL_AUTH_SECRET');
  let sdl = readFileSync(env('SUPERGRAPH_PATH'), 'utf8');
  for (const name of ['identity', 'vouchers', 'training', 'settlement', 'careers'])
    sdl = sdl.replace(
      new RegExp(`(@join__graph\\(name: "${name}", url: ")[^"]+(")`),
      `$1${env(`${name.toUpperCase()}_URL`)}$2`,
    );
  const verifier = new TokenVerifier({ jwksUrl: env('JWKS_URL') });
  const callers = new WeakMap<object, Caller>();
  const spec = '@graphql-hive/gateway-runtime';
  const { createGatewayRuntime } = (await import(spec)) as Runtime;
  const gateway = createGatewayRuntime({
    supergraph: sdl,
    logging: 'error',
    landingPage: false,
    graphiql: false,
    // The signed caller goes out through Hive's header propagation, which runs before its in-flight
    // deduplication keys a subgraph fetch, so identical reads are shared only within one caller. (Adding
    // the header later, in an onFetch hook, made Hive share one person's `me` with everyone in flight.)
    propagateHeaders: {
      fromClientToSubgraphs: ({ request }: { request: object }) => ({
        'x-vtv-caller': signCaller(callers.get(request) ?? ANONYMOUS, secret),
      }),
    },
    plugins: () => [
      {
        async onRequest({
          request,
          endResponse,
          fetchAPI,
        }: {
          request: Request & { headers: Headers };
          endResponse(r: Response): void;
          fetchAPI: { Response: typeof Response };
        }) {
          const auth = request.headers.get('authorization');
          if (!auth) return;
          try {
            callers.set(request, await verifier.verify(auth.replace(/^Bearer /, '')));
          } catch {
            endResponse(
              new fetchAPI.Response(
                JSON.stringify({ errors: [{ message: 'Invalid or expired access token' }] }),
                {
                  status: 401,
                  headers: { 'content-type': 'application/json' },
                },
              ),
            );
          }
        },
      },
    ],
  });
  const port = Number(process.env.PORT ?? 4010);
  const server = createServer(gateway as never);
  // Readiness for the bench, like ours.
  server.prependListener('request', (req, res) => {
    if (req.url === '/readyz') {
      res.statusCode = 200;
      res.end('ok');
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  process.stdout.write(`peer gateway ready on ${port}\n`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => server.close(() => process.exit(0)));
}

main().catch((err) => {
  process.stderr.write(`peer gateway failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
