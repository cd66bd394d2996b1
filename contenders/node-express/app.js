'use strict';
// One worker's Express application: every contract endpoint as an Express
// route, SQLite through better-sqlite3 or, with BAKEOFF_DATABASE_URL, PostgreSQL
// through postgres.js, the fortunes page through Express's EJS view engine and
// /io through an undici connection pool.

const path = require('node:path');
const Database = require('better-sqlite3');
const express = require('express');
const { Pool } = require('undici');
const pgDatabase = require('./database-pg');
const sales = require('./sales');

const SERVER = 'express';
const IO_TIMEOUT_MS = 15000;

// TechEmpower's rule: not an integer means the default; out of range is clamped.
// Express gives an array for a repeated parameter: the first one counts.
function intParam(raw, fallback, min, max) {
  const text = Array.isArray(raw) ? raw[0] : raw;
  const value = typeof text === 'string' && /^\s*[+-]?\d+\s*$/.test(text) ? Number.parseInt(text, 10) : fallback;
  return Math.min(max, Math.max(min, value));
}

const randomId = () => 1 + Math.floor(Math.random() * 10000);

function countPrimes(n) {
  let count = 0;
  for (let i = 2; i <= n; i += 1) {
    let prime = true;
    for (let d = 2; d * d <= i; d += 1) {
      if (i % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count += 1;
  }
  return count;
}

// JS compares strings by UTF-16 code unit, which equals code-point order for
// the fortunes (all in the Basic Multilingual Plane).
const byMessage = (a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);

// The four database endpoints on SQLite: better-sqlite3, synchronous, one
// connection per worker process.
function sqliteRoutes(config, router) {
  const db = new Database(config.sqlitePath, { fileMustExist: true });
  // The contract's settings, set explicitly as in every contender (better-sqlite3
  // builds with NORMAL sync for WAL, Python's sqlite3 does not): workers write
  // concurrently in /updates.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const selectWorld = db.prepare('SELECT id, randomNumber FROM world WHERE id = ?');
  const selectFortunes = db.prepare('SELECT id, message FROM fortune');
  const updateWorld = db.prepare('UPDATE world SET randomNumber = ? WHERE id = ?');
  const updateWorlds = db.transaction((worlds) => {
    for (const w of worlds) updateWorld.run(w.randomNumber, w.id);
  });

  router.get('/db', (req, res) => {
    res.json(selectWorld.get(randomId()));
  });

  router.get('/queries', (req, res) => {
    const n = intParam(req.query.queries, 1, 1, 500);
    const worlds = [];
    for (let i = 0; i < n; i += 1) worlds.push(selectWorld.get(randomId()));
    res.json(worlds);
  });

  router.get('/fortunes', (req, res) => {
    const fortunes = selectFortunes.all();
    fortunes.push({ id: 0, message: 'Additional fortune added at request time.' });
    fortunes.sort(byMessage);
    res.render('fortunes', { fortunes });
  });

  router.get('/updates', (req, res) => {
    const n = intParam(req.query.queries, 1, 1, 500);
    // Distinct ids, as on PostgreSQL: each returned row is the row persisted.
    const worlds = pgDatabase.distinctIds(n).map((id) => {
      const world = selectWorld.get(id);
      world.randomNumber = randomId();
      return world;
    });
    updateWorlds.immediate(worlds);
    res.json(worlds);
  });

  return async () => db.close();
}

// The same endpoints on PostgreSQL (BAKEOFF_DATABASE_URL): async handlers (Express 5
// passes a rejected promise to the error handler) on this worker's postgres.js pool.
function postgresRoutes(config, router) {
  const pg = pgDatabase.open(config.databaseUrl, config.dbPoolSize);

  router.get('/db', async (req, res) => {
    res.json(await pg.world(randomId()));
  });

  router.get('/queries', async (req, res) => {
    const n = intParam(req.query.queries, 1, 1, 500);
    res.json(await pg.worlds(Array.from({ length: n }, randomId)));
  });

  router.get('/fortunes', async (req, res) => {
    const fortunes = await pg.fortunes();
    fortunes.push({ id: 0, message: 'Additional fortune added at request time.' });
    fortunes.sort(byMessage);
    res.render('fortunes', { fortunes });
  });

  router.get('/updates', async (req, res) => {
    const n = intParam(req.query.queries, 1, 1, 500);
    const worlds = await pg.worlds(pgDatabase.distinctIds(n));
    for (const world of worlds) world.randomNumber = randomId();
    await pg.updateWorlds(worlds);
    res.json(worlds);
  });

  return pg.close;
}

function createApp(config, isReady) {
  const dataset = config.dataPath ? sales.load(config.dataPath) : null;
  const upstreamUrl = new URL(config.upstream);
  const upstreamPrefix = upstreamUrl.pathname.replace(/\/+$/, '');
  const upstream = new Pool(upstreamUrl.origin);

  const app = express();
  // TechEmpower's Express trims (frameworks/JavaScript/express), both sane in
  // production: no X-Powered-By, and no ETag hashing of every response body.
  // EXPRESS_DEFAULTS=1 keeps Express's defaults (the node-express@defaults variant).
  if (!config.expressDefaults) {
    app.disable('x-powered-by');
    app.disable('etag');
  }
  app.set('views', path.join(__dirname, 'views'));
  app.set('view engine', 'ejs');
  app.enable('view cache');

  app.use((req, res, next) => {
    res.set('Server', SERVER);
    next();
  });

  app.get('/health', (req, res) => {
    res.status(isReady() ? 200 : 503).type('text/plain').send(isReady() ? 'ok' : 'starting');
  });

  app.get('/plaintext', (req, res) => {
    res.type('text/plain').send('Hello, World!');
  });

  app.get('/json', (req, res) => {
    res.json({ message: 'Hello, World!' });
  });

  const closeDatabase = (config.databaseUrl ? postgresRoutes : sqliteRoutes)(config, app);

  app.get('/io', async (req, res) => {
    const ms = intParam(req.query.ms, 0, 0, 10000);
    try {
      const { statusCode, body } = await upstream.request({
        method: 'GET',
        path: `${upstreamPrefix}/delay?ms=${ms}`,
        headersTimeout: IO_TIMEOUT_MS,
        bodyTimeout: IO_TIMEOUT_MS,
      });
      if (statusCode !== 200) {
        await body.dump();
        throw new Error(`upstream answered ${statusCode}`);
      }
      res.json(await body.json());
    } catch (err) {
      res.status(502).json({ error: `upstream call failed: ${err.message}` });
    }
  });

  app.get('/cpu', (req, res) => {
    const n = intParam(req.query.n, 10000, 1, 10000000);
    res.json({ n, primes: countPrimes(n) });
  });

  app.get('/data', (req, res) => {
    const region = req.query.region;
    if (dataset === null) {
      res.status(503).json({ error: sales.NOT_LOADED });
    } else if (typeof region !== 'string' || region === '') {
      res.status(404).json({ error: 'missing region parameter' });
    } else if (!dataset.regions.has(region)) {
      res.status(404).json({ error: `unknown region: ${region}` });
    } else {
      res.json(sales.aggregate(dataset, region));
    }
  });

  // Reached only without an Upgrade header: ws answers /ws upgrades itself.
  app.get('/ws', (req, res) => {
    res.status(426).json({ error: 'WebSocket upgrade required' });
  });

  app.use((req, res) => {
    res.status(404).json({ error: 'not found' });
  });

  // Express's error-handler signature needs all four arguments.
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    console.error(err);
    res.status(500).json({ error: 'internal server error' });
  });

  const close = () => {
    upstream.destroy().catch(() => {});
    return closeDatabase();
  };
  return { app, close };
}

module.exports = { createApp };
