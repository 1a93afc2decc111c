'use strict';
// node:cluster variant of a Node peer: `NODE_ENV=production node cluster.js express|fastify --port N`.
// One worker per CPU this process may use (os.availableParallelism() follows the CPU affinity:
// 1 when pinned with taskset -c 0, 2 with both cores); the primary only distributes connections.
const cluster = require('node:cluster');
const os = require('node:os');

const which = process.argv[2];
if (!['express', 'fastify'].includes(which)) {
  console.error('usage: node cluster.js express|fastify --port N');
  process.exit(2);
}
const workers = os.availableParallelism();
if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (w, code, signal) => {
    console.error(`worker ${w.process.pid} exited (${signal || code})`);
  });
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => {
      for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
      process.exit(0);
    });
  }
} else {
  require(`./${which}`)(workers);
}
