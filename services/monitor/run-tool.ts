import { type ChildProcess, execFile } from 'node:child_process';
import { fail, ok, type Result } from '../../machines/result.js';
import type { ReadFailure } from './gpu-reading.js';

const MAX_OUTPUT_BYTES = 1024 * 1024;

/** The tool's standard output, or why there is none. */
export type ToolResult = Result<string, ReadFailure>;

/** Runs a GPU tool once, killed when it outlives `timeoutMs` or `signal` aborts; never rejects. */
export function runTool(binary: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<ToolResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: ToolResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', abandon);
      resolve(result);
    };
    const child = execFile(
      binary,
      args,
      { encoding: 'utf8', maxBuffer: MAX_OUTPUT_BYTES, windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) return finish(ok(stdout));
        if (error.code === 'ENOENT') return finish(fail({ kind: 'missing' }));
        const detail = `${stderr}\n${stdout}`.trim() || error.message;
        finish(fail({ kind: 'failed', message: detail.slice(0, 500) }));
      },
    );
    const abandon = (): void => {
      killTool(child);
      finish(fail({ kind: 'timeout' }));
    };
    const timer = setTimeout(abandon, timeoutMs);
    if (signal?.aborted) abandon();
    else signal?.addEventListener('abort', abandon, { once: true });
  });
}

/** Kills a tool and lets go of its output: a grandchild holding stdout open would otherwise keep it alive. */
export function killTool(child: ChildProcess): void {
  child.kill('SIGKILL');
  child.stdout?.destroy();
  child.stderr?.destroy();
}
