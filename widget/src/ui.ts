/* Everything the visitor sees, drawn in an open shadow root on one host element.
 *
 * What the server or the page sends is data, so it is only ever set as text (or as
 * an attribute that cannot run anything): no innerHTML anywhere. The state machine's
 * view is drawn as it is; this module decides nothing about the chat. Every part a
 * test needs carries a stable data-tl attribute. */

import { h, ICONS, icon, ink } from "./dom";
import { FILE_TYPES } from "./frames";
import { MessageList } from "./messages";
import { fileProblem } from "./rules";
import { CSS } from "./styles";
import type { View } from "./view";

export interface Actions {
  opened(open: boolean): void;
  send(text: string): boolean; // false: the text stays in the composer
  attach(file: File): void;
  typed(on: boolean): void;
  profile(name: string, email: string): void;
  skip(): void;
  csat(score: number, comment: string): void;
  transcript(email?: string): void;
}

function button(tl: string, label: string, cls = "btn", type = "button"): HTMLButtonElement {
  return h("button", { class: cls, type, "data-tl": tl }, label);
}

function iconButton(tl: string, label: string, path: string, cls = "icon"): HTMLButtonElement {
  return h("button", { class: cls, type: "button", "data-tl": tl, "aria-label": label }, icon(path));
}

function emailInput(tl: string, required: boolean): HTMLInputElement {
  const input = h("input", { type: "email", name: "email", autocomplete: "email", maxlength: "320", "data-tl": tl });
  input.required = required;
  return input;
}

function submitted(form: HTMLFormElement, then: () => void): void {
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    then();
  });
}

