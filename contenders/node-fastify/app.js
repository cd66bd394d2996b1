'use strict';
// One worker's Fastify application: every contract endpoint as a Fastify route
// with a response schema, SQLite through better-sqlite3 or, with
// BAKEOFF_DATABASE_URL, PostgreSQL through postgres.js, the fortunes page
// through @fastify/view + EJS, /io through an undici pool and /ws through
// @fastify/websocket.

const path = require('node:path');
const Database = require('better-sqlite3');
const ejs = require('ejs');
const fastify = require('fastify');
const { Pool } = require('undici');
const pgDatabase = require('./database-pg');
const sales = require('./sales');

const SERVER = 'fastify';
const IO_TIMEOUT_MS = 15000;

// TechEmpower's rule: not an integer means the default; out of range is clamped.
// Fastify gives an array for a repeated parameter: the first one counts.
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

const worldSchema = {
  type: 'object',
  properties: { id: { type: 'integer' }, randomNumber: { type: 'integer' } },
  required: ['id', 'randomNumber'],
};
const worldsSchema = { type: 'array', items: worldSchema };
const errorSchema = { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] };
const dataSchema = {
  type: 'object',
  properties: {
    region: { type: 'string' },
    products: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          product: { type: 'string' },
          count: { type: 'integer' },
          units: { type: 'integer' },
          revenue: { type: 'number' },
          mean_unit_price: { type: 'number' },
        },
        required: ['product', 'count', 'units', 'revenue', 'mean_unit_price'],
      },
    },
  },
  required: ['region', 'products'],
};

// The four database endpoints on SQLite: better-sqlite3, synchronous, one
// connection per worker process.
function sqliteRoutes(config, app) {
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

  app.get('/db', { schema: { response: { 200: worldSchema } } }, async () => selectWorld.get(randomId()));

  app.get('/queries', { schema: { response: { 200: worldsSchema } } }, async (request) => {
    const n = intParam(request.query.queries, 1, 1, 500);
    const worlds = [];
    for (let i = 0; i < n; i += 1) worlds.push(selectWorld.get(randomId()));
    return worlds;
  });

  app.get('/fortunes', async (request, reply) => {
    const fortunes = selectFortunes.all();
    fortunes.push({ id: 0, message: 'Additional fortune added at request time.' });
    fortunes.sort(byMessage);
    return reply.view('fortunes.ejs', { fortunes });
  });

  app.get('/updates', { schema: { response: { 200: worldsSchema } } }, async (request) => {
    const n = intParam(request.query.queries, 1, 1, 500);
    // Distinct ids, as on PostgreSQL: each returned row is the row persisted.
    const worlds = pgDatabase.distinctIds(n).map((id) => {
      const world = selectWorld.get(id);
      world.randomNumber = randomId();
      return world;
    });
    updateWorlds.immediate(worlds);
    return worlds;
  });

  return async () => db.close();
}

// The same endpoints on PostgreSQL (BAKEOFF_DATABASE_URL), awaiting this worker's
// postgres.js pool.
function postgresRoutes(config, app) {
  const pg = pgDatabase.open(config.databaseUrl, config.dbPoolSize);

  app.get('/db', { schema: { response: { 200: worldSchema } } }, async () => pg.world(randomId()));

  app.get('/queries', { schema: { response: { 200: worldsSchema } } }, async (request) => {
    const n = intParam(request.query.queries, 1, 1, 500);
    return pg.worlds(Array.from({ length: n }, randomId));
  });

  app.get('/fortunes', async (request, reply) => {
    const fortunes = await pg.fortunes();
    fortunes.push({ id: 0, message: 'Additional fortune added at request time.' });
    fortunes.sort(byMessage);
    return reply.view('fortunes.ejs', { fortunes });
  });

  app.get('/updates', { schema: { response: { 200: worldsSchema } } }, async (request) => {
    const n = intParam(request.query.queries, 1, 1, 500);
    const worlds = await pg.worlds(pgDatabase.distinctIds(n));
    for (const world of worlds) world.randomNumber = randomId();
    await pg.updateWorlds(worlds);
    return worlds;
  });

  return pg.close;
}

async function buildApp(config, isReady) {
  const dataset = config.dataPath ? sales.load(config.dataPath) : null;
  const upstreamUrl = new URL(config.upstream);
  const upstreamPrefix = upstreamUrl.pathname.replace(/\/+$/, '');
  const upstream = new Pool(upstreamUrl.origin);

  // No logger, as TechEmpower's Fastify (frameworks/JavaScript/fastify/create-server.js)
  // and Fastify's own default; server errors still reach stderr, through the
  // error handler below, as in the other Node.js contenders.
  const app = fastify({ logger: false });
  app.setErrorHandler((err, request, reply) => {
    const status = err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) console.error(err);
    reply.code(status).send({ error: status >= 500 ? 'internal server error' : err.message });
  });

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('Server', SERVER);
    done();
  });
  app.addHook('onClose', async () => {
    await upstream.close();
    await closeDatabase();
  });

  await app.register(require('@fastify/view'), {
    engine: { ejs },
    root: path.join(__dirname, 'views'),
    production: true,
  });
  await app.register(require('@fastify/websocket'));
  app.websocketServer.on('headers', (headers) => {
    headers.push(`Server: ${SERVER}`, `Date: ${new Date().toUTCString()}`);
  });

  app.get('/health', async (request, reply) => {
    if (isReady()) return 'ok';
    return reply.code(503).send('starting');
  });

  app.get('/plaintext', async () => 'Hello, World!');

  app.get(
    '/json',
    { schema: { response: { 200: { type: 'object', properties: { message: { type: 'string' } } } } } },
    async () => ({ message: 'Hello, World!' }),
  );

  const closeDatabase = (config.databaseUrl ? postgresRoutes : sqliteRoutes)(config, app);

  // No response schema: the upstream's object is passed through unchanged.
  app.get('/io', async (request, reply) => {
    const ms = intParam(request.query.ms, 0, 0, 10000);
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
      return await body.json();
    } catch (err) {
      return reply.code(502).send({ error: `upstream call failed: ${err.message}` });
    }
  });

  app.get(
    '/cpu',
    {
      schema: {
        response: {
          200: { type: 'object', properties: { n: { type: 'integer' }, primes: { type: 'integer' } } },
        },
      },
    },
    async (request) => {
      const n = intParam(request.query.n, 10000, 1, 10000000);
      return { n, primes: countPrimes(n) };
    },
  );

  app.get('/data', { schema: { response: { 200: dataSchema, 404: errorSchema, 503: errorSchema } } }, async (request, reply) => {
    const region = request.query.region;
    if (dataset === null) {
      return reply.code(503).send({ error: sales.NOT_LOADED });
    }
    if (typeof region !== 'string' || region === '') {
      return reply.code(404).send({ error: 'missing region parameter' });
    }
    if (!dataset.regions.has(region)) {
      return reply.code(404).send({ error: `unknown region: ${region}` });
    }
    return sales.aggregate(dataset, region);
  });

  // One chat room per worker; bakeoff runs WebSocket cells with one worker.
  app.route({
    method: 'GET',
    url: '/ws',
    handler: async (request, reply) => reply.code(426).send({ error: 'WebSocket upgrade required' }),
    wsHandler: (socket) => {
      socket.on('message', (data, isBinary) => {
        for (const client of app.websocketServer.clients) {
          if (client.readyState === client.OPEN) client.send(data, { binary: isBinary });
        }
      });
    },
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'not found' });
  });

  return app;
}

module.exports = { buildApp };
