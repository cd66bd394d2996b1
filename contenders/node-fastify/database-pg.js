'use strict';
// PostgreSQL through postgres.js (the driver TechEmpower's nodejs, Express and
// Fastify entries use), one pool of at most BAKEOFF_DB_POOL_SIZE connections
// per worker process. Used only when BAKEOFF_DATABASE_URL is set.

const postgres = require('postgres');

// PostgreSQL folds the unquoted column name to lower case; the contract's JSON
// key is randomNumber.
function open(url, poolSize) {
  // Connections open on first use, up to max; statements are prepared once per
  // connection (postgres.js's default, prepare: true).
  const sql = postgres(url, { max: poolSize });

  const world = async (id) => {
    const rows = await sql`SELECT id, randomnumber AS "randomNumber" FROM world WHERE id = ${id}`;
    if (rows.length === 0) throw new Error(`world row ${id} is missing`);
    return rows[0];
  };

  return {
    world,
    // Independent reads go out together: the pool spreads them over its
    // connections and postgres.js pipelines the rest.
    worlds: (ids) => Promise.all(ids.map(world)),
    fortunes: async () => [...(await sql`SELECT id, message FROM fortune`)],
    // One statement for the whole batch, rows in id order so that concurrent
    // requests lock them in the same order and cannot deadlock.
    updateWorlds: async (worlds) => {
      const rows = worlds.map((w) => [w.id, w.randomNumber]).sort((a, b) => a[0] - b[0]);
      await sql`UPDATE world SET randomnumber = v.r::int
        FROM (VALUES ${sql(rows)}) AS v (id, r)
        WHERE world.id = v.id::int`;
    },
    close: () => sql.end({ timeout: 1 }),
  };
}

// n distinct random ids in 1..10000: each returned row of /updates is then
// exactly the row persisted (one UPDATE cannot set a row twice).
function distinctIds(n) {
  const ids = new Set();
  while (ids.size < n) ids.add(1 + Math.floor(Math.random() * 10000));
  return [...ids];
}

module.exports = { open, distinctIds };
