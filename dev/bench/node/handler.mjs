// The token function's job written the way a Node.js 20 developer would:
// the AWS SDK v3 reads the secret during init (top-level await), one
// keep-alive agent carries the calls to Trulience, and the handler answers
// API Gateway's HTTP API event. No allowlists: the peer does the least the
// job needs, so the comparison flatters it rather than the function.
import https from 'node:https';
import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';

const sm = new SecretsManagerClient({});
const secret = await sm.send(new GetSecretValueCommand({ SecretId: process.env.TRULIENCE_SECRET_ID }));
const raw = secret.SecretString.trim();
const apiKey = raw.startsWith('{') ? JSON.parse(raw).api_key : raw;

const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
const endpoint = new URL(process.env.TRULIENCE_API_URL.replace(/\/+$/, '') + '/auth/generate-token');

function generateToken(avatarId, origin) {
  const body = JSON.stringify({ avatar_id: avatarId });
  const headers = { 'content-type': 'application/json', 'x-api-key': apiKey, 'content-length': Buffer.byteLength(body) };
  if (origin) headers.origin = origin;
  return new Promise((resolve, reject) => {
    const req = https.request(endpoint, { method: 'POST', headers, agent, timeout: 5000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('timeout', () => req.destroy(new Error('Trulience timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

const answer = (statusCode, body) => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export async function handler(event) {
  let avatarId;
  try {
    avatarId = JSON.parse(event.body ?? '{}').avatar_id;
  } catch {
    return answer(400, { error: { code: 'invalid_request' } });
  }
  if (typeof avatarId !== 'string' || !/^[0-9]{1,32}$/.test(avatarId)) {
    return answer(400, { error: { code: 'invalid_request' } });
  }
  const res = await generateToken(avatarId, event.headers?.origin);
  if (res.status !== 200) {
    return answer(502, { error: { code: 'upstream_error' } });
  }
  const t = JSON.parse(res.body);
  return answer(200, { token: t.jwt, expires_in: t.expires_in, avatar_id: t.avatar_id });
}
