/* The entry point of widget.js: find our own script tag, read the inbox key and the
 * host, fetch the branding, and wire the state machine to the socket, the screen and
 * localStorage. The page talks to us through window.ThreadlineWidget.
 *
 * A browser that never chatted opens no socket: the first one opens with the panel,
 * so a page view does not make a visitor. One that holds a session token (or unsent
 * messages) connects at once, to show an agent's answer as an unread badge. */

import type { Identity } from "./frames";
import { type Input, Session } from "./protocol";
import { merge, restore } from "./store";
import { fetchConfig, Transport } from "./transport";
import { Widget } from "./ui";

interface Api {
  identity?: unknown;
  identify(identity: unknown): void;
  open(): void;
  close(): void;
}

type Win = Window & { ThreadlineWidget?: Partial<Api>; __threadline?: boolean };

const INBOX = /^[a-z0-9_-]{3,64}$/;

function ownScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.hasAttribute("data-inbox")) return current;
  const all = document.querySelectorAll<HTMLScriptElement>("script[data-inbox]");
  return all.length ? all[all.length - 1]! : null;
}

function identityOf(v: unknown): Identity | null {
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  const text = (x: unknown, max: number) => typeof x === "string" && x.length > 0 && x.length <= max;
  if (!text(o.user_id, 255) || !text(o.email, 320) || !text(o.hash, 128)) return null;
  const id: Identity = { user_id: o.user_id as string, email: o.email as string, hash: o.hash as string };
  if (text(o.name, 200)) id.name = o.name as string;
  return id;
}

function newCid(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** localStorage, or nothing when the browser refuses it (privacy modes, full disk):
 * the chat then lasts as long as the page. */
function storage(key: string): { get(): string | null; set(text: string): void } {
  return {
    get() {
      try {
        return localStorage.getItem(key);
      } catch {
        return null;
      }
    },
    set(text: string) {
      try {
        localStorage.setItem(key, text);
      } catch {
        /* quota or privacy mode: the in-memory session goes on */
      }
    },
  };
}

// A redirect link from a social DM lands here as #tl-continue=<token> (docs/redirects.md):
// taken out of the address bar, so a bookmark or a shared link does not carry it.
const CONTINUE = /(?:^#|&)tl-continue=([0-9]{1,18}\.[0-9]{1,18}\.[0-9a-f]{32})(?:&|$)/;

function continueToken(): string | null {
  const found = CONTINUE.exec(location.hash);
  if (!found) return null;
  try {
    history.replaceState(history.state, "", location.pathname + location.search);
  } catch {
    // a sandboxed page may refuse; the token is spent once used anyway
  }
  return found[1] ?? null;
}

async function boot(win: Win): Promise<void> {
  const script = ownScript();
  const inbox = script && script.getAttribute("data-inbox");
  if (!script || !inbox || !INBOX.test(inbox)) {
    console.warn("Threadline widget: the script tag needs data-inbox with the chat inbox key");
    return;
  }
  const base = new URL(script.src, location.href).origin;
  const early = win.ThreadlineWidget || {};
  let widget: Widget | null = null;
  let drive: (i: Input) => void = () => undefined;
  let pendingIdentity = identityOf(early.identity);
  let wantOpen = false;
  win.ThreadlineWidget = {
    identify(v: unknown) {
      const identity = identityOf(v);
      if (!identity) return console.warn("Threadline widget: identify needs user_id, email and hash");
      pendingIdentity = identity;
      drive({ t: "identify", identity });
    },
    open: () => (widget ? widget.setOpen(true) : (wantOpen = true)),
    close: () => (widget ? widget.setOpen(false) : (wantOpen = false)),
  };

  const config = await fetchConfig(base, inbox).catch(() => null);
  if (!config) {
    console.warn("Threadline widget: no chat inbox here (unknown key, or this site is not allowed)");
    return;
  }
  if (document.readyState === "loading") {
    await new Promise((ok) => document.addEventListener("DOMContentLoaded", ok, { once: true }));
  }

  const store = storage(`threadline:${inbox}`);
  const session = new Session(restore(store.get()));
  let saved = "";
  let wake: ReturnType<typeof setTimeout> | undefined;
  const transport = new Transport(base, inbox, {
    open: () => drive({ t: "open", stored: restore(store.get()) }),
    closed: () => drive({ t: "closed" }),
    frame: (frame) => drive({ t: "frame", frame }),
    events: (events, seq) => drive({ t: "events", events, seq }),
    token: () => session.token,
    seq: () => session.seq,
  });

  const save = () => {
    const s = session.snapshot();
    // Write only when something durable moved: most inputs (typing, ticks) change none.
    const outbox = s.outbox.map((p) => p.cid);
    const mark = JSON.stringify([s.token, s.seq, s.read, s.readSent, s.agentRead, s.prechat, s.csat, outbox]);
    if (mark === saved) return;
    saved = mark;
    store.set(JSON.stringify(merge(restore(store.get()), s)));
  };

  const run = (i: Input) => {
    const out = session.input(i, Date.now());
    if (out.frames.length) transport.send(out.frames);
    if (out.catchup !== null) transport.catchup(out.catchup);
    if (out.reconnect) transport.reconnect();
    clearTimeout(wake);
    if (out.wake !== null) {
      wake = setTimeout(() => drive({ t: "tick" }), Math.max(0, out.wake - Date.now()) + 10);
    }
    save();
    if (widget) widget.render(session.view());
    return out;
  };
  drive = run;
  const visible = () => drive({ t: "visible", on: !!widget && widget.isOpen && !document.hidden });

  widget = new Widget(base, {
    opened(open) {
      if (open) transport.start();
      visible();
    },
    send(text) {
      const out = run({ t: "send", cid: newCid(), text });
      if (out.refused === "empty") return false;
      if (out.refused && widget) widget.notice(`Not sent: ${out.refused}.`);
      transport.start();
      return !out.refused;
    },
    attach(file) {
      if (!session.token) {
        if (widget) widget.notice("Still connecting; try the file again in a moment.");
        transport.start();
        return;
      }
      if (widget) widget.notice(`Uploading ${file.name}…`);
      transport.upload(file).then(
        (upload) => {
          const out = run({ t: "send", cid: newCid(), text: file.name, files: [upload] });
          if (widget) widget.notice(out.refused ? `Not sent: ${out.refused}.` : "");
        },
        () => widget && widget.notice(`${file.name} could not be uploaded.`),
      );
    },
    typed: (on) => drive({ t: "typed", on }),
    profile: (name, email) => drive({ t: "profile", name, email }),
    skip: () => drive({ t: "skip" }),
    csat: (score, comment) => drive({ t: "csat", score, comment }),
    transcript: (email) => drive(email ? { t: "transcript", email } : { t: "transcript" }),
  });

  run({ t: "config", config });
  if (pendingIdentity) session.identity = pendingIdentity;
  const resume = continueToken();
  if (resume) {
    session.resume = resume;
    wantOpen = true; // they came to chat
  }
  document.addEventListener("visibilitychange", visible);
  window.addEventListener("offline", () => transport.offline());
  window.addEventListener("online", () => {
    if (transport.started && !session.live) transport.reconnect();
  });
  if (session.token || session.outbox.length || session.resume) transport.start();
  if (wantOpen) widget.setOpen(true);
}

(function () {
  const win = window as Win;
  if (win.__threadline) return; // the tag pasted twice
  win.__threadline = true;
  boot(win).catch((e: unknown) => console.warn("Threadline widget:", e));
})();
