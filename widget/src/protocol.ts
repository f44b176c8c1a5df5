/* The widget's side of docs/widget.md as a pure state machine: no DOM, no timers, no
 * network. Each input (a frame, the socket opening or closing, the visitor writing,
 * a catch-up answer, the clock) goes through `input()` with the time, and the answer
 * says what to send, whether to fetch missed events, and when to be called again.
 *
 * The guarantees live here, where a test can drive them without a browser:
 * - every message waits in the outbox under its client id (cid) until its ack; it is
 *   sent again on each new connection, and the server stores a cid once;
 * - events apply in seq order, once: an old seq is a duplicate, a seq past the next
 *   one is a hole, filled by asking for everything after the last one applied;
 * - an optimistic bubble and its event share the cid, so a message shows once. */

import {
  type ChatEvent,
  CID,
  type ClientFrame,
  type Config,
  type Identity,
  type ServerFrame,
  type Upload,
  type Visitor,
  type Welcome,
} from "./frames";
import { clean } from "./rules";
import { empty, MAX_OUTBOX, MAX_TEXT, merge, type Pending, type Stored } from "./store";
import { unread, type View, view } from "./view";

export const TYPING_EVERY = 1000; // at most one typing frame a second, either way
export const TYPING_REFRESH = 3000; // "still typing", while keys keep coming
export const TYPING_IDLE = 4000; // no key for this long: stopped typing
export const AGENT_TYPING_TTL = 10000; // an agent's "on" we never saw turned off
export const ACK_TIMEOUT = 15000; // no ack on a live socket: send the same cid again
export const RATE_RETRY = 5000; // after a rate_limited error for a message
const MAX_EVENTS = 500; // kept in memory; older ones leave the view
const MAX_AHEAD = 200; // events past a hole, held until it is filled
const MAX_CONTROL = 20;

export type Input =
  | { t: "open"; stored?: Stored | null } // a connection is up: say hello
  | { t: "closed" }
  | { t: "frame"; frame: ServerFrame }
  | { t: "events"; events: ChatEvent[]; seq: number } // a catch-up answer; [] if it failed
  | { t: "config"; config: Config }
  | { t: "send"; cid: string; text: string; files?: Upload[] }
  | { t: "typed"; on: boolean } // a key in the composer; on = there is text in it
  | { t: "visible"; on: boolean } // the panel is open on a visible page
  | { t: "profile"; name?: string; email?: string }
  | { t: "skip" } // the optional pre-chat form, dismissed
  | { t: "csat"; score: number; comment?: string }
  | { t: "transcript"; email?: string }
  | { t: "identify"; identity: Identity }
  | { t: "tick" };

export interface Out {
  frames: ClientFrame[];
  catchup: number | null; // fetch the events after this seq
  reconnect: boolean; // hello again: the identity changed
  wake: number | null; // call input({t: "tick"}) at this time
  refused: string | null; // why a send was not taken
}

export interface Outgoing extends Pending {
  acked: number; // the seq its ack gave, 0 before
  failed: boolean; // refused for good: sending it again cannot help
  retryAt: number;
  sentOn: number; // the connection it was last sent on
  sentAt: number;
}

function fresh(p: Pending): Outgoing {
  return { ...p, acked: 0, failed: false, retryAt: 0, sentOn: 0, sentAt: 0 };
}

export class Session {
  token: string | null = null;
  seq = 0;
  read = 0;
  readSent = 0;
  agentRead = 0;
  prechatDone = false;
  csatSent = 0;
  events: ChatEvent[] = [];
  outbox: Outgoing[] = [];
  done: string[] = [];
  live = false;
  visible = false;
  visitor: Visitor = { name: null, email: null, verified: false };
  online = true;
  expect = "";
  config: Config | null = null;
  identity: Identity | null = null;
  resume: string | null = null; // a redirect link's token: this chat continues a DM
  agentTyping: { name: string; until: number } | null = null;
  private ahead = new Map<number, ChatEvent>();
  private catching = false;
  private conn = 0;
  private control: ClientFrame[] = [];
  private typing = { wanted: false, lastKey: 0, sent: false, sentAt: -Infinity };
  private out: Out = Session.nothing();

