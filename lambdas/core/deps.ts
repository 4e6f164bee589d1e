// What every use case receives: configuration, the two storage ports and the cursor store.
import type { ServiceConfig } from './config';
import type { Cursors } from './pagination/cursors';
import type { CatalogPort, VectorStorePort } from './ports';

export interface Deps {
  config: ServiceConfig;
  catalog: CatalogPort;
  store: VectorStorePort;
  cursors: Cursors;
  /** Epoch seconds; injectable so tests can move time. */
  now(): number;
}
