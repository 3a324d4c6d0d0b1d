/** Opens a DuckDB file for one of the embedded stores, with an error that says what to do. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/**
 * `what` names the store in the error, e.g. "metrics store". `path` may be ':memory:'.
 * `options`: DuckDB settings at open (e.g. `memory_limit`).
 */
export async function openDuckDbFile(path: string, what: string, options?: Record<string, string>): Promise<DuckDBInstance> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  try {
    return await DuckDBInstance.create(path, options);
  } catch (err) {
    throw new Error(
      `cannot open the embedded ${what} at ${path}: ${(err as Error).message}` + ' (is another EdgeWorker Monitor using this DATA_DIR?)',
      { cause: err },
    );
  }
}