  constructor(stored: Stored | null = null) {
    this.load(stored || empty());
  }

  private static nothing(): Out {
    return { frames: [], catchup: null, reconnect: false, wake: null, refused: null };
  }

  /** What localStorage should keep (merged with other tabs' by the caller). */
  snapshot(): Stored {
    return {
      v: 1,
      token: this.token,
      seq: this.seq,
      read: this.read,
      readSent: this.readSent,
      agentRead: this.agentRead,
      prechat: this.prechatDone,
      csat: this.csatSent,
      outbox: this.outbox
        .filter((o) => !o.acked && !o.failed)
        .map(({ cid, text, files, at }) => ({ cid, text, files, at })),
      done: this.done.slice(),
      events: this.events.slice(),
    };
  }

  private load(s: Stored): void {
    const mine = new Map(this.outbox.map((o) => [o.cid, o]));
    const kept = this.outbox.filter((o) => o.acked || o.failed);
    this.token = s.token;
    this.seq = s.seq;
    this.read = s.read;
    this.readSent = s.readSent;
    this.agentRead = s.agentRead;
    this.prechatDone = s.prechat;
    this.csatSent = s.csat;
    this.done = s.done.slice();
    this.events = s.events.slice(-MAX_EVENTS);
    const outbox = s.outbox.map((p) => mine.get(p.cid) || fresh(p));
    this.outbox = [...kept, ...outbox].sort((a, b) => a.at - b.at);
    for (const k of this.ahead.keys()) if (k <= this.seq) this.ahead.delete(k);
  }

  input(i: Input, now: number): Out {
    const out = (this.out = Session.nothing());
    switch (i.t) {
      case "open":
        if (i.stored) this.load(merge(i.stored, this.snapshot()));
        this.conn++;
        this.live = false;
        this.typing.sent = false;
        out.frames.push(this.hello());
        break;
      case "closed":
        this.live = false;
        this.typing.sent = false;
        break;
      case "frame":
        this.receive(i.frame, now);
        break;
      case "events":
        this.caughtUp(i.events, i.seq);
        break;
      case "config":
        this.config = i.config;
        break;
      case "send":
        out.refused = this.write(i.cid, i.text, i.files || [], now);
        break;
      case "typed":
        this.typing.wanted = i.on;
        this.typing.lastKey = now;
        break;
      case "visible":
        this.visible = i.on;
        break;
      case "profile":
        this.profile(i.name, i.email);
        break;
      case "skip":
        this.prechatDone = true;
        break;
      case "csat":
        this.rate(i.score, i.comment);
        break;
      case "transcript":
        this.queue(i.email ? { type: "transcript", email: i.email } : { type: "transcript" });
        break;
      case "identify":
        this.identity = i.identity;
        out.reconnect = true;
        break;
      case "tick":
        break;
    }
    if (this.agentTyping && this.agentTyping.until <= now) this.agentTyping = null;
    this.pump(now);
    out.wake = this.nextWake(now);
    return out;
  }

  private hello(): ClientFrame {
    const h: ClientFrame = { type: "hello", v: 1, since: this.token ? this.seq : 0 };
    if (this.token) h.token = this.token;
    if (this.identity) h.identity = this.identity;
    if (this.resume) h.continue = this.resume;
    return h;
  }

