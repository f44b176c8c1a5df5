/* The connection to the server: a WebSocket to /widget/ws, and the REST endpoints of
 * docs/widget.md when a socket cannot open (a proxy that drops upgrades, a corporate
 * filter). Both speak frames to the caller: a REST answer comes back as the frame the
 * socket would have sent, so the state machine never knows which one carried it.
 *
 * Reconnects wait with exponential backoff and jitter; three socket attempts in a row
 * that never got a welcome switch to REST for a minute, then the socket is tried again.
 * A ping every 25 s keeps proxies from closing an idle socket, and a socket that did not
 * answer the last one is given up for dead. */

import {
  type ChatEvent,
  type ClientFrame,
  type Config,
  frameOf,
  parseConfig,
  parseEvent,
  parseFrame,
  parseWelcome,
  type ServerFrame,
  type Upload,
} from "./frames";
import { backoff } from "./rules";

const PING_EVERY = 25000;
const POLL_EVERY = 3000; // REST mode: how often to ask for new events
const REST_FOR = 60000; // REST mode lasts this long before the socket is tried again
const WS_FAILURES = 3;
const TIMEOUT = 15000;
const PAGE = 200; // events per GET /widget/events, the server's maximum
const MAX_FRAME = 1 << 20;

export interface Hooks {
  open(): void; // a connection is up: the caller sends its hello
  closed(): void;
  frame(f: ServerFrame): void;
  events(events: ChatEvent[], seq: number): void; // a catch-up or poll answer
  token(): string | null;
  seq(): number;
}

type Json = Record<string, unknown>;

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** A JSON answer from the widget's REST side, or an HttpError; a network failure or
 * a timeout rejects with whatever fetch rejects with. */
async function call(url: string, init: RequestInit, token: string | null): Promise<Json | null> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT);
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (typeof init.body === "string") headers["Content-Type"] = "application/json";
  try {
    const r = await fetch(url, {
      ...init,
      headers,
      mode: "cors",
      credentials: "omit",
      signal: ctl.signal,
    });
    if (!r.ok) throw new HttpError(r.status);
    if (r.status === 204) return null;
    const data: unknown = await r.json();
    return typeof data === "object" && data !== null ? (data as Json) : null;
  } finally {
    clearTimeout(timer);
  }
}

export async function fetchConfig(base: string, inbox: string): Promise<Config | null> {
  return parseConfig(await call(`${base}/widget/config?inbox=${encodeURIComponent(inbox)}`, {}, null));
}

export class Transport {
  started = false;
  private ws: WebSocket | null = null;
  private rest = false;
  private restUntil = 0;
  private failures = 0; // socket attempts in a row that got no welcome
  private attempt = 0; // reconnects since the last welcome
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ping: ReturnType<typeof setInterval> | undefined;
  private heard = false;
  private generation = 0; // a REST session's answers after a reconnect are stale

  constructor(
    private readonly base: string,
    private readonly inbox: string,
    private readonly hooks: Hooks,
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.connect();
  }

  /** Drop the connection and say hello again at once (a new identity; back online). */
  reconnect(): void {
    if (!this.started) return;
    this.drop();
    this.attempt = 0;
    this.hooks.closed();
    this.connect();
  }

  /** The browser went offline. A socket that lives through a drop cannot be trusted:
   * what is written into it may never leave, and it looks open until a ping goes
   * unanswered. So it is given up at once (the visitor's messages wait in the outbox)
   * and tried again with the usual backoff; "online" reconnects without waiting. */
  offline(): void {
    if (this.started) this.lost();
  }

