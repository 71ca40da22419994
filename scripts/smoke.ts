/**
 * `npm run smoke [gateway-url]`: the voucher lifecycle (scripts/lib/lifecycle.ts, the same steps as
 * test/lifecycle.e2e.spec.ts) against a running stack — `npm start` by default. One progress line per
 * step; a failure names the step and exits 1.
 */
import { runLifecycle } from './lib/lifecycle';
import { DEMO_ADMIN } from './demo/seed';

const url = process.argv[2] ?? process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';
const started = Date.now();
console.log(`smoke: the voucher lifecycle against ${url}`);
runLifecycle(
  {
    gatewayUrl: url,
    adminIdNumber: process.env.SMOKE_ADMIN_ID_NUMBER ?? DEMO_ADMIN.idNumber,
    adminPin: process.env.SMOKE_ADMIN_PIN ?? DEMO_ADMIN.pin,
    sessionSeconds: Number(process.env.SMOKE_SESSION_SECONDS ?? 15),
  },
  (line) => console.log(line),
).then(
  () => console.log(`smoke: passed in ${((Date.now() - started) / 1000).toFixed(1)} s`),
  (err: unknown) => {
    console.error(`smoke: FAILED — ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
