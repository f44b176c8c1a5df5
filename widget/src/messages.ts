/* The message list. Rows are keyed (by cid, or by seq): a row is rebuilt only when
 * what it shows changed, so a link being focused or read by a screen reader is not
 * swept away by a typing frame, and a "sending" bubble becomes its stored self in
 * place. URLs from the server resolve against the widget's host and must be http(s). */

import { clock, h, size } from "./dom";
import type { Bubble } from "./view";

export class MessageList {
  readonly el = h("div", {
    class: "log",
    "data-tl": "messages",
    role: "log",
    "aria-live": "polite",
    "aria-label": "Messages",
  });
  private rows = new Map<string, { li: HTMLDivElement; sig: string }>();

  constructor(private readonly base: string) {}

  draw(bubbles: Bubble[]): void {
    const keep = new Set<string>();
    let at: ChildNode | null = this.el.firstChild;
    for (const b of bubbles) {
      keep.add(b.key);
      const sig = JSON.stringify([b.seq, b.state, b.seen, b.text, b.author, b.files]);
      let row = this.rows.get(b.key);
      if (!row || row.sig !== sig) {
        const li = this.row(b);
        if (row) {
          if (at === row.li) at = li;
          row.li.replaceWith(li);
        }
        row = { li, sig };
        this.rows.set(b.key, row);
      }
      if (row.li !== at) this.el.insertBefore(row.li, at);
      at = row.li.nextSibling;
    }
    for (const [key, row] of this.rows) {
      if (!keep.has(key)) {
        row.li.remove();
        this.rows.delete(key);
      }
    }
  }

  private row(b: Bubble): HTMLDivElement {
    if (b.kind === "resolved") {
      return h("div", { class: "note", "data-tl": "resolved" }, "This chat was marked as resolved");
    }
    const li = h("div", { class: "msg", "data-tl": "msg", "data-from": b.from, "data-state": b.state });
    if (b.seq) li.setAttribute("data-seq", String(b.seq));
    if (b.from === "agent" && b.author) {
      li.append(h("span", { class: "author", "data-tl": "author" }, b.author));
    }
    li.append(h("div", { class: "text", "data-tl": "text" }, b.text));
    if (b.files.length) {
      const ul = h("ul", { class: "files" });
      for (const f of b.files) {
        const label = `${f.name} (${size(f.size)})`;
        const href = f.url ? this.safeUrl(f.url) : null;
        const attrs = { href: href || "", target: "_blank", rel: "noopener noreferrer", "data-tl": "file" };
        ul.append(h("li", {}, href ? h("a", attrs, label) : h("span", {}, label)));
      }
      li.append(ul);
    }
    const meta = b.state === "sending" ? "Sending…" : b.state === "failed" ? "Not sent" : clock(b.at);
    if (meta) li.append(h("span", { class: "meta", "data-tl": "meta" }, meta));
    if (b.seen) li.append(h("span", { class: "seen", "data-tl": "seen" }, "Seen"));
    return li;
  }

  private safeUrl(url: string): string | null {
    try {
      const u = new URL(url, this.base);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch {
      return null;
    }
  }
}
