/**
 * Named crash points for fault-injection tests. A process started with VTV_FAULT_POINTS=a,b kills
 * itself with SIGKILL (no cleanup, as a power cut or OOM kill would) when it reaches one of them.
 * Ignored in production, and free when the variable is unset.
 */
const points = new Set(
  process.env.NODE_ENV === 'production'
    ? []
    : (process.env.VTV_FAULT_POINTS ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
);

export const FaultPoint = {
  /** Outbox relay: rows claimed, not yet sent to the broker. */
  RELAY_BEFORE_PUBLISH: 'relay:before-publish',
  /** Outbox relay: the broker acknowledged, rows not yet marked published. */
  RELAY_AFTER_PUBLISH: 'relay:after-publish',
  /** Inside a business transaction, after its writes, before COMMIT. */
  BEFORE_COMMIT: 'tx:before-commit',
  /** After COMMIT, before the response is sent. */
  AFTER_COMMIT: 'tx:after-commit',
} as const;

export function faultArmed(name: string): boolean {
  return points.has(name);
}

export async function faultPoint(name: string): Promise<void> {
  if (!points.has(name)) return;
  process.kill(process.pid, 'SIGKILL');
  await new Promise(() => undefined); // Never continue past a crash point.
}
