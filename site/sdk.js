// sdk.js: the JavaScript SDK page. Load Trulience's SDK, fetch a token,
// build the avatar; on auth-fail fetch a fresh token and build it again.
import { pageConfig, redact, describeLifetime } from "./token.js";
import { fetchTokenChecked, pageBotCheck } from "./turnstile.js";

const SDK_URL = "https://trulience.com/sdk/trulience.sdk.js";

const { endpoint, avatarId } = pageConfig();
const $ = (id) => document.getElementById(id);
const app = $("app");
const botCheck = pageBotCheck("bot-check"); // null without a Turnstile site key

let trulience = null; // the running SDK object, if any
let refusals = 0;     // auth-fail events in a row

// loadSDK adds the SDK's <script> once; it rejects when the script cannot
// load (offline, blocked), and the next call tries again.
let sdkLoading = null;
function loadSDK() {
  if (window.Trulience) return Promise.resolve(window.Trulience);
  sdkLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = SDK_URL;
    script.async = true;
    script.onload = () => window.Trulience
      ? resolve(window.Trulience)
      : reject(new Error(`${SDK_URL} loaded but defined no Trulience object.`));
    script.onerror = () => {
      script.remove();
      sdkLoading = null;
      reject(new Error(`Could not load ${SDK_URL} (offline, or blocked by the browser). The token is still valid until it expires.`));
    };
    document.head.append(script);
  });
  return sdkLoading;
}

function show(state, status) {
  app.dataset.state = state;
  app.setAttribute("aria-busy", String(state === "loading"));
  $("status").textContent = status;
  $("new-session").disabled = state === "loading";
}

function showSDK(state, text) {
  app.dataset.sdk = state;
  $("sdk-status").textContent = text;
}

// stopAvatar ends the running session, if any.
function stopAvatar() {
  if (!trulience) return;
  try {
    trulience.off("auth-fail", onAuthFail);
    trulience.disconnectGateway();
  } catch (err) {
    console.warn("Trulience: disconnect failed", err);
  }
  trulience = null;
  $("avatar-mount").replaceChildren();
}

// startSession fetches a fresh token (single-use) and builds the avatar with it.
async function startSession() {
  stopAvatar();
  show("loading", "Requesting a token…");
  const [sdk, token] = await Promise.allSettled([loadSDK(), fetchTokenChecked(endpoint, avatarId, botCheck)]);

  if (token.status === "rejected") {
    const err = token.reason;
    $("error-message").textContent = err.message;
    $("error-code").textContent = err.code || "unknown";
    $("error-status").textContent = err.status ? ` · HTTP ${err.status}` : "";
    show("error", "Could not get a token");
  } else {
    const t = token.value;
    $("token-preview").textContent = redact(t.jwt); // never the whole token on screen
    $("token-lifetime").textContent = describeLifetime(t.expiresIn);
    $("avatar-id").textContent = t.avatarId;
    show("ready", "Token received");
  }

  if (sdk.status === "rejected") {
    $("sdk-notice").textContent = sdk.reason.message;
    showSDK("unavailable", "Not loaded");
    return;
  }
  showSDK("ready", "Loaded");
  if (token.status === "fulfilled") buildAvatar(sdk.value, token.value);
}

function buildAvatar(Trulience, token) {
  trulience = Trulience.Builder()
    .setAvatarId(token.avatarId)
    .setToken(token.jwt)
    .setUserName("Guest")
    .enableAvatar(true)
    .registerVideoElements({ remoteVideo: "avatar-mount" })
    .build();
  trulience.on("auth-success", () => {
    refusals = 0;
    showSDK("ready", "Connected");
  });
  trulience.on("auth-fail", onAuthFail);
  trulience.authenticate();
}

// onAuthFail: Trulience refused the token (already used, or expired).
// Tokens cannot be refreshed, so fetch a new one and build again; stop after
// two refusals in a row so a misconfiguration does not loop forever.
function onAuthFail(detail) {
  refusals += 1;
  console.warn("Trulience: auth-fail", detail);
  if (refusals > 1) {
    stopAvatar();
    $("error-message").textContent = "Trulience refused two fresh tokens in a row.";
    $("error-code").textContent = "auth_fail";
    $("error-status").textContent = "";
    show("error", "Avatar refused the token");
    return;
  }
  startSession();
}

$("endpoint").textContent = endpoint;
$("avatar-id").textContent = avatarId || "(function's default)";
$("new-session").addEventListener("click", () => {
  refusals = 0;
  startSession();
});
startSession();
