'use strict';
// The node:cluster primary: forks the workers, tells them when every worker
// is listening (so /health only turns 200 once all are up), re-forks a worker
// that dies after start-up, and on SIGTERM/SIGINT stops the workers and exits.

const cluster = require('node:cluster');

const READY = 'bakeoff:ready';
const STOP_TIMEOUT_MS = 3000;

function runPrimary(workers) {
  let listening = 0;
  let ready = false;
  let stopping = false;

  cluster.on('listening', (worker) => {
    listening += 1;
    if (ready) {
      worker.send(READY);
    } else if (listening >= workers) {
      ready = true;
      for (const w of Object.values(cluster.workers)) w.send(READY);
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      // process.exitCode was set by stop(): 1 when a worker failed to start.
      if (Object.keys(cluster.workers).length === 0) process.exit();
      return;
    }
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (!ready) {
      // A worker that cannot start would crash again: fail fast instead of looping.
      console.error(`worker ${worker.process.pid} exited during start-up (${how}); stopping`);
      stop(1);
      return;
    }
    console.error(`worker ${worker.process.pid} exited (${how}); forking a replacement`);
    cluster.fork();
  });

  function stop(exitCode) {
    if (stopping) return;
    stopping = true;
    process.exitCode = exitCode;
    const alive = Object.values(cluster.workers);
    if (alive.length === 0) process.exit(exitCode);
    for (const w of alive) w.process.kill('SIGTERM');
    setTimeout(() => {
      for (const w of Object.values(cluster.workers)) w.process.kill('SIGKILL');
      process.exit(exitCode);
    }, STOP_TIMEOUT_MS).unref();
  }

  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));

  for (let i = 0; i < workers; i += 1) cluster.fork();
}

// In a worker: calls onReady once the primary reports every worker listening,
// and runs close() then exits on SIGTERM/SIGINT or when the primary goes away.
function workerLifecycle(onReady, close) {
  process.on('message', (msg) => {
    if (msg === READY) onReady();
  });
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(0), STOP_TIMEOUT_MS - 1000).unref();
    close(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('disconnect', shutdown);
}

module.exports = { runPrimary, workerLifecycle };
