'use strict';
// Fastify 5 peer: `NODE_ENV=production node fastify.js --port N` (logger off, its default).
// TechEmpower's test set; the paths the Turbine and axum servers use. JSON replies go through
// response schemas (fast-json-stringify), as Fastify's documentation recommends.
const fastify = require('fastify');
const t = require('./common');

const worldSchema = {
  type: 'object',
  properties: { id: { type: 'integer' }, randomNumber: { type: 'integer' } },
};
const worldsSchema = { type: 'array', items: worldSchema };

function app(workers = 1) {
  const s = t.settings();
  const db = t.pool(s, workers);
  const f = fastify({ logger: false });
  f.addHook('onRequest', (req, reply, done) => {
    reply.header('Server', 'Fastify');
    done();
  });
  f.get('/plaintext', (req, reply) => {
    reply.header('Content-Type', 'text/plain').send('Hello, World!');
  });
  f.get('/json', {
    schema: { response: { 200: { type: 'object', properties: { message: { type: 'string' } } } } },
  }, (req, reply) => {
    reply.send({ message: 'Hello, World!' });
  });
  f.get('/db', { schema: { response: { 200: worldSchema } } }, () => t.world(db));
  f.get('/queries', { schema: { response: { 200: worldsSchema } } },
    (req) => t.worlds(db, t.queriesParam(req.query.queries)));
  f.get('/fortunes', async (req, reply) => {
    reply.header('Content-Type', 'text/html; charset=utf-8');
    return t.fortunes(db);
  });
  f.get('/updates', { schema: { response: { 200: worldsSchema } } },
    (req) => t.updates(db, t.queriesParam(req.query.queries)));
  f.listen({ port: s.port, host: '127.0.0.1' }, (err) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
  });
}

module.exports = app;
if (require.main === module) app();
