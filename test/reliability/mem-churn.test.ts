// Issue 10 item 9: index churn grew the server without bound. LanceDB keeps the manifests and file
// metadata of every table it opened in its session's metadata cache, dropped tables included, and
// the session meant to bound it was passed where lancedb.connect ignores it. The real server
// (bin/server.ts in a child process) is churned through the SDK; its S3V_MEM_LOG_MS line reports
// what the LanceDB caches hold. RSS itself swings by tens of MB with V8's heap on this shared
// machine, too much for a 60 s test to see the ~30 KB per dropped table: bench/mem-churn.ts plots it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { churn, churnClient, rssMb, startChurnServer, type ChurnServer } from '../../bench/mem-churn';
import { DEFAULT_METADATA_CACHE_MB, lanceCacheSettings } from '../../lambdas/adapters/lance/cache-session';

jest.setTimeout(240_000);

const MiB = 1048576;

function lastCacheMb(server: ChurnServer): number | undefined {
  const lines = server.output().split('\n').filter((l) => l.includes('"lanceCache"'));
  return lines.length ? (JSON.parse(lines[lines.length - 1]).mem.lanceCache as number) : undefined;
}

/** The cache size from a log line written after now. */
async function cacheMbNow(server: ChurnServer): Promise<number> {
  const seen = server.output().split('\n').length;
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const fresh = server.output().split('\n').slice(seen - 1).filter((l) => l.includes('"lanceCache"'));
    if (fresh.length) return lastCacheMb(server)!;
  }
  throw new Error(`no memory line: ${server.output().slice(-2000)}`);
}

describe('memory under index churn', () => {
  let dataDir: string;
  let server: ChurnServer;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 's3v-mem-test-'));
    server = await startChurnServer(dataDir, {
      S3V_MAINT: 'off',
      S3V_LOG_LEVEL: 'info',
      S3V_MEM_LOG_MS: '200',
      S3V_LANCE_METADATA_CACHE_MB: '1',
      S3V_LANCE_INDEX_CACHE_MB: '1',
    });
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the LanceDB caches within their configured bound while indexes are created and dropped', async () => {
    const client = churnClient(server.url);
    const pid = server.child.pid!;
    try {
      // ~30 KB of metadata per dropped table: 160 cycles fill ~5 MB without the bound.
      await churn(client, 80);
      const half = await cacheMbNow(server);
      const rssHalf = rssMb(pid);
      await churn(client, 80, { start: 80 });
      const end = await cacheMbNow(server);
      console.log(`LanceDB caches ${half} MB after 80 cycles, ${end} MB after 160; RSS ${rssHalf} → ${rssMb(pid)} MB`);
      // The session is the one the store's connection uses (a session Lance ignores stays empty)...
      expect(end).toBeGreaterThan(0.2);
      // ...and it stops at its bound (1 MiB metadata + 1 MiB index) instead of growing with the churn.
      expect(end).toBeLessThanOrEqual(2.2);
    } finally {
      client.destroy();
    }
  });
});

describe('cache settings', () => {
  it('bounds the metadata cache by default and takes S3V_LANCE_*_CACHE_MB', () => {
    expect(lanceCacheSettings({})).toEqual({ indexCacheMb: undefined, metadataCacheMb: DEFAULT_METADATA_CACHE_MB });
    expect(lanceCacheSettings({ S3V_LANCE_INDEX_CACHE_MB: '512', S3V_LANCE_METADATA_CACHE_MB: '16' })).toEqual({ indexCacheMb: 512, metadataCacheMb: 16 });
    expect(DEFAULT_METADATA_CACHE_MB * MiB).toBeLessThan(1024 * MiB);
  });

  it('refuses a bad setting at start with exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 's3v-mem-bad-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'bin', 'server.ts'), '--port', '0', '--data-dir', dir], {
        env: { ...process.env, S3V_LANCE_METADATA_CACHE_MB: 'lots', S3V_AUTH: 'off' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(code).toBe(2);
      expect(err).toContain("S3V_LANCE_METADATA_CACHE_MB must be a positive number of MiB, not 'lots'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
