// react-example.jsx: a private Trulience avatar in React. Not built here;
// copy it into your app after `npm install @trulience/react-sdk`.
import { useEffect, useMemo, useRef, useState } from "react";
import { TrulienceAvatar } from "@trulience/react-sdk";

// Your deployed token endpoint (the stack's TokenEndpoint output).
const TOKEN_ENDPOINT = "http://127.0.0.1:3000/token";
const AVATAR_ID = "4386676996480451678"; // a string: 19 digits do not fit a JS number

// fetchToken asks the endpoint for a single-use JWT. Content-Type text/plain
// keeps the POST a CORS simple request (no preflight); the body is still JSON.
async function fetchToken(signal) {
  const res = await fetch(TOKEN_ENDPOINT, {
    method: "POST",
    headers: { "Content-Type": "text/plain" },
    body: JSON.stringify({ avatar_id: AVATAR_ID }),
    signal,
  });
  // API Gateway's own errors (429 throttling, 404) have no "error" object.
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error ? `${data.error.message} (${data.error.code})` : `HTTP ${res.status}`);
  return data.jwt;
}

export default function Avatar() {
  const [session, setSession] = useState(0); // bump to start a new session
  const [token, setToken] = useState(null);
  const [error, setError] = useState(null);
  const refusals = useRef(0);

  // One fresh token per session: tokens are single-use and cannot be refreshed.
  useEffect(() => {
    const ctrl = new AbortController();
    setToken(null);
    setError(null);
    fetchToken(ctrl.signal).then(
      (jwt) => { if (!ctrl.signal.aborted) setToken(jwt); },
      (err) => { if (!ctrl.signal.aborted) setError(err.message); },
    );
    return () => ctrl.abort();
  }, [session]);

  // When Trulience refuses a token (used or expired), fetch another one;
  // give up after two refusals in a row instead of looping.
  const eventCallbacks = useMemo(() => ({
    "auth-success": () => { refusals.current = 0; },
    "auth-fail": () => {
      refusals.current += 1;
      if (refusals.current > 1) setError("Trulience refused two fresh tokens in a row.");
      else setSession((n) => n + 1);
    },
  }), []);

  if (error) return <p role="alert">Could not start the avatar: {error}</p>;
  if (!token) return <p>Requesting a token…</p>;
  return (
    <div style={{ width: "100%", height: 500 }}>
      {/* The SDK reads the token when it mounts, so key={token}: a new token mounts a new avatar. */}
      <TrulienceAvatar
        key={token}
        url="https://trulience.com/sdk/trulience.sdk.js"
        avatarId={AVATAR_ID}
        token={token}
        eventCallbacks={eventCallbacks}
        width="100%"
        height="100%"
      />
    </div>
  );
}
