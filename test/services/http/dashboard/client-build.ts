import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_ENTRY, defaultClientDir } from '../../../../services/http/dashboard/client-assets.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Compiles the dashboard's browser code when `npm run build` has not yet; returns where it lives. */
export function ensureDashboardClientBuilt(): string {
  const dir = defaultClientDir();
  if (!existsSync(join(dir, CLIENT_ENTRY))) {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'dashboard')], {
      cwd: ROOT,
      stdio: 'pipe',
    });
  }
  return dir;
}
