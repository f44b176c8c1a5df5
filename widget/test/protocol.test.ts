import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_CONFIG } from "../src/frames";
import { ACK_TIMEOUT, RATE_RETRY, Session, TYPING_EVERY } from "../src/protocol";
import { restore } from "../src/store";
import { agentEvent, cid, FakeServer, T0, Tab, welcomeFrame } from "./harness";

test("messages written offline are sent on connect, one at a time, in order, and shown once", () => {
  const server = new FakeServer();
  const tab = new Tab(server);
  tab.send(1);
  tab.send(2);
  assert.deepEqual(tab.texts(), ["visitor:visitor 1:sending", "visitor:visitor 2:sending"]);
  assert.equal(tab.framesOf("send").length, 0);
  tab.connect();
  assert.deepEqual(
    server.received.filter((f) => f.type === "send").map((f) => f.type === "send" && f.cid),
    [cid(1), cid(2)],
  );
  assert.deepEqual(tab.texts(), ["visitor:visitor 1:stored", "visitor:visitor 2:stored"]);
  assert.equal(tab.session.outbox.length, 0);
});

test("an unacked message is sent again after a reconnect, and its second ack and event change nothing", () => {
  const server = new FakeServer();
  const tab = new Tab(server);
  tab.connect();
  tab.deaf = true; // the server stores the message, but its ack and event are lost
  tab.send(1);
  assert.equal(server.seq, 1);
  assert.deepEqual(tab.texts(), ["visitor:visitor 1:sending"]);
  tab.drop();
  tab.connect(); // hello since 0: the event comes back, then the resend is acked
  assert.deepEqual(tab.texts(), ["visitor:visitor 1:stored"]);
  assert.equal(server.seq, 1, "the server stored it once");
  // The same event and ack again (another replay) are ignored.
  const again = server.events[0]!;
  tab.deliver([{ type: "event", event: again }, { type: "ack", cid: cid(1), seq: 1 }]);
  assert.deepEqual(tab.texts(), ["visitor:visitor 1:stored"]);
});

test("a resend acked with an earlier seq settles the bubble when its event was applied already", () => {
  const s = new Session();
  s.input({ t: "open" }, T0);
  s.input({ t: "frame", frame: welcomeFrame("t".repeat(20), 0) }, T0);
  s.input({ t: "send", cid: cid(1), text: "hi" }, T0);
  const stored = { ...agentEvent(1, "hi"), from: "visitor" as const, cid: cid(1) };
  s.input({ t: "frame", frame: { type: "event", event: stored } }, T0);
  s.input({ t: "frame", frame: { type: "ack", cid: cid(1), seq: 1 } }, T0);
  assert.deepEqual(
    s.view().bubbles.map((b) => [b.key, b.state]),
    [[`c${cid(1)}`, "stored"]],
  );
});

test("an ack before its event shows the message as sent, then as stored, never twice", () => {
  const s = new Session();
  s.input({ t: "open" }, T0);
  s.input({ t: "frame", frame: welcomeFrame("t".repeat(20), 0) }, T0);
  s.input({ t: "send", cid: cid(1), text: "hi" }, T0);
  s.input({ t: "frame", frame: { type: "ack", cid: cid(1), seq: 1 } }, T0);
  assert.deepEqual(s.view().bubbles.map((b) => b.state), ["sent"]);
  const stored = { ...agentEvent(1, "hi"), from: "visitor" as const, cid: cid(1) };
  s.input({ t: "frame", frame: { type: "event", event: stored } }, T0);
  assert.deepEqual(s.view().bubbles.map((b) => b.state), ["stored"]);
});

test("a reconnect says hello with the last seq and gets exactly what it missed", () => {
  const server = new FakeServer();
  const tab = new Tab(server);
  tab.connect();
  server.agentSays("one");
  server.agentSays("two");
  tab.drop();
  server.agentSays("three");
  server.agentSays("four");
  tab.connect();
  const hellos = tab.framesOf("hello");
  assert.equal(hellos.length, 2);
  assert.equal(hellos[1]!.since, 2);
  assert.equal(hellos[1]!.token, server.token);
  assert.deepEqual(
    tab.session.events.map((e) => e.text),
    ["one", "two", "three", "four"],
  );
});

