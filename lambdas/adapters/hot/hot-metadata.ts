// returnMetadata on a hot answer: the delta's hits carry the metadata of their own write; the
// others' rows are read from LanceDB by key (their metadata is the snapshot's, as no write touched
// them since). A key LanceDB no longer has (deleted meanwhile) makes the caller ask LanceDB instead.
import type { Metadata, QueryHit, StoredVector } from '../../core/ports';
import type { HotHit } from './hot-index';

export async function withHotMetadata(hits: HotHit[], read: (keys: string[]) => Promise<StoredVector[]>): Promise<QueryHit[] | undefined> {
  const wanted = hits.filter((h) => !h.fromDelta).map((h) => h.key);
  const stored = new Map<string, Metadata | undefined>();
  if (wanted.length) for (const v of await read(wanted)) stored.set(v.key, v.metadata);
  const out: QueryHit[] = [];
  for (const hit of hits) {
    if (!hit.fromDelta && !stored.has(hit.key)) return undefined;
    const metadata = hit.fromDelta ? hit.fromDelta.metadata : stored.get(hit.key);
    out.push({ key: hit.key, distance: hit.distance, ...(metadata !== undefined ? { metadata } : {}) });
  }
  return out;
}
