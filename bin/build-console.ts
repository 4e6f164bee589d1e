// `npm run build:console` (also before `npm start` and `npm test`): bundles the browser console.
import { BUNDLE_DIR, buildConsole } from '../lambdas/console/build';

const started = Date.now();
buildConsole().then(
  () => console.log(`console bundle in ${BUNDLE_DIR} (${Date.now() - started} ms)`),
  (error) => {
    console.error(`console build failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
