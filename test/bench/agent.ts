import { createFakeNvidiaSmi } from '../fixtures/fake-nvidia-smi.js';
import { ChildGroup } from './support/children.js';
import { createHiveDirs, hiveArgs } from './support/hive-dirs.js';
import { HttpClient, sleep, waitFor } from './support/http.js';
import { type CpuTime, readRssBytes, readTreeCpuTime } from './support/proc.js';
import { scrape } from './support/prometheus.js';
import { readHealth, startBenchQueen } from './support/queen.js';
import { fixed, note, printTable, printVerdict, type Verdict } from './support/report.js';
import { MB } from './support/stats.js';

/**
 * Agent: a real hive.js heartbeating every second for 60 s, its monitor reading two GPUs (through a stand-in
 * `nvidia-smi` on PATH, queried once and then looping with `--loop-ms` like the real one); CPU time from /proc per
 * heartbeat the queen accepted, and RSS. Baseline, measured over the same window: an idle
 * `node -e "setInterval(()=>{},1000)"`. Target: < 20 ms CPU per heartbeat, children (the running nvidia-smi loop
 * and every exited child) included, and RSS < 100 MB.
 */

const WARMUP_MS = 3_000;
const WINDOW_S = 60;
const TARGET = { cpuMsPerBeat: 20, rssMb: 100 };
const HIVE_ID = 'bench-agent';
const NVIDIA_SMI_OUTPUT = [
  '0, NVIDIA GeForce RTX 3090, 18841, 24576, 67, 93, 8.6',
  '1, NVIDIA GeForce RTX 3090, 307, 24576, 41, 0, 8.6',
].join('\n');

interface Usage {
  cpu: CpuTime;
  rssEnd: number;
  rssMax: number;
}

export async function agent(): Promise<Verdict> {
  const group = new ChildGroup();
  const nvidiaSmi = await createFakeNvidiaSmi();
  const dirs = await createHiveDirs();
  try {
    await nvidiaSmi.answer(NVIDIA_SMI_OUTPUT);
    const queen = await startBenchQueen(group, ['--heartbeat-interval', '1s', '--suspect-after', '3s']);
    const client = new HttpClient(queen.url, 1);
    try {
      const hive = await group.role('hive', hiveArgs(dirs, queen.url, HIVE_ID), {
        ...process.env,
        PATH: `${nvidiaSmi.dir}:${process.env.PATH ?? ''}`,
      });
      const idle = group.command(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
      await waitFor('the hive online at the queen', 15_000, async () =>
        (await readHealth(client)).hives.online === 1 ? true : undefined,
      );
      await sleep(WARMUP_MS);

      note(`agent: measuring hive.js and an idle node for ${WINDOW_S} s`);
      const beats = async (): Promise<number> =>
        (await scrape(client)).value('apiary_heartbeats_received_total', { kind: 'hive', result: 'accepted' }) ?? 0;
      const beatsBefore = await beats();
      const cpuBefore = { hive: readTreeCpuTime(hive.pid), idle: readTreeCpuTime(idle.pid) };
      const rssMax = { hive: 0, idle: 0 };
      const windowStart = performance.now();
      for (let second = 0; second < WINDOW_S; second++) {
        await sleep(windowStart + (second + 1) * 1_000 - performance.now());
        rssMax.hive = Math.max(rssMax.hive, readRssBytes(hive.pid));
        rssMax.idle = Math.max(rssMax.idle, readRssBytes(idle.pid));
      }
      const seconds = (performance.now() - windowStart) / 1000;
      const usage = (pid: number, before: CpuTime, max: number): Usage => {
        const now = readTreeCpuTime(pid);
        return {
          cpu: { selfMs: now.selfMs - before.selfMs, childrenMs: now.childrenMs - before.childrenMs },
          rssEnd: readRssBytes(pid),
          rssMax: max,
        };
      };
      const hiveUsage = usage(hive.pid, cpuBefore.hive, rssMax.hive);
      const idleUsage = usage(idle.pid, cpuBefore.idle, rssMax.idle);
      const heartbeats = (await beats()) - beatsBefore;
      const nvidiaRuns = (await nvidiaSmi.calls()).length;
      if (heartbeats === 0) throw new Error('the queen accepted no heartbeat from the hive');

      const total = (use: Usage): number => use.cpu.selfMs + use.cpu.childrenMs;
      const perBeat = total(hiveUsage) / heartbeats;
      const idlePerSecond = total(idleUsage) / seconds;
      printTable(
        `Agent: ${fixed(seconds, 0)} s window, hive heartbeat interval 1 s, monitor reading 2 GPUs ` +
          `(stand-in nvidia-smi, ${nvidiaRuns} started in all); CPU from /proc/<pid>/stat (utime+stime; ` +
          'children = cutime+cstime plus the CPU of descendants still running)',
        [
          'process',
          'heartbeats',
          'CPU own ms',
          'CPU children ms',
          'CPU ms / heartbeat',
          'CPU ms / s',
          'RSS end MB',
          'RSS max MB',
        ],
        [
          [
            'hive.js',
            String(heartbeats),
            fixed(hiveUsage.cpu.selfMs, 0),
            fixed(hiveUsage.cpu.childrenMs, 0),
            fixed(perBeat, 2),
            fixed(total(hiveUsage) / seconds, 2),
            fixed(hiveUsage.rssEnd / MB),
            fixed(hiveUsage.rssMax / MB),
          ],
          [
            'idle node (baseline)',
            '—',
            fixed(idleUsage.cpu.selfMs, 0),
            fixed(idleUsage.cpu.childrenMs, 0),
            '—',
            fixed(idlePerSecond, 2),
            fixed(idleUsage.rssEnd / MB),
            fixed(idleUsage.rssMax / MB),
          ],
        ],
      );
      process.stdout.write(
        `\nhive above idle: ${fixed(perBeat - idlePerSecond * (seconds / heartbeats), 2)} ms CPU per heartbeat, ` +
          `${fixed((hiveUsage.rssMax - idleUsage.rssMax) / MB)} MB RSS\n`,
      );
      const pass = perBeat < TARGET.cpuMsPerBeat && hiveUsage.rssMax / MB < TARGET.rssMb;
      return printVerdict({
        bench: 'agent',
        pass,
        text:
          `${fixed(perBeat, 2)} ms CPU per heartbeat (target < ${TARGET.cpuMsPerBeat}), ` +
          `RSS max ${fixed(hiveUsage.rssMax / MB)} MB (target < ${TARGET.rssMb})`,
      });
    } finally {
      client.close();
    }
  } finally {
    await group.killAll();
    await nvidiaSmi.remove();
    await dirs.remove();
  }
}
