import assert from "node:assert/strict";
import { test } from "node:test";
import { parseConfig, parseFrame } from "../src/frames";

test("frames that are not JSON objects with a known type are dropped", () => {
  for (const text of ["", "{", "[]", "null", '"welcome"', "{}", '{"type":"nope"}', '{"type":1}']) {
    assert.equal(parseFrame(text), null, text);
  }
});

test("a frame missing what its type needs is dropped", () => {
  for (const text of [
    '{"type":"welcome","seq":1}',
    '{"type":"welcome","token":"t","seq":-1}',
    '{"type":"event","kind":"message"}',
    '{"type":"event","seq":0,"kind":"message"}',
    '{"type":"event","seq":1.5,"kind":"message"}',
    '{"type":"ack","cid":"x"}',
    '{"type":"ack","seq":3}',
    '{"type":"typing"}',
    '{"type":"read","seq":"4"}',
    '{"type":"presence","expect":"soon"}',
  ]) {
    assert.equal(parseFrame(text), null, text);
  }
});

test("an event's fields are checked one by one and an unknown kind keeps its seq", () => {
  const f = parseFrame(
    JSON.stringify({
      type: "event",
      seq: 7,
      kind: "something_new",
      from: "hacker",
      text: 42,
      cid: "<script>",
      attachments: [{ name: "a.pdf", url: "/f/1", size: 10, type: "application/pdf" }, { url: 5 }],
    }),
  );
  assert.ok(f && f.type === "event");
  assert.equal(f.event.seq, 7);
  assert.equal(f.event.kind, "something_new");
  assert.equal(f.event.from, "system");
  assert.equal(f.event.text, "");
  assert.equal(f.event.cid, null);
  assert.deepEqual(f.event.attachments, [{ name: "a.pdf", url: "/f/1", size: 10, type: "application/pdf" }]);
});

test("branding falls back to the defaults, and the avatar must be https", () => {
  const c = parseConfig({ color: "red", position: "top", prechat: "maybe", avatar_url: "javascript:alert(1)", greeting: "" })!;
  assert.equal(c.color, "#2563eb");
  assert.equal(c.position, "right");
  assert.equal(c.prechat, "optional");
  assert.equal(c.avatar_url, "");
  assert.equal(c.greeting, "", "an empty greeting is the business's choice");
  const d = parseConfig({ color: "#AA0011", position: "left", prechat: "off", avatar_url: "https://cdn.example/a.png" })!;
  assert.deepEqual([d.color, d.position, d.prechat, d.avatar_url], ["#AA0011", "left", "off", "https://cdn.example/a.png"]);
});

test("a welcome, an ack and an error come through whole", () => {
  const w = parseFrame(
    JSON.stringify({
      type: "welcome",
      token: "tok",
      seq: 3,
      online: false,
      expect: "Monday",
      visitor: { name: "Ana", email: null, verified: true },
      config: { color: "#000000" },
    }),
  );
  assert.ok(w && w.type === "welcome");
  assert.deepEqual(
    [w.token, w.seq, w.online, w.expect, w.visitor.name, w.visitor.verified],
    ["tok", 3, false, "Monday", "Ana", true],
  );
  assert.equal(w.config!.color, "#000000");
  assert.deepEqual(parseFrame('{"type":"ack","cid":"abc","seq":4}'), { type: "ack", cid: "abc", seq: 4 });
  assert.deepEqual(parseFrame('{"type":"error","code":"rate_limited","message":"slow down","cid":"abc"}'), {
    type: "error",
    code: "rate_limited",
    message: "slow down",
    cid: "abc",
  });
});
