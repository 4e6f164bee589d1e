// startS3Vectors({ env }): the call's S3V_* settings reach every part of the server that reads
// them (the hot index, search planning), not only the service config (they used to fall back to
// process.env).
import { startS3Vectors, type S3VectorsServer } from '../../lambdas/embed';
import type { LanceVectorStore } from '../../lambdas/adapters/lance/lance-store';

jest.setTimeout(180_000);

const stores = async (env: Record<string, string>): Promise<{ server: S3VectorsServer; store: LanceVectorStore }> => {
  const server = await startS3Vectors({ env });
  return { server, store: server.service.deps.store as unknown as LanceVectorStore };
};

it('S3V_HOT_INDEX_MB=0 passed to startS3Vectors turns the hot index off, and a budget turns it on', async () => {
  const off = await stores({ S3V_HOT_INDEX_MB: '0' });
  const on = await stores({ S3V_HOT_INDEX_MB: '64' });
  try {
    expect(off.store.hotStats()).toBeUndefined();
    expect(on.store.hotStats()).toBeDefined();
  } finally {
    await off.server.stop();
    await on.server.stop();
  }
});

it('search settings passed to startS3Vectors reach the store', async () => {
  const { server, store } = await stores({ S3V_SEARCH_EF: '97' });
  try {
    expect((store as unknown as { search: { ef: number } }).search.ef).toBe(97);
  } finally {
    await server.stop();
  }
});