test("a hole in the seqs asks for a catch-up from the last applied seq, then applies in order", () => {
  const s = new Session();
  s.input({ t: "open" }, T0);
  s.input({ t: "frame", frame: welcomeFrame("t".repeat(20), 0) }, T0);
  s.input({ t: "frame", frame: { type: "event", event: agentEvent(1) } }, T0);
  const out = s.input({ t: "frame", frame: { type: "event", event: agentEvent(4) } }, T0);
  assert.equal(out.catchup, 1);
  assert.equal(s.seq, 1, "nothing past the hole is applied");
  // A second event past the hole does not ask again while the first catch-up runs.
  assert.equal(s.input({ t: "frame", frame: { type: "event", event: agentEvent(5) } }, T0).catchup, null);
  s.input({ t: "events", events: [agentEvent(3), agentEvent(2), agentEvent(4)], seq: 5 }, T0);
  assert.deepEqual(s.events.map((e) => e.seq), [1, 2, 3, 4, 5]);
});

test("a catch-up that still leaves a hole asks again only if it made progress", () => {
  const s = new Session();
  s.input({ t: "open" }, T0);
  s.input({ t: "frame", frame: welcomeFrame("t".repeat(20), 0) }, T0);
  assert.equal(s.input({ t: "frame", frame: { type: "event", event: agentEvent(5) } }, T0).catchup, 0);
  const more = s.input({ t: "events", events: [agentEvent(1), agentEvent(2)], seq: 5 }, T0);
  assert.equal(more.catchup, 2);
  const stuck = s.input({ t: "events", events: [], seq: 5 }, T0);
  assert.equal(stuck.catchup, null);
  assert.deepEqual(s.events.map((e) => e.seq), [1, 2]);
});

test("duplicate and old event frames are ignored", () => {
  const s = new Session();
  for (const seq of [1, 2, 2, 1, 3, 2, 3]) {
    s.input({ t: "frame", frame: { type: "event", event: agentEvent(seq) } }, T0);
  }
  assert.deepEqual(s.events.map((e) => e.seq), [1, 2, 3]);
  assert.deepEqual(s.view().bubbles.map((b) => b.text), ["agent 1", "agent 2", "agent 3"]);
});

test("an event that arrives before the one it follows waits for it", () => {
  const s = new Session();
  s.input({ t: "frame", frame: { type: "event", event: agentEvent(1) } }, T0);
  s.input({ t: "frame", frame: { type: "event", event: agentEvent(3) } }, T0);
  s.input({ t: "frame", frame: { type: "event", event: agentEvent(2) } }, T0);
  assert.deepEqual(s.events.map((e) => e.seq), [1, 2, 3]);
});

test("the outbox survives a reload: the new page sends the same cid, stored once", () => {
  const server = new FakeServer();
  const storage = { text: null as string | null };
  const first = new Tab(server, storage);
  first.connect();
  first.deaf = true;
  first.send(1, "lost in transit?");
  first.drop();
  first.send(2, "written offline");
  const reloaded = new Tab(server, storage);
  assert.deepEqual(reloaded.texts(), [
    "visitor:lost in transit?:sending",
    "visitor:written offline:sending",
  ]);
  reloaded.connect();
  assert.deepEqual(reloaded.texts(), [
    "visitor:lost in transit?:stored",
    "visitor:written offline:stored",
  ]);
  assert.equal(server.seq, 2);
  assert.equal(restore(storage.text)!.outbox.length, 0);
});

test("a reload keeps the transcript and asks only for what came after it", () => {
  const server = new FakeServer();
  const storage = { text: null as string | null };
  const first = new Tab(server, storage);
  first.connect();
  server.agentSays("before");
  first.drop();
  server.agentSays("after");
  const reloaded = new Tab(server, storage);
  assert.deepEqual(reloaded.texts(), ["agent:before:stored"]);
  reloaded.connect();
  assert.equal(reloaded.framesOf("hello")[0]!.since, 1);
  assert.deepEqual(reloaded.texts(), ["agent:before:stored", "agent:after:stored"]);
});

