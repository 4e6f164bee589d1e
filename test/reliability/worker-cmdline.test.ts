// The maintenance worker's storage options (with S3 storage they hold access keys) must not be on its
// command line: every local user can read /proc/<pid>/cmdline (review-sec F2).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MaintenanceWorker } from '../../lambdas/maintenance/worker-client';

test('storage options reach the worker without appearing in its command line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 's3v-worker-cmdline-'));
  const secret = 'not-on-the-command-line-0123456789';
  const worker = new MaintenanceWorker({ uri: join(dir, 'vectors'), storageOptions: { aws_secret_access_key: secret } });
  try {
    // Starting it is what the first job does; the worker answers once it has read its options.
    await (worker as unknown as { start(): Promise<unknown> }).start();
    const cmdline = readFileSync(`/proc/${worker.pid}/cmdline`, 'utf8');
    expect(cmdline).toContain('worker');
    expect(cmdline).not.toContain(secret);
  } finally {
    await worker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
