// S3V_MEM_LOG_MS=<ms>: one log line of process.memoryUsage() and the LanceDB cache size every <ms>
// (memory investigations, bench/mem-churn.ts, test/reliability/mem-churn.test.ts). Off unless set.
import { lanceCacheBytes } from '../adapters/lance/cache-session';
import { logger } from '../runtime/logger';

export function startMemoryLog(env: NodeJS.ProcessEnv = process.env): void {
  const ms = Number(env.S3V_MEM_LOG_MS);
  if (!Number.isFinite(ms) || ms <= 0) return;
  const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
  // S3V_MEM_GC=1 with node --expose-gc: a full GC before each line, so the figures leave out garbage.
  const gc = env.S3V_MEM_GC === '1' ? (globalThis as { gc?: () => void }).gc : undefined;
  setInterval(() => {
    gc?.();
    const m = process.memoryUsage();
    const mem = { rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external), lanceCache: mb(lanceCacheBytes()) };
    logger.info({ mem }, 'memory (MB)');
  }, ms).unref();
}
