import assert from "node:assert/strict";
import { test } from "node:test";
import { backoff, clean, fileProblem } from "../src/rules";

test("backoff doubles up to 30 s and jitters within half of it", () => {
  assert.equal(backoff(0, 0), 500);
  assert.equal(backoff(0, 1), 1000);
  assert.equal(backoff(3, 0), 4000);
  assert.equal(backoff(3, 1), 8000);
  assert.equal(backoff(50, 1), 30000);
  assert.equal(backoff(50, 0), 15000);
});

test("text is cleaned of control characters and broken surrogates, newlines kept", () => {
  assert.equal(clean("  a\r\nb\u0000c\u0007\td\u007f  "), "a\nbc\td");
  assert.equal(clean("x\ud800y\udc00z\ud83d\ude00"), "xyz\ud83d\ude00");
});

test("files are checked for type and size before any upload", () => {
  assert.equal(fileProblem({ type: "image/png", size: 1000 }), null);
  assert.equal(fileProblem({ type: "application/pdf", size: 10 * 1024 * 1024 }), null);
  assert.match(fileProblem({ type: "application/zip", size: 10 }) || "", /images, PDF/);
  assert.match(fileProblem({ type: "text/plain", size: 10 * 1024 * 1024 + 1 }) || "", /10 MB/);
  assert.match(fileProblem({ type: "text/plain", size: 0 }) || "", /empty/);
});
