/* The frames of docs/widget.md, and the one place a server frame is checked.
 *
 * Whatever arrives on the socket or from a REST answer is untrusted: a frame that
 * does not have the shape its type promises becomes null here, so the state machine
 * only ever sees well-formed frames. Every frame carries its name in `type`. */

export type From = "visitor" | "agent" | "system";
export type Prechat = "off" | "optional" | "required";

/** A file as the server lists it on a message event. */
export interface Attachment {
  name: string;
  type: string;
  size: number;
  url: string;
}

/** A stored upload (POST /widget/attachments); its id goes in a send frame. */
export interface Upload {
  id: string;
  name: string;
  type: string;
  size: number;
}

export interface Visitor {
  name: string | null;
  email: string | null;
  verified: boolean;
}

/** Branding, as GET /widget/config and the welcome frame give it. */
export interface Config {
  name: string;
  color: string;
  greeting: string;
  avatar_url: string;
  position: "right" | "left";
  prechat: Prechat;
}

export interface Identity {
  user_id: string;
  email: string;
  name?: string;
  hash: string;
}

export interface ChatEvent {
  seq: number;
  kind: string; // message | resolved | csat; an unknown kind still takes its seq
  at: string;
  id: string | null;
  cid: string | null;
  from: From;
  text: string;
  author: string | null;
  attachments: Attachment[];
  score: number | null;
  comment: string | null;
}

export interface Welcome {
  type: "welcome";
  token: string;
  visitor: Visitor;
  seq: number;
  online: boolean;
  expect: string;
  config: Config | null;
}

export type ServerFrame =
  | Welcome
  | { type: "event"; event: ChatEvent }
  | { type: "ack"; cid: string; seq: number }
  | { type: "typing"; on: boolean; name: string | null }
  | { type: "read"; seq: number }
  | { type: "presence"; online: boolean; expect: string }
  | { type: "error"; code: string; message: string; cid: string | null }
  | { type: "pong" };

export type ClientFrame =
  | { type: "hello"; v: 1; token?: string; since: number; identity?: Identity; continue?: string }
  | { type: "send"; cid: string; text: string; attachments?: string[] }
  | { type: "typing"; on: boolean }
  | { type: "read"; seq: number }
  | { type: "profile"; name?: string; email?: string }
  | { type: "csat"; score: number; comment?: string }
  | { type: "transcript"; email?: string }
  | { type: "ping" };

export const DEFAULT_CONFIG: Config = {
  name: "",
  color: "#2563eb",
  greeting: "Hi! How can we help?",
  avatar_url: "",
  position: "right",
  prechat: "optional",
};

// What POST /widget/attachments takes (it sniffs the bytes again; this only spares
// the visitor an upload that would be refused).
export const FILE_TYPES = [
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "application/pdf",
  "text/plain",
];
export const MAX_FILE = 10 * 1024 * 1024;

type Obj = Record<string, unknown>;

const MAX_TEXT = 20000; // a bound for any one string the server sends us
const MAX_ATTACHMENTS = 20;
export const CID = /^[A-Za-z0-9_-]{16,64}$/;
const COLOR = /^#[0-9a-fA-F]{6}$/;

function obj(v: unknown): Obj | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : null;
}

function str(v: unknown, max = MAX_TEXT): string | null {
  return typeof v === "string" && v.length <= max ? v : null;
}

function nat(v: unknown): number | null {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : null;
}

function attachment(v: unknown): Attachment | null {
  const o = obj(v);
  if (!o) return null;
  const name = str(o.name, 300);
  const url = str(o.url, 2000);
  if (name === null || url === null) return null;
  return { name, url, type: str(o.type, 200) || "", size: nat(o.size) || 0 };
}

/** An event as the event frame and GET /widget/events carry it. */
export function parseEvent(v: unknown): ChatEvent | null {
  const o = obj(v);
  if (!o) return null;
  const seq = nat(o.seq);
  const kind = str(o.kind, 32);
  if (!seq || kind === null) return null;
  const from = o.from === "visitor" || o.from === "agent" ? o.from : "system";
  const files = Array.isArray(o.attachments) ? o.attachments.slice(0, MAX_ATTACHMENTS) : [];
  const score = nat(o.score);
  const cid = str(o.cid, 64);
  return {
    seq,
    kind,
    at: str(o.at, 64) || "",
    id: str(o.id, 64),
    cid: cid && CID.test(cid) ? cid : null,
    from,
    text: str(o.text) || "",
    author: str(o.author, 200),
    attachments: files.map(attachment).filter((a): a is Attachment => a !== null),
    score: score !== null && score >= 1 && score <= 5 ? score : null,
    comment: str(o.comment, 2000),
  };
}

export function parseConfig(v: unknown): Config | null {
  const o = obj(v);
  if (!o) return null;
  const d = DEFAULT_CONFIG;
  const color = str(o.color, 7);
  const avatar = str(o.avatar_url, 500);
  const prechat = o.prechat;
  return {
    name: str(o.name, 200) || d.name,
    color: color && COLOR.test(color) ? color : d.color,
    greeting: str(o.greeting, 300) ?? d.greeting,
    // Only https: a page's image must not become a request to anything else.
    avatar_url: avatar && /^https:\/\//.test(avatar) ? avatar : "",
    position: o.position === "left" ? "left" : "right",
    prechat: prechat === "off" || prechat === "required" ? prechat : d.prechat,
  };
}

function visitor(v: unknown): Visitor {
  const o = obj(v) || {};
  return { name: str(o.name, 200), email: str(o.email, 320), verified: o.verified === true };
}

/** A welcome frame or the POST /widget/session body (which has no `type`). */
export function parseWelcome(o: Obj): Welcome | null {
  const token = str(o.token, 256);
  const seq = nat(o.seq);
  if (!token || seq === null) return null;
  return {
    type: "welcome",
    token,
    seq,
    visitor: visitor(o.visitor),
    online: o.online !== false,
    expect: str(o.expect, 500) || "",
    config: parseConfig(o.config),
  };
}

/** A server frame from JSON text, or null when it is not one we understand. */
export function parseFrame(text: string): ServerFrame | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  return frameOf(data);
}

export function frameOf(data: unknown): ServerFrame | null {
  const o = obj(data);
  if (!o) return null;
  switch (o.type) {
    case "welcome":
      return parseWelcome(o);
    case "event": {
      const event = parseEvent(o);
      return event && { type: "event", event };
    }
    case "ack": {
      const cid = str(o.cid, 64);
      const seq = nat(o.seq);
      return cid && seq ? { type: "ack", cid, seq } : null;
    }
    case "typing":
      return typeof o.on === "boolean" ? { type: "typing", on: o.on, name: str(o.name, 200) } : null;
    case "read": {
      const seq = nat(o.seq);
      return seq === null ? null : { type: "read", seq };
    }
    case "presence":
      return typeof o.online === "boolean"
        ? { type: "presence", online: o.online, expect: str(o.expect, 500) || "" }
        : null;
    case "error":
      return {
        type: "error",
        code: str(o.code, 32) || "invalid",
        message: str(o.message, 500) || "",
        cid: str(o.cid, 64),
      };
    case "pong":
      return { type: "pong" };
    default:
      return null;
  }
}
