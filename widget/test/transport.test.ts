import assert from "node:assert/strict";
import { test } from "node:test";
import { type Hooks, Transport } from "../src/transport";

/* The connection's own rules, with the browser's parts it uses played by fakes: a
 * WebSocket the test opens, answers and kills by hand, the browser's online flag, and
 * timers that run when the test moves the clock. */

class FakeSocket {
  static readonly OPEN = 1;
  static made: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  closed = false;
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }

  send(data: string): void {
    this.sent.push(data);
  }

  close(): void {
    this.closed = true;
    this.readyState = 3;
  }

  /** The server accepted the socket and welcomed the visitor. */
  welcome(): void {
    this.readyState = FakeSocket.OPEN;
    if (this.onopen) this.onopen();
    const w = { type: "welcome", token: "t".repeat(43), seq: 0, visitor: {}, online: true, expect: "" };
    if (this.onmessage) this.onmessage({ data: JSON.stringify(w) });
  }

  /** The attempt failed (no network, a refused handshake): closed without opening. */
  fail(): void {
    this.readyState = 3;
    if (this.onclose) this.onclose();
  }
}

const browser = { onLine: true };
let clock = 0;
const timers = new Map<number, { at: number; fn: () => void; every: number }>();
let nextTimer = 1;

function schedule(fn: () => void, ms: number, every: number): number {
  const id = nextTimer++;
  timers.set(id, { at: clock + Math.max(0, ms), fn, every });
  return id;
}

const g = globalThis as unknown as Record<string, unknown>;
g.WebSocket = FakeSocket;
Object.defineProperty(globalThis, "navigator", { value: browser, configurable: true });
g.setTimeout = (fn: () => void, ms = 0) => schedule(fn, ms, 0);
g.setInterval = (fn: () => void, ms = 0) => schedule(fn, ms, ms);
g.clearTimeout = g.clearInterval = (id: number) => timers.delete(id);
Date.now = () => clock;

/** Move the clock, running every timer that falls due on the way. */
function wait(ms: number): void {
  const end = clock + ms;
  for (;;) {
    const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
    if (!due) break;
    const [id, t] = due;
    clock = Math.max(clock, t.at);
    if (t.every) t.at = clock + t.every;
    else timers.delete(id);
    t.fn();
  }
  clock = end;
}

function transport(): { t: Transport; log: string[] } {
  const log: string[] = [];
  const hooks: Hooks = {
    open: () => log.push("open"),
    closed: () => log.push("closed"),
    frame: (f) => log.push(f.type),
    events: () => log.push("events"),
    token: () => null,
    seq: () => 0,
  };
  return { t: new Transport("https://desk.example", "acme", hooks), log };
}

function last(): FakeSocket {
  const s = FakeSocket.made[FakeSocket.made.length - 1];
  if (!s) throw new Error("no socket was opened");
  return s;
}

function reset(): void {
  FakeSocket.made = [];
  timers.clear();
  browser.onLine = true;
}

test("going offline gives up the open socket at once, and coming back opens a new one", () => {
  reset();
  const { t, log } = transport();
  t.start();
  const first = last();
  first.welcome();
  assert.deepEqual(log, ["open", "welcome"]);

  browser.onLine = false;
  t.offline();
  assert.equal(first.closed, true, "a socket that lived through the drop is not trusted");
  assert.deepEqual(log.slice(2), ["closed"]);
  t.send([{ type: "ping" }]);
  assert.deepEqual(first.sent, [], "nothing is written into the given-up socket");

  browser.onLine = true;
  t.reconnect();
  assert.notEqual(last(), first);
  assert.equal(last().url, "wss://desk.example/widget/ws?inbox=acme");
});

test("attempts that fail while the browser is offline do not switch the widget to REST", () => {
  reset();
  const { t, log } = transport();
  t.start();
  last().welcome();
  browser.onLine = false;
  t.offline();
  for (let i = 0; i < 6; i++) {
    wait(60_000); // the backoff's wait: the next attempt opens a socket, which fails
    last().fail();
  }
  const sockets = FakeSocket.made.length;
  assert.equal(sockets, 7);

  browser.onLine = true;
  log.length = 0;
  t.reconnect();
  assert.equal(FakeSocket.made.length, sockets + 1, "back online, a socket again, not REST");
  last().welcome();
  assert.deepEqual(log, ["closed", "open", "welcome"]);
});

test("sockets that fail while online still switch the widget to REST after three tries", () => {
  reset();
  const { t, log } = transport();
  t.start();
  for (let i = 0; i < 3; i++) {
    last().fail();
    wait(60_000);
  }
  assert.equal(FakeSocket.made.length, 3, "the fourth try is not a socket");
  assert.ok(log.filter((e) => e === "open").length >= 1, "REST says hello instead");
});
