'use strict';
// Entry point: the cluster primary forks BAKEOFF_WORKERS workers; each worker
// runs the Express app on 127.0.0.1:PORT with a ws WebSocket server on /ws.

const cluster = require('node:cluster');
const config = require('./config');
const { runPrimary, workerLifecycle } = require('./cluster');

let settings;
try {
  settings = config.load();
} catch (err) {
  console.error(`node-express: ${err.message}`);
  process.exit(2);
}

if (cluster.isPrimary) {
  runPrimary(settings.workers);
} else {
  const http = require('node:http');
  const { WebSocketServer, WebSocket } = require('ws');
  const { createApp } = require('./app');

  let ready = false;
  const { app, close } = createApp(settings, () => ready);
  const server = http.createServer(app);

  // One chat room per worker; bakeoff runs WebSocket cells with one worker.
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('headers', (headers) => {
    headers.push('Server: express', `Date: ${new Date().toUTCString()}`);
  });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => {
      for (const client of wss.clients) {
        if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
      }
    });
  });

  workerLifecycle(
    () => {
      ready = true;
    },
    (done) => {
      for (const client of wss.clients) client.terminate();
      server.close(() => {
        close().then(done, done);
      });
      server.closeIdleConnections();
    },
  );
  server.listen(settings.port, '127.0.0.1');
}