  private receive(f: ServerFrame, now: number): void {
    switch (f.type) {
      case "welcome":
        this.welcome(f);
        break;
      case "event":
        this.apply(f.event);
        break;
      case "ack":
        this.acked(f.cid, f.seq);
        break;
      case "typing":
        this.agentTyping = f.on ? { name: f.name || "", until: now + AGENT_TYPING_TTL } : null;
        break;
      case "read":
        this.agentRead = Math.max(this.agentRead, f.seq);
        break;
      case "presence":
        this.online = f.online;
        this.expect = f.expect;
        break;
      case "error":
        this.refusedBy(f.code, f.cid, now);
        break;
      case "pong":
        break;
    }
  }

  private welcome(w: Welcome): void {
    // Another token is another visitor (ours was unknown or expired), and a server
    // behind our seq has lost what we saw: either way our transcript is not theirs.
    const reset = (this.token !== null && w.token !== this.token) || w.seq < this.seq;
    this.token = w.token;
    if (reset) {
      this.events = [];
      this.seq = this.read = this.readSent = this.agentRead = this.csatSent = 0;
      this.prechatDone = false;
      this.ahead.clear();
    }
    this.visitor = w.visitor;
    this.online = w.online;
    this.expect = w.expect;
    if (w.config) this.config = w.config;
    this.live = true;
    this.catching = false;
    // The server replays what follows the since of our hello; after a reset that
    // since was not ours, so ask for the whole history.
    if (reset && w.seq > 0) this.catchup(0);
  }

  private catchup(since: number): void {
    this.catching = true;
    this.out.catchup = since;
  }

  private apply(e: ChatEvent): void {
    if (e.seq <= this.seq) return; // seen already: a replay, another tab's resend
    if (e.seq > this.seq + 1) {
      if (this.ahead.size < MAX_AHEAD) this.ahead.set(e.seq, e);
      if (!this.catching) this.catchup(this.seq);
      return;
    }
    this.take(e);
    for (let next = this.ahead.get(this.seq + 1); next; next = this.ahead.get(this.seq + 1)) {
      this.take(next);
    }
    for (const k of this.ahead.keys()) if (k <= this.seq) this.ahead.delete(k);
  }

  private take(e: ChatEvent): void {
    this.ahead.delete(e.seq);
    this.events.push(e);
    if (this.events.length > MAX_EVENTS) this.events.shift();
    this.seq = e.seq;
    if (e.cid) this.settle(e.cid);
    if (e.kind === "message" && e.from === "agent") this.agentTyping = null;
  }

  private settle(cid: string): void {
    this.outbox = this.outbox.filter((o) => o.cid !== cid);
    if (!this.done.includes(cid)) this.done = [...this.done.slice(-49), cid];
  }

  private caughtUp(events: ChatEvent[], head: number): void {
    const before = this.seq;
    this.catching = true; // the answer's own holes are judged once, below
    for (const e of events.slice().sort((a, b) => a.seq - b.seq)) this.apply(e);
    this.catching = false;
    const want = Math.max(head, ...this.ahead.keys());
    // Only while it helps: an answer that moved nothing waits for the next hello.
    if (this.seq < want && this.seq > before) this.catchup(this.seq);
  }

  private acked(cid: string, seq: number): void {
    const o = this.outbox.find((x) => x.cid === cid);
    if (!o) return; // a second ack for a resend, or another tab's message
    if (seq <= this.seq) this.settle(cid);
    else o.acked = seq;
  }

  private refusedBy(code: string, cid: string | null, now: number): void {
    if (code === "identity") this.identity = null; // not again on the next hello
    const o = cid ? this.outbox.find((x) => x.cid === cid && !x.acked) : undefined;
    if (!o) return;
    if (code === "rate_limited") {
      o.retryAt = now + RATE_RETRY;
      o.sentOn = 0;
    } else {
      o.failed = true;
    }
  }

  private write(cid: string, raw: string, files: Upload[], now: number): string | null {
    const text = clean(raw);
    if (!CID.test(cid)) return "bad id";
    if (!text) return "empty";
    if (text.length > MAX_TEXT) return `at most ${MAX_TEXT} characters`;
    if (files.length > 5) return "at most 5 files";
    if (this.outbox.filter((o) => !o.acked && !o.failed).length >= MAX_OUTBOX) {
      return "too many messages waiting to be sent";
    }
    this.outbox.push({ ...fresh({ cid, text, files, at: now }) });
    this.typing.wanted = false;
    return null;
  }

