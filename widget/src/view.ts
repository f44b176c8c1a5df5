/* What the visitor should see, derived from the session: the bubbles in order (stored
 * events by seq, then the ones still in the outbox), "Seen", who is typing, the unread
 * count, and which form to show. Pure, so the drawing code decides nothing. */

import type { Attachment, Config, From, Prechat, Visitor } from "./frames";
import type { Session } from "./protocol";

export type BubbleState = "stored" | "sending" | "sent" | "failed";

export interface Bubble {
  key: string; // the cid when there is one, so a bubble keeps its key once stored
  seq: number; // 0 while not stored
  kind: "message" | "resolved";
  from: From;
  author: string | null;
  text: string;
  at: string;
  files: { name: string; type: string; size: number; url: string | null }[];
  state: BubbleState;
  seen: boolean; // the last visitor message, read by an agent
}

export interface View {
  bubbles: Bubble[];
  typing: string | null; // the typing agent's name ("" if unnamed), or null
  unread: number;
  live: boolean;
  online: boolean;
  expect: string;
  visitor: Visitor;
  config: Config | null;
  prechat: Prechat | null; // the form to show now, or null
  askEmail: boolean; // offline and no email to answer to
  csat: "ask" | "thanks" | null;
}

/** Messages from the business the visitor has not seen. */
export function unread(s: Session): number {
  return s.events.filter((e) => e.seq > s.read && e.kind === "message" && e.from !== "visitor").length;
}

export function view(s: Session): View {
  const bubbles: Bubble[] = [];
  let lastVisitor: Bubble | null = null;
  // A resolved chat asks for a rating until one is sent or recorded, and a new
  // message from either side reopens it.
  let ending: "ask" | "thanks" | null = null;
  for (const e of s.events) {
    if (e.kind === "csat") ending = "thanks";
    if (e.kind === "resolved") ending = s.csatSent >= e.seq ? "thanks" : "ask";
    if (e.kind === "message" && e.from !== "system") ending = null;
    if (e.kind !== "message" && e.kind !== "resolved") continue;
    const b: Bubble = {
      key: e.cid ? `c${e.cid}` : `s${e.seq}`,
      seq: e.seq,
      kind: e.kind,
      from: e.from,
      author: e.author,
      text: e.text,
      at: e.at,
      files: e.attachments.map((a: Attachment) => ({ ...a })),
      state: "stored",
      seen: false,
    };
    bubbles.push(b);
    if (e.kind === "message" && e.from === "visitor") lastVisitor = b;
  }
  if (lastVisitor && lastVisitor.seq <= s.agentRead) lastVisitor.seen = true;
  for (const o of s.outbox) {
    bubbles.push({
      key: `c${o.cid}`,
      seq: 0,
      kind: "message",
      from: "visitor",
      author: null,
      text: o.text,
      at: new Date(o.at).toISOString(),
      files: o.files.map((u) => ({ name: u.name, type: u.type, size: u.size, url: null })),
      state: o.failed ? "failed" : o.acked ? "sent" : "sending",
      seen: false,
    });
  }
  const mode = s.config ? s.config.prechat : "off";
  const started = s.events.length > 0 || s.outbox.length > 0;
  const form = mode !== "off" && !s.prechatDone && !s.visitor.email && !started;
  return {
    bubbles,
    typing: s.agentTyping ? s.agentTyping.name : null,
    unread: unread(s),
    live: s.live,
    online: s.online,
    expect: s.expect,
    visitor: s.visitor,
    config: s.config,
    prechat: form ? mode : null,
    askEmail: !s.online && !s.visitor.email,
    csat: ending,
  };
}
