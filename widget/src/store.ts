/* What survives a reload: the session token, how far this browser got (seq and the
 * read marks), the messages not yet acknowledged, and the recent events to draw at
 * once on the next page.
 *
 * Every tab of the site shares one localStorage key but keeps its own socket, so a
 * write never overwrites what another tab put there: it merges. Other scripts on the
 * page can write the key too, so reading it checks everything like a server frame. */

import { CID, type ChatEvent, parseEvent, type Upload } from "./frames";

/** A message the visitor wrote that the server has not acknowledged yet. */
export interface Pending {
  cid: string;
  text: string;
  files: Upload[];
  at: number; // when it was written (ms since the epoch): the outbox's order
}

export interface Stored {
  v: 1;
  token: string | null;
  seq: number; // the newest event applied
  read: number; // the visitor has seen every event up to here
  readSent: number; // ...and the server has been told up to here
  agentRead: number; // an agent has read up to here
  prechat: boolean; // the pre-chat form was sent or skipped
  csat: number; // the seq of the resolved event a rating was sent for
  outbox: Pending[];
  done: string[]; // recently acknowledged cids, so a merge never brings one back
  events: ChatEvent[];
}

export const MAX_OUTBOX = 50;
export const MAX_TEXT = 5000;
const KEEP_EVENTS = 100;
const KEEP_DONE = 50;
const KEEP_BYTES = 200_000; // localStorage is ~5 MB per site, and the page needs it too

export function empty(): Stored {
  return {
    v: 1,
    token: null,
    seq: 0,
    read: 0,
    readSent: 0,
    agentRead: 0,
    prechat: false,
    csat: 0,
    outbox: [],
    done: [],
    events: [],
  };
}

type Obj = Record<string, unknown>;

function nat(v: unknown): number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : 0;
}

function upload(v: unknown): Upload | null {
  const o = v as Obj;
  if (typeof o !== "object" || o === null) return null;
  const { id, name, type } = o;
  if (typeof id !== "string" || typeof name !== "string" || typeof type !== "string") return null;
  if (id.length > 64 || name.length > 300 || type.length > 200) return null;
  return { id, name, type, size: nat(o.size) };
}

function pending(v: unknown): Pending | null {
  const o = v as Obj;
  if (typeof o !== "object" || o === null) return null;
  const { cid, text, files } = o;
  if (typeof cid !== "string" || !CID.test(cid)) return null;
  if (typeof text !== "string" || !text || text.length > MAX_TEXT) return null;
  const ups = Array.isArray(files) ? files.slice(0, 5).map(upload) : [];
  if (ups.some((u) => u === null)) return null;
  return { cid, text, files: ups as Upload[], at: nat(o.at) };
}

/** The stored state from localStorage's text, or null when there is none we can use. */
export function restore(text: string | null): Stored | null {
  if (!text) return null;
  let o: Obj;
  try {
    o = JSON.parse(text) as Obj;
  } catch {
    return null;
  }
  if (typeof o !== "object" || o === null || o.v !== 1) return null;
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const s = empty();
  s.token = typeof o.token === "string" && o.token.length <= 256 ? o.token : null;
  s.seq = nat(o.seq);
  s.read = Math.min(nat(o.read), s.seq);
  s.readSent = Math.min(nat(o.readSent), s.seq);
  s.agentRead = nat(o.agentRead);
  s.prechat = o.prechat === true;
  s.csat = nat(o.csat);
  s.outbox = list(o.outbox)
    .slice(0, MAX_OUTBOX)
    .map(pending)
    .filter((p): p is Pending => p !== null);
  s.done = list(o.done)
    .filter((c): c is string => typeof c === "string" && CID.test(c))
    .slice(-KEEP_DONE);
  s.events = list(o.events)
    .slice(-KEEP_EVENTS)
    .map(parseEvent)
    .filter((e): e is ChatEvent => e !== null && e.seq <= s.seq);
  return s;
}

/** `mine` with what another tab stored since. Two different tokens mean two
 * different visitors (the server started a new one): then only `mine`'s transcript
 * and marks count, but the unsent messages of both are kept, since the same person
 * wrote them in this browser. A null token is nobody's yet, so it joins either. */
export function merge(other: Stored | null, mine: Stored): Stored {
  if (!other) return trim(mine);
  const same = mine.token === null || other.token === null || mine.token === other.token;
  const base = same ? other : empty();
  const events = joinEvents(mine, base);
  const last = events[events.length - 1];
  const seq = Math.max(mine.seq, last ? last.seq : 0);
  const done = [...new Set([...base.done, ...mine.done])].slice(-KEEP_DONE);
  const gone = new Set<string>(done);
  for (const e of events) if (e.cid) gone.add(e.cid);
  const byCid = new Map<string, Pending>();
  for (const p of [...mine.outbox, ...other.outbox]) {
    if (!gone.has(p.cid) && !byCid.has(p.cid)) byCid.set(p.cid, p);
  }
  const outbox = [...byCid.values()]
    .sort((a, b) => a.at - b.at || (a.cid < b.cid ? -1 : 1))
    .slice(0, MAX_OUTBOX);
  return trim({
    v: 1,
    token: mine.token ?? other.token,
    seq,
    read: Math.min(seq, Math.max(mine.read, base.read)),
    readSent: Math.min(seq, Math.max(mine.readSent, base.readSent)),
    agentRead: Math.max(mine.agentRead, base.agentRead),
    prechat: mine.prechat || other.prechat,
    csat: Math.max(mine.csat, base.csat),
    outbox,
    done,
    events,
  });
}

/** Both tabs' events when they join without a hole; else only the longer run, since a
 * hole in the middle of a transcript would be a lie (the socket fills it in later). */
function joinEvents(a: Stored, b: Stored): ChatEvent[] {
  const [lo, hi] = a.seq <= b.seq ? [a, b] : [b, a];
  const first = hi.events[0];
  if (!first) return lo.events.slice();
  if (first.seq > lo.seq + 1) return hi.events.slice();
  const bySeq = new Map<number, ChatEvent>();
  for (const e of [...lo.events, ...hi.events]) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq);
}

function trim(s: Stored): Stored {
  let events = s.events.slice(-KEEP_EVENTS);
  while (events.length && JSON.stringify(events).length > KEEP_BYTES) {
    events = events.slice(Math.ceil(events.length / 4));
  }
  return { ...s, events };
}
