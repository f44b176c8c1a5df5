/* Small pure rules the state machine, the connection and the screen share: how long
 * to wait before reconnecting, what text the server takes, which files it takes. */

import { FILE_TYPES, MAX_FILE } from "./frames";

/** The wait before reconnect attempt n (0-based): doubling from 1 s up to 30 s, with
 * "equal jitter" so a server restart is not met by every widget in the same second. */
export function backoff(attempt: number, random: number): number {
  const base = Math.min(30000, 1000 * 2 ** Math.min(attempt, 15));
  return Math.round(base / 2 + (base / 2) * random);
}

/** Text as the server takes it: newlines as \n, no control characters or broken
 * surrogate pairs (each would cost 6 bytes of JSON escape against the frame limit). */
export function clean(text: string): string {
  let s = "";
  const t = text.replace(/\r\n?/g, "\n");
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = t.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) s += t[i]! + t[++i]!;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      continue;
    } else if (c >= 0x20 ? c !== 0x7f : c === 10 || c === 9) {
      s += t[i];
    }
  }
  return s.trim();
}

/** Why a file cannot be sent, checked before any upload; null when it can. */
export function fileProblem(f: { type: string; size: number }): string | null {
  if (!FILE_TYPES.includes(f.type)) return "Only images, PDF and plain text files can be sent.";
  if (f.size > MAX_FILE) return "Files can be at most 10 MB.";
  if (f.size === 0) return "That file is empty.";
  return null;
}

