/** DDL of the embedded store. Column names follow the seed's line-protocol names. */
export const CREATE_TABLES = [
  // One row per point. A POP's city, country, tier and coordinates are its metadata
  // (pops_seen, newest wins), not repeated per row (write-path.ts drops them from older files).
  `CREATE TABLE IF NOT EXISTS cold_start_metrics (
     time_ns BIGINT NOT NULL,
     pop_code VARCHAR NOT NULL,
     function_name VARCHAR NOT NULL,
     cold_start_time_ms DOUBLE NOT NULL
   )`,
  // Small side tables so "which POPs/functions exist" never scans the samples.
  `CREATE TABLE IF NOT EXISTS pops_seen (
     pop_code VARCHAR PRIMARY KEY,
     city VARCHAR NOT NULL,
     country VARCHAR NOT NULL,
     tier VARCHAR NOT NULL,
     latitude DOUBLE NOT NULL,
     longitude DOUBLE NOT NULL,
     last_seen_ns BIGINT NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS functions_seen (function_name VARCHAR PRIMARY KEY)`,
];
