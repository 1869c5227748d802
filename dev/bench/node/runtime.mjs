// A minimal Lambda custom runtime for Node.js: the Runtime API loop
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), so the
// Node.js peer runs under the same emulator as the Go bootstraps, with no
// runtime client library. Init is the import of handler.mjs (its top-level
// await reads the secret); then each invocation is fetched, handled and
// answered.
import http from 'node:http';

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = '/2018-06-01/runtime';

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: base + path, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const failure = (e) => JSON.stringify({ errorMessage: String(e?.message ?? e), errorType: e?.name ?? 'Error' });

let handler;
try {
  ({ handler } = await import('./handler.mjs'));
} catch (e) {
  await call('POST', '/init/error', failure(e));
  process.exit(1);
}
for (;;) {
  const next = await call('GET', '/invocation/next');
  const id = next.headers['lambda-runtime-aws-request-id'];
  try {
    const result = await handler(JSON.parse(next.body));
    await call('POST', `/invocation/${id}/response`, JSON.stringify(result));
  } catch (e) {
    await call('POST', `/invocation/${id}/error`, failure(e));
  }
}
