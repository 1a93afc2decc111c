'use strict';
// Express 5 peer: `NODE_ENV=production node express.js --port N` (one process), or through
// cluster.js (one worker per CPU the process may use). TechEmpower's test set; the paths the
// Turbine and axum servers use.
const express = require('express');
const t = require('./common');

function app(workers = 1) {
  const s = t.settings();
  const db = t.pool(s, workers);
  const a = express();
  a.disable('x-powered-by');
  a.disable('etag');
  a.use((req, res, next) => {
    res.set('Server', 'Express');
    next();
  });
  a.get('/plaintext', (req, res) => {
    res.type('text/plain').send('Hello, World!');
  });
  a.get('/json', (req, res) => {
    res.json({ message: 'Hello, World!' });
  });
  a.get('/db', async (req, res) => {
    res.json(await t.world(db));
  });
  a.get('/queries', async (req, res) => {
    res.json(await t.worlds(db, t.queriesParam(req.query.queries)));
  });
  a.get('/fortunes', async (req, res) => {
    res.type('text/html; charset=utf-8').send(await t.fortunes(db));
  });
  a.get('/updates', async (req, res) => {
    res.json(await t.updates(db, t.queriesParam(req.query.queries)));
  });
  a.listen(s.port, '127.0.0.1');
}

module.exports = app;
if (require.main === module) app();
