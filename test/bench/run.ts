import os from 'node:os';
import { agent } from './agent.js';
import { detection } from './detection.js';
import { etcd } from './etcd.js';
import { failover } from './failover.js';
import { ingest } from './ingest.js';
import { paint } from './paint.js';
import { proxy } from './proxy.js';
import { restart } from './restart.js';
import { scale } from './scale.js';
import { stress } from './stress.js';
import { killEverything } from './support/children.js';
import type { Verdict } from './support/report.js';

/**
 * `npm run bench [-- name…]`: runs the named benchmarks (all by default) one after another on loopback, prints each
 * one's tables and verdict, then a summary. Exit 1 when a benchmark could not run; a missed target is a verdict.
 */

type BenchName =
  | 'ingest'
  | 'restart'
  | 'scale'
  | 'stress'
  | 'agent'
  | 'detection'
  | 'proxy'
  | 'paint'
  | 'etcd'
  | 'failover';
const BENCHES: Record<BenchName, () => Promise<Verdict>> = {
  ingest,
  restart,
  scale,
  stress,
  agent,
  detection,
  proxy,
  paint,
  etcd,
  failover,
};
/** The order of a full run: the short ones first. */
const ALL: readonly BenchName[] = [
  'ingest',
  'restart',
  'proxy',
  'paint',
  'etcd',
  'failover',
  'scale',
  'stress',
  'agent',
  'detection',
];

function isBenchName(name: string): name is BenchName {
  return Object.hasOwn(BENCHES, name);
}

async function main(): Promise<number> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((name) => !isBenchName(name));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; choose from ${ALL.join(', ')}\n`);
    return 2;
  }
  const names = asked.length > 0 ? asked.filter(isBenchName) : ALL;
  process.stdout.write(`${machine()}\n`);

  const verdicts: Verdict[] = [];
  const failures: string[] = [];
  for (const name of names) {
    process.stdout.write(`\n## ${name}\n`);
    try {
      verdicts.push(await BENCHES[name]());
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push(name);
      process.stdout.write(`\n${name} FAILED: ${message}\n`);
    }
  }

  process.stdout.write('\n## summary\n\n');
  for (const verdict of verdicts)
    process.stdout.write(`${verdict.bench}: ${verdict.pass ? 'PASS' : 'MISS'}: ${verdict.text}\n`);
  for (const name of failures) process.stdout.write(`${name}: FAILED to run\n`);
  return failures.length > 0 ? 1 : 0;
}

/** The machine the figures belong to. */
function machine(): string {
  const cpus = os.cpus();
  return [
    `machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 1024 ** 3)} GB RAM`,
    `node ${process.version}, ${os.type()} ${os.release()}, ${new Date().toISOString()}`,
  ].join('\n');
}

process.on('exit', killEverything);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killEverything();
    process.exit(130);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    killEverything();
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
