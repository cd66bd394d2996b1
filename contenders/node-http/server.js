'use strict';
// Entry point: the cluster primary forks BAKEOFF_WORKERS workers; each worker
// loads the data, opens SQLite and serves on 127.0.0.1:PORT.

const cluster = require('node:cluster');
const config = require('./config');
const { runPrimary, workerLifecycle } = require('./cluster');

let settings;
try {
  settings = config.load();
} catch (err) {
  console.error(`node-http: ${err.message}`);
  process.exit(2);
}

if (cluster.isPrimary) {
  runPrimary(settings.workers);
} else {
  const { createServer } = require('./app');
  const app = createServer(settings);
  workerLifecycle(app.markReady, app.close);
  app.server.listen(settings.port, '127.0.0.1');
}
