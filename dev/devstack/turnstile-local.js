// turnstile-local.js: an offline stand-in for Cloudflare's Turnstile script
// (https://challenges.cloudflare.com/turnstile/v0/api.js), served by the
// local stack's site server at /dev/turnstile-local.js. It has the same
// turnstile.render / getResponse / reset / remove API and, like Cloudflare's
// test site keys, hands out the dummy token XXXX.DUMMY.TOKEN.XXXX, which
// only Cloudflare's test secret keys (and the siteverify stand-in) accept.
// It never runs a challenge: it is for local runs and tests only.
(() => {
  const DUMMY_TOKEN = "XXXX.DUMMY.TOKEN.XXXX";
  const INVISIBLE = new Set(["1x00000000000000000000BB", "2x00000000000000000000BB"]);
  const widgets = new Map();
  let next = 0;
  // Counters a test can read.
  const stats = { renders: 0, resets: 0, tokens: 0 };

  function resolve(container) {
    const el = typeof container === "string" ? document.querySelector(container) : container;
    if (!el) throw new Error("turnstile.render: container not found");
    return el;
  }

  function issue(w) {
    w.token = "";
    w.box.dataset.state = "solving";
    w.label.textContent = "Verifying… (local stand-in)";
    setTimeout(() => {
      if (!widgets.has(w.id)) return;
      w.token = DUMMY_TOKEN;
      stats.tokens += 1;
      w.box.dataset.state = "solved";
      w.label.textContent = "Success! (local Turnstile stand-in, offline)";
      if (typeof w.opts.callback === "function") w.opts.callback(DUMMY_TOKEN);
    }, 50);
  }

  window.turnstile = {
    render(container, opts = {}) {
      if (!opts.sitekey) throw new Error("turnstile.render: sitekey is required");
      const el = resolve(container);
      const id = `local-turnstile-${++next}`;
      const box = document.createElement("div");
      box.id = id;
      box.className = "local-turnstile";
      box.style.cssText = "display:inline-flex;align-items:center;gap:8px;padding:10px 14px;border:1px solid #c9c9d6;border-radius:6px;font:14px system-ui,sans-serif;background:#fafafa;color:#222";
      const label = document.createElement("span");
      box.append(label);
      if (INVISIBLE.has(opts.sitekey)) box.style.display = "none";
      el.append(box);
      const w = { id, opts, box, label, token: "" };
      widgets.set(id, w);
      stats.renders += 1;
      issue(w);
      return id;
    },
    getResponse(id) {
      const w = id ? widgets.get(id) : widgets.values().next().value;
      return w ? w.token : undefined;
    },
    reset(id) {
      const w = id ? widgets.get(id) : widgets.values().next().value;
      if (!w) return;
      stats.resets += 1;
      issue(w);
    },
    remove(id) {
      const w = widgets.get(id);
      if (!w) return;
      w.box.remove();
      widgets.delete(id);
    },
    isExpired() { return false; },
    ready(fn) { fn(); },
    local: stats,
  };
})();