test("two tabs, each with its own socket, converge on the same transcript", () => {
  const server = new FakeServer();
  const storage = { text: null as string | null };
  const a = new Tab(server, storage);
  a.connect();
  const b = new Tab(server, storage);
  b.connect();
  a.send(1, "from tab a");
  server.agentSays("hello both");
  b.drop();
  b.send(2, "from tab b, offline");
  server.agentSays("while b was away");
  a.send(3, "from tab a again");
  b.connect();
  assert.deepEqual(a.texts(), b.texts());
  assert.deepEqual(a.texts(), [
    "visitor:from tab a:stored",
    "agent:hello both:stored",
    "agent:while b was away:stored",
    "visitor:from tab a again:stored",
    "visitor:from tab b, offline:stored",
  ]);
  assert.equal(server.seq, 5);
});

test("a tab without a session takes another tab's token and unsent messages when it connects", () => {
  const server = new FakeServer();
  const storage = { text: null as string | null };
  const a = new Tab(server, storage); // opened before any chat existed
  const b = new Tab(server, storage);
  b.connect();
  b.drop();
  b.send(1, "queued in b");
  b.storage.text = storage.text;
  a.connect();
  assert.equal(a.framesOf("hello")[0]!.token, server.token);
  assert.deepEqual(a.texts(), ["visitor:queued in b:stored"]);
  assert.equal(server.seq, 1);
});

test("a welcome with another token starts a new transcript and fetches its history", () => {
  const storage = { text: null as string | null };
  const s = new Session();
  s.input({ t: "open" }, T0);
  s.input({ t: "frame", frame: welcomeFrame("a".repeat(20), 0) }, T0);
  s.input({ t: "frame", frame: { type: "event", event: agentEvent(1) } }, T0);
  s.input({ t: "send", cid: cid(9), text: "keep me" }, T0);
  storage.text = JSON.stringify(s.snapshot());
  s.input({ t: "closed" }, T0);
  s.input({ t: "open" }, T0);
  const out = s.input({ t: "frame", frame: welcomeFrame("b".repeat(20), 3) }, T0);
  assert.equal(out.catchup, 0);
  assert.equal(s.seq, 0);
  assert.deepEqual(s.view().bubbles.map((b) => b.text), ["keep me"]);
  assert.equal(out.frames.filter((f) => f.type === "send").length, 1);
});

test("typing frames go out at most once a second, and stop after the visitor does", () => {
  const server = new FakeServer();
  const tab = new Tab(server);
  tab.connect();
  for (let i = 0; i < 40; i++) {
    tab.input({ t: "typed", on: true }); // a key every 150 ms for 6 s
    tab.wait(150);
  }
  tab.wait(10000);
  const typing = tab.sent
    .map((f, i) => [tab.sentAt[i]!, f] as const)
    .filter(([, f]) => f.type === "typing")
    .map(([at, f]) => [at, f.type === "typing" && f.on] as const);
  for (let i = 1; i < typing.length; i++) {
    assert.ok(typing[i]![0] - typing[i - 1]![0] >= TYPING_EVERY, JSON.stringify(typing));
  }
  assert.equal(typing[0]![1], true);
  assert.equal(typing[typing.length - 1]![1], false, "the last word is 'stopped'");
  assert.ok(typing.length <= 6, `6 s of typing sent ${typing.length} frames`);
});

test("no two typing frames are closer than a second, even when the visitor changes their mind", () => {
  const s = new Session();
  s.input({ t: "open" }, T0);
  s.input({ t: "frame", frame: welcomeFrame("t".repeat(20), 0) }, T0);
  const stamps: [number, boolean][] = [];
  let now = T0;
  let wake: number | null = null;
  const run = (i: Parameters<Session["input"]>[0]) => {
    const out = s.input(i, now);
    wake = out.wake;
    for (const f of out.frames) if (f.type === "typing") stamps.push([now, f.on]);
  };
  const script: [number, boolean][] = [
    [0, true], [100, false], [200, true], [250, false], [900, true], [1500, false],
    [1600, true], [5000, true], [5100, false],
  ];
  for (const [t, on] of script) {
    while (wake !== null && wake <= T0 + t) {
      now = wake;
      run({ t: "tick" });
    }
    now = T0 + t;
    run({ t: "typed", on });
  }
  while (wake !== null && wake <= T0 + 20000) {
    now = wake;
    run({ t: "tick" });
  }
  for (let i = 1; i < stamps.length; i++) {
    assert.ok(stamps[i]![0] - stamps[i - 1]![0] >= TYPING_EVERY, JSON.stringify(stamps));
  }
  assert.equal(stamps[stamps.length - 1]![1], false);
});

