import assert from "node:assert/strict";
import { test } from "node:test";
import { empty, merge, restore, type Stored } from "../src/store";
import { agentEvent, cid } from "./harness";

function state(over: Partial<Stored>): Stored {
  return { ...empty(), token: "token-0123456789", ...over };
}

function pending(n: number, at = n) {
  return { cid: cid(n), text: `m${n}`, files: [], at };
}

test("a write keeps the unsent messages another tab stored, in the order written", () => {
  const other = state({ outbox: [pending(2, 20)] });
  const mine = state({ outbox: [pending(1, 10), pending(3, 30)] });
  assert.deepEqual(merge(other, mine).outbox.map((p) => p.cid), [cid(1), cid(2), cid(3)]);
});

test("a message acknowledged or stored is not brought back by another tab's older copy", () => {
  const other = state({ outbox: [pending(1), pending(2)] });
  const stored = { ...agentEvent(1), from: "visitor" as const, cid: cid(2) };
  const mine = state({ seq: 1, events: [stored], done: [cid(1)] });
  assert.deepEqual(merge(other, mine).outbox, []);
});

test("transcripts join when they meet, and the higher seq wins", () => {
  const other = state({ seq: 3, events: [agentEvent(1), agentEvent(2), agentEvent(3)], read: 3 });
  const mine = state({ seq: 2, events: [agentEvent(1), agentEvent(2)], agentRead: 2 });
  const m = merge(other, mine);
  assert.equal(m.seq, 3);
  assert.deepEqual(m.events.map((e) => e.seq), [1, 2, 3]);
  assert.equal(m.read, 3);
  assert.equal(m.agentRead, 2);
});

test("a transcript with a hole against ours is not joined into one", () => {
  const other = state({ seq: 9, events: [agentEvent(8), agentEvent(9)] });
  const mine = state({ seq: 2, events: [agentEvent(1), agentEvent(2)] });
  assert.deepEqual(merge(other, mine).events.map((e) => e.seq), [8, 9]);
  assert.deepEqual(merge(mine, other).events.map((e) => e.seq), [8, 9]);
});

test("another visitor's token: only ours counts, but both tabs' unsent messages stay", () => {
  const other = state({ token: "someone-else-000", seq: 5, events: [agentEvent(5)], outbox: [pending(1)] });
  const mine = state({ seq: 1, events: [agentEvent(1)] });
  const m = merge(other, mine);
  assert.equal(m.token, mine.token);
  assert.equal(m.seq, 1);
  assert.deepEqual(m.outbox.map((p) => p.cid), [cid(1)]);
});

test("what is stored stays bounded: recent events only, under the byte budget", () => {
  const events = Array.from({ length: 300 }, (_, i) => agentEvent(i + 1, "x".repeat(3000)));
  const m = merge(null, state({ seq: 300, events }));
  assert.ok(m.events.length <= 100);
  assert.ok(JSON.stringify(m).length < 250_000);
  assert.equal(m.events[m.events.length - 1]!.seq, 300);
});

test("restore survives anything another script left under the key", () => {
  for (const junk of ["", "not json", "null", "[]", "42", '{"v":2}', '{"v":1,"seq":"x","outbox":{}}']) {
    const s = restore(junk);
    assert.ok(s === null || (s.seq === 0 && s.outbox.length === 0), junk);
  }
  const s = restore(
    JSON.stringify({
      v: 1,
      token: "t".repeat(20),
      seq: 2,
      read: 99,
      outbox: [pending(1), { cid: "bad id!", text: "x" }, { cid: cid(2), text: "" }, { cid: cid(3), text: 5 }],
      events: [agentEvent(1), { seq: "2" }, agentEvent(7)],
    }),
  )!;
  assert.equal(s.read, 2, "marks never run past seq");
  assert.deepEqual(s.outbox.map((p) => p.cid), [cid(1)]);
  assert.deepEqual(s.events.map((e) => e.seq), [1]);
});
