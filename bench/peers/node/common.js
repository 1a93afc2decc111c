'use strict';
// What the Node peers (Express, Fastify) share: settings, the pg pool, the TechEmpower rules.
// Every peer reads the same environment as the Rust DB servers: PORT (or --port N),
// BENCH_DATABASE_URL, BENCH_DB_POOL_SIZE (default 16: connections per server, split across
// node:cluster workers).
const { Pool } = require('pg');

function settings() {
  const args = process.argv.slice(2);
  let port = process.env.PORT;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') port = args[i + 1];
    else if (args[i].startsWith('--port=')) port = args[i].slice(7);
  }
  port = Number(port || 8080);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) fail('port must be a number 1..65535');
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  if (!databaseUrl) fail('BENCH_DATABASE_URL is not set (bench/db/setup creates the database)');
  const poolSize = Number(process.env.BENCH_DB_POOL_SIZE || 16);
  if (!Number.isInteger(poolSize) || poolSize <= 0) fail('BENCH_DB_POOL_SIZE must be a whole number > 0');
  return { port, databaseUrl, poolSize };
}

function fail(msg) {
  console.error(msg);
  process.exit(2);
}

function pool(s, workers = 1) {
  // node:cluster: the connection budget is shared by the workers.
  return new Pool({ connectionString: s.databaseUrl, max: Math.max(1, Math.ceil(s.poolSize / workers)) });
}

// TechEmpower's clamp: missing, empty, not a number or < 1 -> 1; > 500 -> 500.
function queriesParam(v) {
  const n = parseInt(v, 10);
  if (Number.isNaN(n) || n < 1) return 1;
  return n > 500 ? 500 : n;
}

const randomId = () => 1 + Math.floor(Math.random() * 10000);

function newRandomNumber(old) {
  for (;;) {
    const n = randomId();
    if (n !== old) return n;
  }
}

// Named statements: pg prepares each once per connection, as the Rust baselines do.
const SELECT_WORLD = { name: 'world', text: 'SELECT id, randomnumber FROM world WHERE id = $1' };
const SELECT_FORTUNES = { name: 'fortunes', text: 'SELECT id, message FROM fortune' };
const UPDATE_WORLDS = 'UPDATE world SET randomnumber = v.r ' +
  'FROM (SELECT unnest($1::int[]) AS id, unnest($2::int[]) AS r) AS v WHERE world.id = v.id';

async function world(db) {
  const r = await db.query({ ...SELECT_WORLD, values: [randomId()] });
  const row = r.rows[0];
  return { id: row.id, randomNumber: row.randomnumber };
}

// One query per row (TechEmpower forbids batching); pg queues them on the pool's connections.
const worlds = (db, n) => Promise.all(Array.from({ length: n }, () => world(db)));

async function fortunes(db) {
  const r = await db.query(SELECT_FORTUNES);
  const list = r.rows.map((f) => ({ id: f.id, message: f.message }));
  list.push({ id: 0, message: 'Additional fortune added at request time.' });
  list.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
  let html = '<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>' +
    '<tr><th>id</th><th>message</th></tr>';
  for (const f of list) html += `<tr><td>${f.id}</td><td>${escapeHtml(f.message)}</td></tr>`;
  return html + '</table></body></html>';
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' };
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

// One bulk UPDATE per request (allowed by TechEmpower), ids sorted so concurrent requests lock
// rows in the same order.
async function updates(db, n) {
  const list = await worlds(db, n);
  for (const w of list) w.randomNumber = newRandomNumber(w.randomNumber);
  const sorted = [...list].sort((a, b) => a.id - b.id);
  await db.query(UPDATE_WORLDS, [sorted.map((w) => w.id), sorted.map((w) => w.randomNumber)]);
  return list;
}

module.exports = { settings, pool, queriesParam, world, worlds, fortunes, updates };