  private profile(name?: string, email?: string): void {
    const f: ClientFrame = { type: "profile" };
    const n = clean(name || "").slice(0, 200);
    const e = (email || "").trim().slice(0, 320);
    if (n) f.name = this.visitor.name = n;
    if (e) f.email = this.visitor.email = e;
    this.prechatDone = true;
    if (n || e) this.queue(f);
  }

  private rate(score: number, comment?: string): void {
    if (!Number.isInteger(score) || score < 1 || score > 5) return;
    const f: ClientFrame = { type: "csat", score };
    const c = clean(comment || "").slice(0, 1000);
    if (c) f.comment = c;
    this.csatSent = this.lastResolved();
    this.queue(f);
  }

  private lastResolved(): number {
    for (let i = this.events.length - 1; i >= 0; i--) {
      if (this.events[i]!.kind === "resolved") return this.events[i]!.seq;
    }
    return 0;
  }

  private queue(f: ClientFrame): void {
    this.control = [...this.control.slice(1 - MAX_CONTROL), f];
  }

  /** Everything that waits for a live connection: the control frames, the read mark,
   * typing, and the head of the outbox (one at a time, so the order typed is the
   * order stored, over the socket or over REST alike). */
  private pump(now: number): void {
    const t = this.typing;
    if (t.wanted && now - t.lastKey >= TYPING_IDLE) t.wanted = false;
    if (this.visible) this.read = Math.max(this.read, this.seq);
    if (!this.live) return;
    const frames = this.out.frames;
    frames.push(...this.control);
    this.control = [];
    if (this.read > this.readSent) {
      const news = this.events.some(
        (e) => e.seq > this.readSent && e.seq <= this.read && e.from !== "visitor",
      );
      if (news) frames.push({ type: "read", seq: this.read });
      this.readSent = this.read;
    }
    const due = this.typingDue();
    if (due !== null && due <= now) {
      frames.push({ type: "typing", on: t.wanted });
      t.sent = t.wanted;
      t.sentAt = now;
    }
    const head = this.outbox.find((o) => !o.acked && !o.failed);
    if (!head || head.retryAt > now) return;
    if (head.sentOn === this.conn && now - head.sentAt < ACK_TIMEOUT) return;
    const f: ClientFrame = { type: "send", cid: head.cid, text: head.text };
    if (head.files.length) f.attachments = head.files.map((u) => u.id);
    frames.push(f);
    head.sentOn = this.conn;
    head.sentAt = now;
  }

  /** When the next typing frame may go: a change of mind at once, "still typing"
   * every few seconds, and never two within TYPING_EVERY. */
  private typingDue(): number | null {
    const t = this.typing;
    if (!this.live || (!t.wanted && !t.sent)) return null;
    const due = t.wanted && t.sent ? t.sentAt + TYPING_REFRESH : -Infinity;
    return Math.max(due, t.sentAt + TYPING_EVERY);
  }

  private nextWake(now: number): number | null {
    const t = this.typing;
    const times: number[] = [];
    const due = this.typingDue();
    if (due !== null) times.push(due);
    if (t.wanted) times.push(t.lastKey + TYPING_IDLE);
    if (this.agentTyping) times.push(this.agentTyping.until);
    const head = this.outbox.find((o) => !o.acked && !o.failed);
    if (this.live && head) {
      if (head.retryAt > now) times.push(head.retryAt);
      else if (head.sentOn === this.conn) times.push(head.sentAt + ACK_TIMEOUT);
    }
    return times.length ? Math.min(...times) : null;
  }

  unread(): number {
    return unread(this);
  }

  view(): View {
    return view(this);
  }
}
