/**
 * kafkajs 2.2.4 keeps a 1 ms timer spinning on every broker connection it has used: after each response
 * its request queue schedules a check of pending requests even when nothing is pending and no throttle
 * is in force. `throttledUntil` starts at -1, so the delay is about -Date.now(), which Node clamps to
 * 1 ms (and reports as a TimeoutNegativeWarning); the check then schedules itself again, forever.
 * Measured on the 2-core dev machine: one idle producer and admin spent 32–41 ms of CPU per second
 * (3–4 % of a core, in every service process), 2.6 ms with this guard. Upstream: tulios/kafkajs#1704
 * and #1751, open when this was written.
 *
 * The guard skips scheduling only when there is nothing to check: no pending request and no throttle
 * still running. A request queued later schedules its own check (kafkajs does so when it queues), and
 * a throttled queue keeps its original schedule.
 */
interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

const PATCHED = Symbol.for('vtv.kafkajs.idleTimerGuard');

function install(): boolean {
  let RequestQueue: { prototype: RequestQueueInternals & { [PATCHED]?: true } };
  try {
    // kafkajs has no exports map, so its internal module is reachable; a moved file means a new
    // version, which the test in packages/events/test/kafkajs-idle-timer.int.spec.ts would notice.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    RequestQueue = require('kafkajs/src/network/requestQueue');
  } catch {
    return false;
  }
  const proto = RequestQueue.prototype;
  if (proto[PATCHED]) return true;
  const original = proto.scheduleCheckPendingRequests;
  if (typeof original !== 'function') return false;
  proto.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    original.call(this);
  };
  proto[PATCHED] = true;
  return true;
}

/** Whether the guard is in place (false: kafkajs changed shape; the spinning timer may be back). */
export const kafkajsIdleTimerGuarded = install();
