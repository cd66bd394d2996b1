'use strict';
// Reads and validates the bakeoff app-contract environment once, so a bad
// value fails at start-up with a message naming the variable.

function required(name) {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`environment variable ${name} is not set (bakeoff sets it; set it yourself to run the app by hand)`);
  }
  return value;
}

function positiveInt(name, value, max) {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new Error(`${name}=${JSON.stringify(value)} is not an integer between 1 and ${max}`);
  }
  return Number(value);
}

function load() {
  const upstream = required('BAKEOFF_UPSTREAM').replace(/\/+$/, '');
  if (!URL.canParse(upstream) || new URL(upstream).protocol !== 'http:') {
    throw new Error(`BAKEOFF_UPSTREAM=${JSON.stringify(upstream)} is not an http:// URL`);
  }
  const databaseUrl = process.env.BAKEOFF_DATABASE_URL || null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('BAKEOFF_DATABASE_URL is not a postgres:// URL (unset it to serve the database endpoints from SQLite)');
  }
  return {
    port: positiveInt('PORT', required('PORT'), 65535),
    workers: positiveInt('BAKEOFF_WORKERS', process.env.BAKEOFF_WORKERS || '1', 1024),
    sqlitePath: required('BAKEOFF_SQLITE'),
    // Set for PostgreSQL runs: the database endpoints then use it instead of SQLite.
    databaseUrl,
    // The pool's max connections, per worker process; 10 when bakeoff does not say.
    dbPoolSize:
      databaseUrl === null ? null : positiveInt('BAKEOFF_DB_POOL_SIZE', process.env.BAKEOFF_DB_POOL_SIZE || '10', 1024),
    // Set only for launches that serve /data: without it the CSV is never parsed.
    dataPath: process.env.BAKEOFF_DATA || null,
    upstream, // base URL without a trailing slash
  };
}

module.exports = { load };