export class Widget {
  isOpen = false;
  private readonly wrap: HTMLDivElement;
  private readonly launcher = h(
    "button",
    {
      class: "launcher",
      type: "button",
      "data-tl": "launcher",
      "aria-label": "Open chat",
      "aria-expanded": "false",
      "aria-controls": "tl-panel",
      "aria-haspopup": "dialog",
    },
    icon(ICONS.chat),
  );
  private readonly badge = h("span", { class: "badge", "data-tl": "badge", "aria-hidden": "true", hidden: "" });
  private readonly panel: HTMLDivElement;
  private readonly title = h("h2", { id: "tl-title", "data-tl": "title" });
  private readonly status = h("p", { class: "status", id: "tl-status", "data-tl": "status" });
  private readonly avatar = h("img", { alt: "", "data-tl": "avatar", referrerpolicy: "no-referrer", hidden: "" });
  private readonly offline = h("div", { class: "offline", "data-tl": "offline", role: "status", hidden: "" });
  private readonly expect = h("p", { "data-tl": "expect" });
  private readonly offlineForm = h("form", { class: "row", "data-tl": "offline-form" });
  private readonly scroller = h("div", { class: "body", "data-tl": "scroll" });
  private readonly greeting = h("p", { class: "greeting", "data-tl": "greeting" });
  private readonly list: MessageList;
  private readonly typing = h("p", { class: "typing", "data-tl": "typing", "aria-live": "polite", hidden: "" });
  private readonly prechat = h("form", { class: "card", "data-tl": "prechat", hidden: "" });
  private readonly skip = button("prechat-skip", "Skip", "btn plain");
  private readonly csat = h("form", { class: "card", "data-tl": "csat", hidden: "" });
  private readonly stars: HTMLButtonElement[] = [];
  private readonly thanks = h("p", { class: "note", "data-tl": "csat-thanks", hidden: "" }, "Thanks for your feedback!");
  private readonly composer = h("form", { class: "composer", "data-tl": "composer" });
  private readonly input = h("textarea", {
    "data-tl": "input",
    rows: "1",
    maxlength: "5000",
    "aria-label": "Message",
    placeholder: "Write a message…",
  });
  private readonly transcriptLink = button("transcript", "Email me the transcript", "link");
  private readonly transcriptForm = h("form", { class: "row", "data-tl": "transcript-form", hidden: "" });
  private readonly note = h("p", { class: "notice", "data-tl": "notice", role: "status", "aria-live": "polite" });
  private score = 0;
  private last: View | null = null;
  private noteTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    base: string,
    private readonly act: Actions,
  ) {
    this.list = new MessageList(base);
    const host = h("div", { "data-threadline": "" });
    // Inline and important: the page's own rules for div (a transform, a display)
    // must not move or hide us; CSSOM writes are allowed under any style-src.
    host.style.setProperty("all", "initial", "important");
    // Open, not closed: the page's scripts can reach in either way (a closed root
    // only hides the reference), and browser tests can find the parts. Isolation
    // from the page's CSS is the same in both modes.
    const root = host.attachShadow({ mode: "open" });
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS); // not subject to the page's style-src, unlike <style>
      root.adoptedStyleSheets = [sheet];
    } catch {
      root.append(h("style", {}, CSS));
    }
    this.launcher.append(this.badge);
    this.launcher.addEventListener("click", () => this.setOpen(!this.isOpen));
    this.scroller.append(this.greeting, this.list.el, this.typing, this.buildPrechat(), this.buildCsat(), this.thanks);
    this.panel = h(
      "div",
      {
        class: "panel",
        id: "tl-panel",
        "data-tl": "panel",
        role: "dialog",
        "aria-labelledby": "tl-title",
        "aria-describedby": "tl-status",
        hidden: "",
      },
      this.buildHeader(),
      this.buildOffline(),
      this.scroller,
      this.buildComposer(),
      this.buildFooter(),
    );
    this.panel.addEventListener("keydown", (e) => {
      if (e.key === "Escape") this.setOpen(false);
    });
    this.wrap = h("div", { class: "tl", "data-tl": "root" }, this.panel, this.launcher);
    root.append(this.wrap);
    (document.body || document.documentElement).append(host);
  }

  private buildHeader(): HTMLElement {
    const close = iconButton("close", "Close chat", ICONS.close);
    close.addEventListener("click", () => this.setOpen(false));
    return h("header", {}, this.avatar, h("div", { class: "who" }, this.title, this.status), close);
  }

  private buildOffline(): HTMLElement {
    const email = emailInput("offline-email", true);
    this.offlineForm.append(
      h("label", { class: "grow" }, "Your email, for our answer", email),
      button("offline-submit", "Notify me", "btn", "submit"),
    );
    submitted(this.offlineForm, () => {
      this.act.profile("", email.value);
      this.notice(`We'll answer at ${email.value.trim()}.`);
    });
    this.offline.append(this.expect, this.offlineForm);
    return this.offline;
  }

  private buildPrechat(): HTMLElement {
    const name = h("input", { name: "name", autocomplete: "name", maxlength: "200", "data-tl": "prechat-name" });
    const email = emailInput("prechat-email", false);
    this.prechat.append(
      h("p", {}, "Before we start, who are we talking to?"),
      h("label", {}, "Name", name),
      h("label", {}, "Email", email),
      h("div", { class: "row" }, button("prechat-submit", "Start chat", "btn", "submit"), this.skip),
    );
    submitted(this.prechat, () => {
      this.act.profile(name.value, email.value);
      this.input.focus();
    });
    this.skip.addEventListener("click", () => {
      this.act.skip();
      this.input.focus();
    });
    return this.prechat;
  }

  private buildCsat(): HTMLElement {
    const group = h("div", { class: "stars", role: "group", "aria-labelledby": "tl-csat-q" });
    for (let n = 1; n <= 5; n++) {
      const b = h(
        "button",
        { type: "button", "data-tl": `csat-${n}`, "aria-label": `${n} out of 5`, "aria-pressed": "false" },
        String(n),
      );
      b.addEventListener("click", () => this.pick(n));
      this.stars.push(b);
      group.append(b);
    }
    const comment = h("textarea", {
      name: "comment",
      rows: "2",
      maxlength: "1000",
      "data-tl": "csat-comment",
      "aria-label": "Comment (optional)",
      placeholder: "Comment (optional)",
    });
    this.csat.append(
      h("p", { id: "tl-csat-q" }, "How did we do?"),
      group,
      comment,
      button("csat-submit", "Send rating", "btn", "submit"),
    );
    submitted(this.csat, () => {
      if (!this.score) return this.notice("Pick a rating from 1 to 5.");
      this.act.csat(this.score, comment.value);
      this.input.focus(); // the form goes away: focus must not fall to the page
    });
    return this.csat;
  }

  private buildComposer(): HTMLElement {
    const file = h("input", { type: "file", "data-tl": "file", accept: FILE_TYPES.join(","), tabindex: "-1", hidden: "" });
    const attach = iconButton("attach", "Attach a file", ICONS.clip);
    const send = iconButton("send", "Send", ICONS.send, "icon send");
    send.type = "submit";
    this.composer.append(this.input, file, attach, send);
    submitted(this.composer, () => this.submit());
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => {
      this.grow();
      this.act.typed(this.input.value.trim() !== "");
    });
    attach.addEventListener("click", () => file.click());
    file.addEventListener("change", () => {
      const f = file.files && file.files[0];
      file.value = "";
      if (!f) return;
      const problem = fileProblem(f);
      if (problem) this.notice(problem);
      else this.act.attach(f);
    });
    return this.composer;
  }

  private buildFooter(): HTMLElement {
    const email = emailInput("transcript-email", true);
    email.setAttribute("aria-label", "Your email");
    this.transcriptForm.append(email, button("transcript-submit", "Send", "btn", "submit"));
    this.transcriptLink.addEventListener("click", () => {
      const known = this.last && this.last.visitor.email;
      if (known) {
        this.act.transcript();
        this.notice(`We'll email the transcript to ${known}.`);
      } else {
        this.transcriptForm.hidden = false;
        email.focus();
      }
    });
    submitted(this.transcriptForm, () => {
      const to = email.value.trim();
      this.act.transcript(to);
      this.transcriptForm.hidden = true;
      this.notice(`We'll email the transcript to ${to}.`);
    });
    return h("footer", {}, this.transcriptLink, this.transcriptForm, this.note);
  }

  setOpen(open: boolean): void {
    if (open === this.isOpen) return;
    this.isOpen = open;
    this.panel.hidden = !open;
    this.wrap.toggleAttribute("data-open", open);
    this.launcher.setAttribute("aria-expanded", String(open));
    this.act.opened(open);
    if (open) {
      this.toBottom();
      const first = this.prechat.hidden ? this.input : this.prechat.querySelector("input");
      (first || this.input).focus();
    } else {
      this.launcher.focus();
    }
  }

  notice(text: string): void {
    this.note.textContent = text;
    clearTimeout(this.noteTimer);
    this.noteTimer = setTimeout(() => (this.note.textContent = ""), 8000);
  }

  render(v: View): void {
    this.last = v;
    const c = v.config;
    if (c) {
      this.wrap.style.setProperty("--tl-brand", c.color);
      this.wrap.style.setProperty("--tl-ink", ink(c.color));
      this.wrap.setAttribute("data-pos", c.position);
      this.title.textContent = c.name || "Chat";
      this.greeting.textContent = c.greeting;
      this.greeting.hidden = !c.greeting;
      if (c.avatar_url && this.avatar.getAttribute("src") !== c.avatar_url) this.avatar.src = c.avatar_url;
      this.avatar.hidden = !c.avatar_url;
    }
    this.status.textContent = !v.live && this.isOpen ? "Connecting…" : v.online ? "Online" : "Away";
    this.offline.hidden = v.online;
    this.expect.textContent = v.expect || "We're away right now.";
    this.offlineForm.hidden = !v.askEmail;

    const stick = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 60;
    this.list.draw(v.bubbles);
    this.typing.hidden = v.typing === null;
    this.typing.textContent = `${v.typing || "Someone"} is typing…`;

    this.prechat.hidden = v.prechat === null;
    this.skip.hidden = v.prechat !== "optional";
    const locked = v.prechat === "required";
    for (const input of this.prechat.querySelectorAll("input")) input.required = locked;
    this.input.disabled = locked;
    for (const b of this.composer.querySelectorAll("button")) b.disabled = locked;

    this.csat.hidden = v.csat !== "ask";
    this.thanks.hidden = v.csat !== "thanks";
    this.transcriptLink.hidden = !v.bubbles.some((b) => b.seq > 0);

    const unread = this.isOpen ? 0 : v.unread;
    this.badge.hidden = unread === 0;
    this.badge.textContent = unread > 9 ? "9+" : String(unread);
    const label = this.isOpen ? "Close chat" : unread ? `Open chat, ${unread} unread` : "Open chat";
    this.launcher.setAttribute("aria-label", label);
    if (stick) this.toBottom();
  }

  private submit(): void {
    if (this.act.send(this.input.value)) {
      this.input.value = "";
      this.grow();
      this.toBottom();
    }
  }

  private pick(n: number): void {
    this.score = n;
    this.stars.forEach((b, i) => b.setAttribute("aria-pressed", String(i + 1 === n)));
  }

  private grow(): void {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 120)}px`;
  }

  private toBottom(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}
