'use strict';
// Entry point: the cluster primary forks BAKEOFF_WORKERS workers; each worker
// runs the Fastify app on 127.0.0.1:PORT.

const cluster = require('node:cluster');
const config = require('./config');
const { runPrimary, workerLifecycle } = require('./cluster');

let settings;
try {
  settings = config.load();
} catch (err) {
  console.error(`node-fastify: ${err.message}`);
  process.exit(2);
}

async function startWorker() {
  const { buildApp } = require('./app');
  let ready = false;
  const app = await buildApp(settings, () => ready);
  workerLifecycle(
    () => {
      ready = true;
    },
    (done) => {
      app.close().then(done, done);
    },
  );
  await app.listen({ port: settings.port, host: '127.0.0.1' });
}

if (cluster.isPrimary) {
  runPrimary(settings.workers);
} else {
  startWorker().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
