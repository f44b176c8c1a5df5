/* A fake of the server side of docs/widget.md, kept as small as the rules it must
 * keep: one seq per visitor, a cid stored once and acked with the seq of its first
 * store, welcome then every event after the hello's since, and every new event pushed
 * to every connected tab. A Tab is one browser tab: a Session, its clock, and its
 * connection, which a test can cut or make lose what the server answers. */

import type { ChatEvent, ClientFrame, ServerFrame } from "../src/frames";
import { type Input, type Out, Session } from "../src/protocol";
import { merge, restore, type Stored } from "../src/store";

export const T0 = 1_700_000_000_000;

export function cid(n: number): string {
  return `cid-${String(n).padStart(16, "0")}`;
}

export function agentEvent(seq: number, text = `agent ${seq}`): ChatEvent {
  return {
    seq,
    kind: "message",
    at: new Date(T0 + seq * 1000).toISOString(),
    id: `m${seq}`,
    cid: null,
    from: "agent",
    text,
    author: "Ana",
    attachments: [],
    score: null,
    comment: null,
  };
}

export function welcomeFrame(token: string, seq: number, online = true): ServerFrame {
  return {
    type: "welcome",
    token,
    seq,
    visitor: { name: null, email: null, verified: false },
    online,
    expect: online ? "" : "We're back Monday 9:00",
    config: null,
  };
}

export class FakeServer {
  token = "token-0123456789abcdef";
  events: ChatEvent[] = [];
  received: ClientFrame[] = [];
  tabs = new Set<Tab>();
  private stored = new Map<string, number>();

  get seq(): number {
    return this.events.length;
  }

  /** What the server answers the sender; new events also go to every other tab. */
  handle(tab: Tab, f: ClientFrame): ServerFrame[] {
    this.received.push(f);
    if (f.type === "hello") {
      const since = f.token === this.token ? f.since : 0;
      const after = this.events.filter((e) => e.seq > since);
      return [welcomeFrame(this.token, this.seq), ...after.map((event) => ({ type: "event" as const, event }))];
    }
    if (f.type === "send") {
      const first = this.stored.get(f.cid);
      if (first) return [{ type: "ack", cid: f.cid, seq: first }];
      const seq = this.seq + 1;
      const e: ChatEvent = { ...agentEvent(seq, f.text), from: "visitor", cid: f.cid, author: null, id: `v${seq}` };
      this.stored.set(f.cid, e.seq);
      this.events.push(e);
      this.push(e, tab);
      return [{ type: "ack", cid: f.cid, seq: e.seq }, { type: "event", event: e }];
    }
    if (f.type === "ping") return [{ type: "pong" }];
    return [];
  }

  agentSays(text: string): ChatEvent {
    const e = agentEvent(this.seq + 1, text);
    this.events.push(e);
    this.push(e, null);
    return e;
  }

  private push(e: ChatEvent, except: Tab | null): void {
    for (const t of this.tabs) if (t !== except) t.deliver([{ type: "event", event: e }]);
  }
}

/** One tab: a Session fed by a FakeServer connection, with a clock moved by hand. */
export class Tab {
  session: Session;
  now = T0;
  connected = false;
  deaf = false; // the connection takes frames but every answer is lost
  sent: ClientFrame[] = [];
  sentAt: number[] = []; // the clock when each of `sent` went out
  catchups: number[] = [];
  wake: number | null = null;
  storage: { text: string | null };

  constructor(
    readonly server: FakeServer,
    storage: { text: string | null } = { text: null },
  ) {
    this.storage = storage;
    this.session = new Session(restore(storage.text));
  }

  input(i: Input): Out {
    const out = this.session.input(i, this.now);
    this.wake = out.wake;
    this.sent.push(...out.frames);
    for (const _ of out.frames) this.sentAt.push(this.now);
    this.save();
    if (out.catchup !== null) this.catchups.push(out.catchup);
    if (this.connected) {
      for (const f of out.frames) {
        const answer = this.server.handle(this, f);
        if (!this.deaf) this.deliver(answer);
      }
    }
    return out;
  }

  deliver(frames: ServerFrame[]): void {
    if (!this.connected || this.deaf) return;
    for (const frame of frames) this.input({ t: "frame", frame });
  }

  connect(): Out {
    this.connected = true;
    this.deaf = false;
    this.server.tabs.add(this);
    return this.input({ t: "open", stored: restore(this.storage.text) });
  }

  drop(): void {
    this.connected = false;
    this.server.tabs.delete(this);
    this.input({ t: "closed" });
  }

  /** Move the clock, waking the session whenever it asked to be woken. */
  wait(ms: number): void {
    const end = this.now + ms;
    while (this.wake !== null && this.wake <= end) {
      this.now = Math.max(this.now, this.wake);
      this.input({ t: "tick" });
    }
    this.now = end;
  }

  send(n: number, text = `visitor ${n}`): Out {
    return this.input({ t: "send", cid: cid(n), text });
  }

  save(): void {
    this.storage.text = JSON.stringify(merge(restore(this.storage.text), this.session.snapshot()));
  }

  texts(): string[] {
    return this.session.view().bubbles.map((b) => `${b.from}:${b.text}:${b.state}`);
  }

  framesOf<T extends ClientFrame["type"]>(type: T): Extract<ClientFrame, { type: T }>[] {
    return this.sent.filter((f): f is Extract<ClientFrame, { type: T }> => f.type === type);
  }
}

export function storedOf(tab: Tab): Stored {
  const s = restore(tab.storage.text);
  if (!s) throw new Error("nothing stored");
  return s;
}