test("read frames only move forward and only report what the visitor has seen", () => {
  const server = new FakeServer();
  const tab = new Tab(server);
  tab.connect();
  server.agentSays("one");
  assert.equal(tab.framesOf("read").length, 0, "the panel is closed");
  assert.equal(tab.session.unread(), 1);
  tab.input({ t: "visible", on: true });
  server.agentSays("two");
  tab.send(1, "mine"); // the visitor's own message is nothing new to report
  tab.input({ t: "visible", on: false });
  server.agentSays("three");
  tab.input({ t: "visible", on: true });
  tab.input({ t: "visible", on: true });
  const seqs = tab.framesOf("read").map((f) => f.seq);
  assert.deepEqual(seqs, [1, 2, 4]);
  assert.equal(tab.session.unread(), 0);
});

test("'Seen' sits under the last visitor message once an agent's read covers it", () => {
  const server = new FakeServer();
  const tab = new Tab(server);
  tab.connect();
  tab.send(1, "first");
  tab.send(2, "second");
  tab.deliver([{ type: "read", seq: 1 }]);
  assert.deepEqual(tab.session.view().bubbles.map((b) => b.seen), [false, false]);
  tab.deliver([{ type: "read", seq: 2 }, { type: "read", seq: 1 }]);
  assert.deepEqual(tab.session.view().bubbles.map((b) => b.seen), [false, true]);
  assert.equal(tab.session.agentRead, 2);
});

test("a rate-limited message waits, then goes again with the same cid", () => {
  const s = new Session();
  s.input({ t: "open" }, T0);
  s.input({ t: "frame", frame: welcomeFrame("t".repeat(20), 0) }, T0);
  const first = s.input({ t: "send", cid: cid(1), text: "hi" }, T0);
  assert.equal(first.frames.length, 1);
  const limited = s.input(
    { t: "frame", frame: { type: "error", code: "rate_limited", message: "", cid: cid(1) } },
    T0,
  );
  assert.equal(limited.frames.length, 0);
  assert.equal(limited.wake, T0 + RATE_RETRY);
  const again = s.input({ t: "tick" }, T0 + RATE_RETRY);
  assert.deepEqual(again.frames, [{ type: "send", cid: cid(1), text: "hi" }]);
});

test("a message without an ack on a live socket is sent again after the ack timeout", () => {
  const s = new Session();
  s.input({ t: "open" }, T0);
  s.input({ t: "frame", frame: welcomeFrame("t".repeat(20), 0) }, T0);
  const out = s.input({ t: "send", cid: cid(1), text: "hi" }, T0);
  assert.equal(out.wake, T0 + ACK_TIMEOUT);
  assert.equal(s.input({ t: "tick" }, T0 + ACK_TIMEOUT - 1).frames.length, 0);
  assert.equal(s.input({ t: "tick" }, T0 + ACK_TIMEOUT).frames.length, 1);
});

test("a message the server refuses for good is marked failed, not retried and not stored", () => {
  const s = new Session();
  s.input({ t: "open" }, T0);
  s.input({ t: "frame", frame: welcomeFrame("t".repeat(20), 0) }, T0);
  s.input({ t: "send", cid: cid(1), text: "bad" }, T0);
  s.input({ t: "send", cid: cid(2), text: "good" }, T0);
  const out = s.input(
    { t: "frame", frame: { type: "error", code: "invalid", message: "no", cid: cid(1) } },
    T0,
  );
  assert.deepEqual(out.frames, [{ type: "send", cid: cid(2), text: "good" }]);
  assert.deepEqual(s.view().bubbles.map((b) => b.state), ["failed", "sending"]);
  assert.deepEqual(s.snapshot().outbox.map((p) => p.cid), [cid(2)]);
});

test("an identity goes in the hello, a new one says hello again, a refused one is dropped", () => {
  const s = new Session();
  const identity = { user_id: "42", email: "ana@example.com", hash: "ab".repeat(32) };
  const out = s.input({ t: "identify", identity }, T0);
  assert.equal(out.reconnect, true);
  const hello = s.input({ t: "open" }, T0).frames[0]!;
  assert.deepEqual(hello, { type: "hello", v: 1, since: 0, identity });
  s.input({ t: "frame", frame: { type: "error", code: "identity", message: "", cid: null } }, T0);
  assert.deepEqual(s.input({ t: "open" }, T0).frames[0], { type: "hello", v: 1, since: 0 });
});

