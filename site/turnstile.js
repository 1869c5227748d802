// turnstile.js: the optional bot check. When the page has a Turnstile site
// key, it shows Cloudflare's widget and sends the widget's token with the
// token request as turnstile_token; the function verifies it with
// Cloudflare (BOT_CHECK=monitor or enforce). No site key: no widget, and
// requests carry no turnstile_token.
import { fetchToken, TokenError } from "./token.js";

// Your widget's site key (Cloudflare dashboard → Turnstile). Empty: no bot
// check. A page URL can override it for testing: ?sitekey=1x00000000000000000000AA
export const TURNSTILE_SITE_KEY = "";

// Cloudflare's script, loaded only when a site key is set.
export const TURNSTILE_API = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";

// The offline stand-in that `make local` serves (same render/reset/getResponse
// API, handing out Cloudflare's dummy test token); used with ?turnstile=local.
export const LOCAL_TURNSTILE_API = "/dev/turnstile-local.js";

// How long to wait for the widget to produce a token.
const WIDGET_TIMEOUT_MS = 30000;

// botCheckConfig reads the site key and script, letting ?sitekey= and
// ?turnstile=local override them.
export function botCheckConfig(search = window.location.search) {
  const params = new URLSearchParams(search);
  const siteKey = (params.get("sitekey") ?? TURNSTILE_SITE_KEY).trim();
  const script = params.get("turnstile") === "local" ? LOCAL_TURNSTILE_API : TURNSTILE_API;
  return { siteKey, script };
}

let loading = null;
function loadScript(src) {
  if (window.turnstile) return Promise.resolve(window.turnstile);
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.async = true;
    script.onload = () => window.turnstile
      ? resolve(window.turnstile)
      : reject(new Error(`${src} loaded but defined no turnstile object.`));
    script.onerror = () => {
      script.remove();
      loading = null;
      reject(new Error(`Could not load the bot check (${src}): offline, or blocked by the browser.`));
    };
    document.head.append(script);
  });
  return loading;
}

// BotCheck is one Turnstile widget. take() resolves to a token nobody has
// used yet: tokens are single use, so once one was sent, the next take()
// resets the widget and waits for a new one.
export class BotCheck {
  constructor(container, { siteKey, script, action }) {
    this.container = container;
    this.siteKey = siteKey;
    this.script = script;
    this.action = action;
    this.id = null;
    this.token = "";
    this.used = false;
    this.waiters = [];
  }

  async start() {
    const turnstile = await loadScript(this.script);
    this.turnstile = turnstile;
    this.container.hidden = false;
    const opts = {
      sitekey: this.siteKey,
      callback: (token) => this.deliver(token),
      "expired-callback": () => { this.token = ""; },
      "error-callback": () => this.fail(new Error("The bot check widget failed. Reload the page to try again.")),
    };
    if (this.action) opts.action = this.action;
    this.id = turnstile.render(this.container, opts);
  }

  deliver(token) {
    this.token = token;
    this.used = false;
    for (const w of this.waiters.splice(0)) w.resolve(token);
  }

  fail(err) {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  // reset asks the widget for a new token.
  reset() {
    this.token = "";
    this.used = false;
    this.turnstile.reset(this.id);
  }

  async take() {
    if (this.id === null) await this.start();
    if (this.used) this.reset();
    const ready = this.token || this.turnstile.getResponse(this.id);
    const token = ready || await new Promise((resolve, reject) => {
      const w = { resolve, reject };
      this.waiters.push(w);
      setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error("The bot check did not finish in time. Reload the page to try again."));
      }, WIDGET_TIMEOUT_MS);
    });
    this.used = true;
    return token;
  }
}

// fetchTokenChecked is fetchToken with the bot check: it sends a fresh
// Turnstile token, and after bot_check_failed (token expired or already
// used) resets the widget and tries once more.
export async function fetchTokenChecked(endpoint, avatarId, botCheck) {
  if (!botCheck) return fetchToken(endpoint, avatarId);
  try {
    return await fetchToken(endpoint, avatarId, await take(botCheck));
  } catch (err) {
    if (err.code !== "bot_check_failed") throw err;
    return fetchToken(endpoint, avatarId, await take(botCheck));
  }
}

// take is botCheck.take() failing with a TokenError the page can show.
async function take(botCheck) {
  try {
    return await botCheck.take();
  } catch (err) {
    throw new TokenError(err.message, "bot_check_widget", 0);
  }
}

// pageBotCheck returns the page's BotCheck in the element with this id, or
// null when no site key is configured.
export function pageBotCheck(containerId) {
  const { siteKey, script } = botCheckConfig();
  const container = document.getElementById(containerId);
  if (!siteKey || !container) return null;
  return new BotCheck(container, { siteKey, script });
}