  send(frames: ClientFrame[]): void {
    for (const f of frames) {
      if (this.rest) this.post(f, this.generation);
      else if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(f));
      // Otherwise the frame is lost with the connection; the state machine sends
      // what matters again after the next welcome.
    }
  }

  catchup(since: number): void {
    this.fetchEvents(since).then(
      ([events, seq]) => this.hooks.events(events, seq),
      () => this.hooks.events([], 0),
    );
  }

  async upload(file: File): Promise<Upload> {
    const form = new FormData();
    form.append("file", file, file.name);
    const o = await call(`${this.base}/widget/attachments`, { method: "POST", body: form }, this.hooks.token());
    const id = o && o.id;
    if (typeof id !== "string" || !id || id.length > 64) throw new Error("bad upload answer");
    return {
      id,
      name: typeof o.name === "string" ? o.name.slice(0, 300) : file.name,
      type: typeof o.type === "string" ? o.type.slice(0, 200) : file.type,
      size: typeof o.size === "number" ? o.size : file.size,
    };
  }

  private connect(): void {
    clearTimeout(this.timer);
    if (this.rest && Date.now() >= this.restUntil) {
      this.rest = false;
      this.failures = WS_FAILURES - 1; // one more failure and back to REST
    }
    if (this.rest) this.hooks.open();
    else this.openSocket();
  }

  private drop(): void {
    this.generation++;
    clearInterval(this.ping);
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = null;
      ws.close();
    }
  }

  private lost(): void {
    this.drop();
    this.hooks.closed();
    if (!this.rest && this.failures >= WS_FAILURES) {
      this.rest = true;
      this.restUntil = Date.now() + REST_FOR;
      this.attempt = 0;
    }
    this.timer = setTimeout(() => this.connect(), backoff(this.attempt++, Math.random()));
  }

  private openSocket(): void {
    const url = `${this.base.replace(/^http/, "ws")}/widget/ws?inbox=${encodeURIComponent(this.inbox)}`;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      this.failures++;
      this.lost();
      return;
    }
    this.ws = ws;
    let welcomed = false;
    ws.onopen = () => {
      this.heard = true;
      this.ping = setInterval(() => this.keepAlive(), PING_EVERY);
      this.hooks.open();
    };
    ws.onmessage = (m: MessageEvent) => {
      this.heard = true;
      if (typeof m.data !== "string" || m.data.length > MAX_FRAME) return;
      const f = parseFrame(m.data);
      if (!f || f.type === "pong") return;
      if (f.type === "welcome") {
        welcomed = true;
        this.failures = this.attempt = 0;
      }
      this.hooks.frame(f);
    };
    ws.onclose = () => {
      // Offline, every attempt fails, which says nothing of the socket: it must not
      // switch the widget to REST for the minute after the network comes back.
      if (!welcomed && navigator.onLine !== false) this.failures++;
      this.lost();
    };
  }

  private keepAlive(): void {
    if (!this.heard) {
      this.lost(); // nothing since the last ping: the socket is dead, whatever it says
      return;
    }
    this.heard = false;
    this.send([{ type: "ping" }]);
  }

  // -- REST ------------------------------------------------------------------------------
  private url(path: string): string {
    return `${this.base}/widget/${path}`;
  }

  private async fetchEvents(since: number): Promise<[ChatEvent[], number]> {
    const o = await call(this.url(`events?since=${since}&limit=${PAGE}`), {}, this.hooks.token());
    const list = o && Array.isArray(o.events) ? o.events.slice(0, PAGE) : [];
    const events = list.map(parseEvent).filter((e): e is ChatEvent => e !== null);
    const seq = o && typeof o.seq === "number" ? o.seq : 0;
    return [events, seq];
  }

  private post(f: ClientFrame, gen: number): void {
    if (f.type === "typing" || f.type === "ping") return; // no REST form; not needed
    const { type, ...body } = f;
    const path = type === "hello" ? "session" : type === "send" ? "messages" : type;
    // A hello's seq is for the socket's replay; over REST the poll asks for events.
    const payload = f.type === "hello" ? { inbox: this.inbox, token: f.token, identity: f.identity } : body;
    const cid = f.type === "send" ? f.cid : null;
    call(this.url(path), { method: "POST", body: JSON.stringify(payload) }, this.hooks.token()).then(
      (o) => {
        if (gen !== this.generation || !o) return;
        if (type === "hello") {
          const w = parseWelcome(o);
          if (!w) return this.lost();
          this.attempt = 0;
          this.hooks.frame(w);
          this.poll(gen);
        } else if (cid) {
          const ack = frameOf({ ...o, type: "ack" });
          if (ack) this.hooks.frame(ack);
        }
      },
      (err: unknown) => {
        if (gen !== this.generation) return;
        const status = err instanceof HttpError ? err.status : 0;
        if (cid && status >= 400 && status < 500) {
          const code = status === 429 ? "rate_limited" : status === 403 ? "forbidden" : "invalid";
          this.hooks.frame({ type: "error", code, message: "", cid });
        } else if (type === "hello" || cid) {
          this.lost(); // the network or the server is down: the outbox waits for it
        }
      },
    );
  }

  private poll(gen: number): void {
    if (gen !== this.generation) return;
    if (Date.now() >= this.restUntil) {
      this.lost(); // time to try the socket again
      return;
    }
    this.fetchEvents(this.hooks.seq()).then(
      ([events, seq]) => {
        if (gen !== this.generation) return;
        this.hooks.events(events, seq);
        this.timer = setTimeout(() => this.poll(gen), events.length >= PAGE ? 0 : POLL_EVERY);
      },
      () => {
        if (gen === this.generation) this.lost();
      },
    );
  }
}
