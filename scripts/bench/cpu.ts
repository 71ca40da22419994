/**
 * CPU accounting per component during a bench phase, read from /proc (user + system time of each process
 * tree). On a machine where every tier shares two cores, throughput is bounded by the CPU one request
 * costs across all of them; this says which tier spends it.
 */
import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ on Linux

/** user + system CPU seconds of one process (0 if it is gone). */
export function processCpuS(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
      if (list) out.push(...list.split(/\s+/).map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

function treeCpuS(pid: number): number {
  let total = processCpuS(pid);
  for (const c of children(pid)) total += treeCpuS(c);
  return total;
}

/** Processes whose command line matches, e.g. every `postgres` backend or the Kafka JVM. */
function pidsMatching(test: (cmdline: string, comm: string) => boolean): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (test(cmdline, comm)) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

export interface Component {
  name: string;
  /** CPU seconds so far, by process id (a process that starts later counts from zero). */
  cpuS(): Map<number, number>;
}

/** The platform's processes plus the shared infrastructure and the load generator itself. */
export function components(processes: { name: string; pid: number }[]): Component[] {
  const infra = (name: string, test: (cmdline: string, comm: string) => boolean): Component => ({
    name,
    // Re-listed on every reading: PostgreSQL forks a backend per connection.
    cpuS: () => new Map(pidsMatching(test).map((p) => [p, processCpuS(p)])),
  });
  return [
    ...processes.map((p) => ({ name: p.name, cpuS: () => new Map([[p.pid, treeCpuS(p.pid)]]) })),
    infra('postgresql', (_c, comm) => comm === 'postgres' || comm.startsWith('postgres:')),
    infra('redis', (_c, comm) => comm.startsWith('redis-server')),
    infra('kafka', (cmdline) => cmdline.includes('kafka.Kafka')),
    {
      name: 'load generator',
      cpuS: () => {
        const u = process.cpuUsage();
        return new Map([[process.pid, (u.user + u.system) / 1e6]]);
      },
    },
  ];
}

export interface CpuReading {
  /** CPU milliseconds per completed operation, by component (components that used < 0.05 ms left out). */
  msPerOp: Record<string, number>;
  /** All components together: on a saturated machine, cores × 1000 / total ≈ the ceiling in ops/s. */
  totalMsPerOp: number;
  /** Average cores busy during the window. */
  coresBusy: number;
}

/** Starts a reading; `stop(ops)` divides each component's CPU by the operations completed meanwhile. */
export function cpuMeter(list: Component[]): { stop(ops: number): CpuReading } {
  const started = performance.now();
  const before = list.map((c) => c.cpuS());
  return {
    stop(ops: number): CpuReading {
      const seconds = (performance.now() - started) / 1000;
      // Per process, so a backend that exits in the window does not make the sum go backwards.
      const used = list.map((c, i) => {
        let s = 0;
        for (const [pid, now] of c.cpuS()) s += Math.max(0, now - (before[i]!.get(pid) ?? 0));
        return s;
      });
      const msPerOp: Record<string, number> = {};
      const per = (s: number) => (ops > 0 ? (s * 1000) / ops : 0);
      list.forEach((c, i) => {
        const ms = per(used[i]!);
        if (ms >= 0.05) msPerOp[c.name] = Math.round(ms * 100) / 100;
      });
      const total = used.reduce((a, b) => a + b, 0);
      return {
        msPerOp,
        totalMsPerOp: Math.round(per(total) * 100) / 100,
        coresBusy: Math.round((total / Math.max(seconds, 0.001)) * 100) / 100,
      };
    },
  };
}
