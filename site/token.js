// token.js: asks your token endpoint for a single-use Trulience JWT.
// Shared by index.html (iframe) and sdk.html (JavaScript SDK). No build step,
// no dependencies: copy this file next to your page.

// Where the page asks for a token: the deployed API's URL ends in /token
// (see the stack's TokenEndpoint output). `make local` serves it here.
// A page served from this machine (make local) can override it for testing:
// ?endpoint=https://…/token
export const TOKEN_ENDPOINT = "http://127.0.0.1:3000/token";

// Which avatar to talk to; the function must allow it (ALLOWED_AVATAR_IDS).
// On a page served from this machine, ?avatar=123… overrides it; an empty
// value sends no avatar_id, and the function then uses the first allowed ID.
// Avatar IDs stay strings: 19-digit IDs do not fit a JavaScript number.
export const AVATAR_ID = "4386676996480451678";

// Where the avatar page is served. On a page served from this machine,
// ?trulience=http://127.0.0.1:<port> overrides it: make local -sessions
// points the iframe at its Trulience stand-in, which reports sessions.
export const TRULIENCE_URL = "https://www.trulience.com";

// How long to wait for the endpoint before giving up.
const TIMEOUT_MS = 10000;

// TokenError is what fetchToken throws: `code` is the API's error code
// (e.g. "origin_not_allowed") or "network_error" / "bad_response", `status`
// the HTTP status (0 when no answer could be read).
export class TokenError extends Error {
  constructor(message, code, status) {
    super(message);
    this.name = "TokenError";
    this.code = code;
    this.status = status;
  }
}

// LOCAL_HOSTS are the host names of a page served from this machine, where
// make local runs the site.
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

// pageConfig reads the endpoint, avatar ID and avatar page's site.
// ?endpoint=, ?avatar= and ?trulience= override the constants above only on
// a page served from this machine (make local): on a published page a
// crafted link could otherwise send visitors' token requests to another
// endpoint, start another avatar, or hand the token to another site.
export function pageConfig(search = window.location.search, hostname = window.location.hostname) {
  const defaults = { endpoint: TOKEN_ENDPOINT, avatarId: AVATAR_ID, trulience: TRULIENCE_URL };
  if (!LOCAL_HOSTS.has(hostname)) return defaults;
  const params = new URLSearchParams(search);
  const endpoint = httpURL(params.get("endpoint"))?.href ?? defaults.endpoint;
  const trulience = httpURL(params.get("trulience"))?.origin ?? defaults.trulience;
  let avatarId = AVATAR_ID;
  if (params.has("avatar")) avatarId = params.get("avatar").trim();
  return { endpoint, avatarId, trulience };
}

// httpURL parses an http(s) URL given in the page's query; null otherwise.
function httpURL(value) {
  if (!value) return null;
  try {
    const url = new URL(value, window.location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

// fetchToken asks the endpoint for a fresh token and resolves to
// { jwt, expiresIn, avatarId }. Tokens are single-use: call it once per
// avatar session, never cache the result.
//
// The body is JSON but sent as Content-Type: text/plain. That keeps the POST a
// CORS "simple request", so the browser sends it straight away instead of an
// OPTIONS preflight first: one round trip less before the avatar can start.
// It is not a loophole: the function checks the Origin header on every
// request, refuses origins it does not allow (without calling Trulience), and
// only allowed origins get the Access-Control-Allow-Origin header the browser
// needs before it lets the page read the answer. The function ignores
// Content-Type; "application/json" works too, at the cost of a preflight.
//
// turnstileToken, when given, is the bot check widget's token (see
// turnstile.js); it is sent as turnstile_token.
export async function fetchToken(endpoint, avatarId, turnstileToken) {
  const fields = {};
  if (avatarId) fields.avatar_id = String(avatarId);
  if (turnstileToken) fields.turnstile_token = turnstileToken;
  const body = Object.keys(fields).length ? JSON.stringify(fields) : "";
  let res;
  try {
    res = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body,
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    // fetch hides why on purpose: offline, wrong URL, or CORS refused
    // (this page's origin is not in the function's ALLOWED_ORIGINS).
    const why = err && err.name === "TimeoutError"
      ? `no answer within ${TIMEOUT_MS / 1000} s`
      : "network error, or the browser blocked the answer (CORS)";
    throw new TokenError(
      `Could not get a token from ${endpoint}: ${why}. Is the endpoint running, and is ${window.location.origin} in its ALLOWED_ORIGINS?`,
      "network_error", 0);
  }

  let data = null;
  try {
    data = await res.json();
  } catch {
    // Not JSON: a proxy or gateway answered, not the function.
  }
  if (!res.ok) {
    const e = data && data.error;
    if (e && e.message) throw new TokenError(e.message, String(e.code), res.status);
    throw new TokenError(`The endpoint answered HTTP ${res.status}.`, "bad_response", res.status);
  }
  if (!data || typeof data.jwt !== "string" || !data.jwt) {
    throw new TokenError("The endpoint answered without a token.", "bad_response", res.status);
  }
  return {
    jwt: data.jwt,
    expiresIn: Number(data.expires_in) || 0,
    avatarId: String(data.avatar_id || avatarId),
  };
}

// avatarURL is the iframe address that mounts the avatar with a token.
export function avatarURL(avatarId, jwt, trulience = TRULIENCE_URL) {
  return `${trulience}/avatar/${encodeURIComponent(avatarId)}?token=${encodeURIComponent(jwt)}`;
}

// redact shortens a JWT for display: enough to recognise it, not to use it.
export function redact(jwt) {
  if (jwt.length <= 20) return "…";
  return `${jwt.slice(0, 10)}…${jwt.slice(-6)}`;
}

// describeLifetime turns expires_in into "5 min (until 17:42:10)".
export function describeLifetime(seconds, now = new Date()) {
  const until = new Date(now.getTime() + seconds * 1000);
  const span = seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
  return `${span} (until ${until.toLocaleTimeString([], { hour12: false })})`;
}
