'use strict';
// One worker's HTTP server: routes every contract endpoint with plain node:http,
// SQLite through better-sqlite3 or, with BAKEOFF_DATABASE_URL, PostgreSQL
// through postgres.js, the fortunes page through EJS, /io through a keep-alive
// http.Agent and /ws through the ws package.

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const Database = require('better-sqlite3');
const ejs = require('ejs');
const { WebSocketServer, WebSocket } = require('ws');
const pgDatabase = require('./database-pg');
const sales = require('./sales');

const SERVER = 'node';
const IO_TIMEOUT_MS = 15000;

// TechEmpower's rule: not an integer means the default; out of range is clamped.
function intParam(raw, fallback, min, max) {
  const value = /^\s*[+-]?\d+\s*$/.test(raw ?? '') ? Number.parseInt(raw, 10) : fallback;
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
function sqliteRoutes(config, { send, sendJson, renderFortunes }) {
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

  const routes = {
    '/db': (req, res) => sendJson(res, 200, selectWorld.get(randomId())),
    '/queries': (req, res, query) => {
      const n = intParam(query.get('queries'), 1, 1, 500);
      const worlds = [];
      for (let i = 0; i < n; i += 1) worlds.push(selectWorld.get(randomId()));
      sendJson(res, 200, worlds);
    },
    '/fortunes': (req, res) => {
      const fortunes = selectFortunes.all();
      fortunes.push({ id: 0, message: 'Additional fortune added at request time.' });
      fortunes.sort(byMessage);
      send(res, 200, 'text/html; charset=utf-8', renderFortunes({ fortunes }));
    },
    '/updates': (req, res, query) => {
      const n = intParam(query.get('queries'), 1, 1, 500);
      // Distinct ids, as on PostgreSQL: each returned row is the row persisted.
      const worlds = pgDatabase.distinctIds(n).map((id) => {
        const world = selectWorld.get(id);
        world.randomNumber = randomId();
        return world;
      });
      updateWorlds.immediate(worlds);
      sendJson(res, 200, worlds);
    },
  };
  return { routes, close: async () => db.close() };
}

// The same endpoints on PostgreSQL (BAKEOFF_DATABASE_URL): async, through this
// worker's postgres.js pool.
function postgresRoutes(config, { send, sendJson, renderFortunes }) {
  const pg = pgDatabase.open(config.databaseUrl, config.dbPoolSize);
  const routes = {
    '/db': async (req, res) => sendJson(res, 200, await pg.world(randomId())),
    '/queries': async (req, res, query) => {
      const n = intParam(query.get('queries'), 1, 1, 500);
      sendJson(res, 200, await pg.worlds(Array.from({ length: n }, randomId)));
    },
    '/fortunes': async (req, res) => {
      const fortunes = await pg.fortunes();
      fortunes.push({ id: 0, message: 'Additional fortune added at request time.' });
      fortunes.sort(byMessage);
      send(res, 200, 'text/html; charset=utf-8', renderFortunes({ fortunes }));
    },
    '/updates': async (req, res, query) => {
      const n = intParam(query.get('queries'), 1, 1, 500);
      const worlds = await pg.worlds(pgDatabase.distinctIds(n));
      for (const world of worlds) world.randomNumber = randomId();
      await pg.updateWorlds(worlds);
      sendJson(res, 200, worlds);
    },
  };
  return { routes, close: pg.close };
}

function createServer(config) {
  const dataset = config.dataPath ? sales.load(config.dataPath) : null;
  const templatePath = path.join(__dirname, 'views', 'fortunes.ejs');
  const renderFortunes = ejs.compile(fs.readFileSync(templatePath, 'utf8'), { filename: templatePath });
  const upstreamAgent = new http.Agent({ keepAlive: true });
  let ready = false;

  function send(res, status, contentType, body) {
    res.writeHead(status, {
      Server: SERVER,
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  }
  const sendJson = (res, status, value) => send(res, status, 'application/json', JSON.stringify(value));
  const database = (config.databaseUrl ? postgresRoutes : sqliteRoutes)(config, { send, sendJson, renderFortunes });

  function callUpstream(ms) {
    return new Promise((resolve, reject) => {
      const req = http.get(`${config.upstream}/delay?ms=${ms}`, { agent: upstreamAgent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode !== 200) {
            reject(new Error(`upstream answered ${res.statusCode}`));
            return;
          }
          try {
            resolve(JSON.parse(body));
          } catch (err) {
            reject(new Error(`upstream sent invalid JSON: ${err.message}`));
          }
        });
      });
      req.on('error', reject);
      req.setTimeout(IO_TIMEOUT_MS, () => req.destroy(new Error('upstream timed out')));
    });
  }

  const routes = {
    '/health': (req, res) => {
      if (ready) send(res, 200, 'text/plain', 'ok');
      else send(res, 503, 'text/plain', 'starting');
    },
    '/plaintext': (req, res) => send(res, 200, 'text/plain', 'Hello, World!'),
    '/json': (req, res) => sendJson(res, 200, { message: 'Hello, World!' }),
    ...database.routes,
    '/io': async (req, res, query) => {
      const ms = intParam(query.get('ms'), 0, 0, 10000);
      try {
        sendJson(res, 200, await callUpstream(ms));
      } catch (err) {
        sendJson(res, 502, { error: `upstream call failed: ${err.message}` });
      }
    },
    '/cpu': (req, res, query) => {
      const n = intParam(query.get('n'), 10000, 1, 10000000);
      sendJson(res, 200, { n, primes: countPrimes(n) });
    },
    '/data': (req, res, query) => {
      const region = query.get('region');
      if (dataset === null) sendJson(res, 503, { error: sales.NOT_LOADED });
      else if (!region) sendJson(res, 404, { error: 'missing region parameter' });
      else if (!dataset.regions.has(region)) sendJson(res, 404, { error: `unknown region: ${region}` });
      else sendJson(res, 200, sales.aggregate(dataset, region));
    },
    // Reached only without an Upgrade header: ws answers /ws upgrades itself.
    '/ws': (req, res) => sendJson(res, 426, { error: 'WebSocket upgrade required' }),
  };

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
      if (route === undefined) {
        sendJson(res, 404, { error: 'not found' });
      } else if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        sendJson(res, 405, { error: 'method not allowed' });
      } else {
        await route(req, res, url.searchParams);
      }
    } catch (err) {
      console.error(err);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal server error' });
    }
  });

  // One chat room per worker; bakeoff runs WebSocket cells with one worker.
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('headers', (headers) => {
    headers.push(`Server: ${SERVER}`, `Date: ${new Date().toUTCString()}`);
  });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => {
      for (const client of wss.clients) {
        if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
      }
    });
  });

  return {
    server,
    markReady: () => {
      ready = true;
    },
    close: (done) => {
      for (const client of wss.clients) client.terminate();
      server.close(() => {
        upstreamAgent.destroy();
        database.close().then(done, done);
      });
      server.closeIdleConnections();
    },
  };
}

module.exports = { createServer };