test("empty, oversized and excess messages are refused with a reason", () => {
  const s = new Session();
  assert.equal(s.input({ t: "send", cid: cid(1), text: " \n\t " }, T0).refused, "empty");
  assert.match(s.input({ t: "send", cid: cid(2), text: "x".repeat(5001) }, T0).refused || "", /5000/);
  assert.equal(s.input({ t: "send", cid: "short", text: "x" }, T0).refused, "bad id");
  for (let i = 10; i < 60; i++) s.input({ t: "send", cid: cid(i), text: "x" }, T0);
  assert.match(s.input({ t: "send", cid: cid(99), text: "x" }, T0).refused || "", /too many/);
  assert.equal(s.outbox.length, 50);
});

test("the agent's typing shows until turned off, their message, or its time-out", () => {
  const s = new Session();
  s.input({ t: "frame", frame: { type: "typing", on: true, name: "Ana" } }, T0);
  assert.equal(s.view().typing, "Ana");
  s.input({ t: "frame", frame: { type: "event", event: agentEvent(1) } }, T0);
  assert.equal(s.view().typing, null);
  const on = s.input({ t: "frame", frame: { type: "typing", on: true, name: null } }, T0);
  assert.equal(s.view().typing, "");
  s.input({ t: "tick" }, on.wake!);
  assert.equal(s.view().typing, null);
});

test("the rating is asked after a resolved event, thanked after it is sent or recorded", () => {
  const s = new Session();
  s.input({ t: "open" }, T0);
  s.input({ t: "frame", frame: welcomeFrame("t".repeat(20), 0) }, T0);
  s.input({ t: "frame", frame: { type: "event", event: agentEvent(1) } }, T0);
  assert.equal(s.view().csat, null);
  const resolved = { ...agentEvent(2), kind: "resolved", from: "system" as const, text: "" };
  s.input({ t: "frame", frame: { type: "event", event: resolved } }, T0);
  assert.equal(s.view().csat, "ask");
  const out = s.input({ t: "csat", score: 4, comment: " quick " }, T0);
  assert.deepEqual(out.frames, [{ type: "csat", score: 4, comment: "quick" }]);
  assert.equal(s.view().csat, "thanks");
  s.input({ t: "frame", frame: { type: "event", event: agentEvent(3) } }, T0);
  assert.equal(s.view().csat, null, "a new message reopens the chat");
});

test("the pre-chat form shows before the first message unless off, skipped or answered", () => {
  const config = {
    ...DEFAULT_CONFIG,
    prechat: "required" as const,
  };
  const s = new Session();
  s.input({ t: "config", config }, T0);
  assert.equal(s.view().prechat, "required");
  const out = s.input({ t: "profile", name: "Ana", email: "ana@example.com" }, T0);
  assert.equal(out.frames.length, 0, "queued until a connection is live");
  assert.equal(s.view().prechat, null);
  s.input({ t: "open" }, T0);
  const live = s.input({ t: "frame", frame: welcomeFrame("t".repeat(20), 0) }, T0);
  assert.deepEqual(live.frames, [{ type: "profile", name: "Ana", email: "ana@example.com" }]);
  const off = new Session();
  off.input({ t: "config", config: { ...config, prechat: "off" } }, T0);
  assert.equal(off.view().prechat, null);
  const skipped = new Session();
  skipped.input({ t: "config", config: { ...config, prechat: "optional" } }, T0);
  skipped.input({ t: "skip" }, T0);
  assert.equal(skipped.view().prechat, null);
});

test("offline: the expected reply time shows and an email is asked until one is known", () => {
  const s = new Session();
  s.input({ t: "open" }, T0);
  s.input({ t: "frame", frame: welcomeFrame("t".repeat(20), 0, false) }, T0);
  let v = s.view();
  assert.equal(v.online, false);
  assert.equal(v.expect, "We're back Monday 9:00");
  assert.equal(v.askEmail, true);
  const out = s.input({ t: "profile", email: "ana@example.com" }, T0);
  assert.deepEqual(out.frames, [{ type: "profile", email: "ana@example.com" }]);
  v = s.view();
  assert.equal(v.askEmail, false);
  s.input({ t: "frame", frame: { type: "presence", online: true, expect: "" } }, T0);
  assert.equal(s.view().online, true);
});
