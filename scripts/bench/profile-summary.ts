/**
 * `npx tsx scripts/bench/profile-summary.ts [dir]`: the hottest functions (self time) and packages of each
 * .cpuprofile written by `npm run bench -- --profile` (default dir .bench/profiles).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const dir = process.argv[2] ?? join(__dirname, '..', '..', '.bench', 'profiles');
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  if (total < 2e6) continue; // the tsx wrappers
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const url = n.callFrame.url.replace(/^file:\/\//, '');
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    const where = m ? m[1]! : url.includes('/work/') ? url.replace(/.*\/main\//, '') : url || '(native)';
    const key = `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const pk = m
      ? m[1]!
      : n.callFrame.functionName.startsWith('(')
        ? n.callFrame.functionName
        : where.split('/').slice(0, 2).join('/');
    pkg.set(pk, (pkg.get(pk) ?? 0) + us);
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, us]) => `  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${name}`)
      .join('\n');
  process.stdout.write(
    `\n== ${file}: ${(total / 1e6).toFixed(1)} s sampled\n-- packages\n${top(pkg, 15)}\n-- functions\n${top(fn, 25)}\n`,
  );
}
