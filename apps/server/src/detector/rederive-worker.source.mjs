// The re-derive worker run from the TypeScript sources (tests, bench, eval under tsx): a worker
// thread does not get the parent's `--import tsx` hooks for its entry file, so this registers
// tsx's loader in the thread and then imports the worker. The built server runs the bundled
// worker instead (apps/server/dist/detector-rederive-worker.mjs, scripts/build-server.mjs).
import { register } from 'tsx/esm/api';

register();
await import('./rederive-worker.ts');
