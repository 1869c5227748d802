// app.js: the iframe page. Fetch a token, then mount
// <iframe src="https://www.trulience.com/avatar/<id>?token=<jwt>">.
import { pageConfig, avatarURL, redact, describeLifetime } from "./token.js";
import { fetchTokenChecked, pageBotCheck } from "./turnstile.js";

const { endpoint, avatarId, trulience } = pageConfig();
const $ = (id) => document.getElementById(id);
const app = $("app");
const botCheck = pageBotCheck("bot-check"); // null without a Turnstile site key

// show switches the page between loading, ready and error.
function show(state, status) {
  app.dataset.state = state;
  app.setAttribute("aria-busy", String(state === "loading"));
  $("status").textContent = status;
  $("new-session").disabled = state === "loading";
}

// startSession replaces any running avatar with a new one on a new token.
async function startSession() {
  $("avatar-frame")?.remove(); // ends the previous session
  show("loading", "Requesting a token…");
  try {
    const token = await fetchTokenChecked(endpoint, avatarId, botCheck);
    const src = avatarURL(token.avatarId, token.jwt, trulience);

    const frame = document.createElement("iframe");
    frame.id = "avatar-frame";
    frame.title = "Trulience avatar";
    frame.allow = "camera; microphone; autoplay";
    frame.src = src;
    $("stage").append(frame);

    // Never put the whole token on screen: it would end up in screenshots.
    $("token-preview").textContent = redact(token.jwt);
    $("token-lifetime").textContent = describeLifetime(token.expiresIn);
    $("iframe-url").textContent =
      `${trulience}/avatar/${token.avatarId}?token=${redact(token.jwt)}`;
    $("avatar-id").textContent = token.avatarId;
    show("ready", "Token received");
  } catch (err) {
    $("error-message").textContent = err.message;
    $("error-code").textContent = err.code || "unknown";
    $("error-status").textContent = err.status ? ` · HTTP ${err.status}` : "";
    show("error", "Could not get a token");
  }
}

$("endpoint").textContent = endpoint;
$("avatar-id").textContent = avatarId || "(function's default)";
$("new-session").addEventListener("click", startSession);
startSession();
