/* Threadline agent workspace: the few behaviours htmx does not cover.
 *
 * - one live stream per tab (Server-Sent Events), resumed with Last-Event-ID;
 *   every pushed fragment is HTML the server rendered with the page's templates
 * - presence beats (online / away) and "who is viewing or typing"
 * - keyboard shortcuts, relative times, the SMS segment counter, notifications
 *
 * No inline scripts or handlers anywhere: the Content-Security-Policy forbids them.
 */
(function () {
  "use strict";
  var body = document.body;
  var tab = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Math.random()).slice(2);
  var csrf = body.getAttribute("data-csrf") || "";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function typingInField(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function toast(text) {
    var box = $(".toast");
    if (!box) { return; }
    var item = document.createElement("div");
    item.setAttribute("role", "status");
    item.textContent = text;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 5000);
  }

  /* ---- times: "4 min ago", the exact time (agent's zone) on hover ---- */
  var exact = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  var rel = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" }) : null;
  function relative(date) {
    var s = (date.getTime() - Date.now()) / 1000, a = Math.abs(s);
    if (!rel) { return exact.format(date); }
    if (a < 45) { return s <= 0 ? "just now" : "in a moment"; }
    if (a < 3600) { return rel.format(Math.round(s / 60), "minute"); }
    if (a < 86400) { return rel.format(Math.round(s / 3600), "hour"); }
    if (a < 86400 * 30) { return rel.format(Math.round(s / 86400), "day"); }
    return exact.format(date);
  }
  function times(root) {
    $$("time[datetime]", root).forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) { return; }
      t.title = exact.format(d);
      t.textContent = t.hasAttribute("data-exact") ? exact.format(d) : relative(d);
      if (t.hasAttribute("data-due")) { t.parentNode.classList.toggle("overdue", d < new Date()); }
    });
  }
  setInterval(function () { times(document); }, 30000);

  /* ---- the live stream ---- */
  function place(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    return Array.prototype.slice.call(tpl.content.children);
  }
  function adopt(el) {
    times(el);
    dots(el);
    if (window.htmx) { htmx.process(el); }
  }
  function upsertRow(html) {
    var list = $("#rows");
    place(html).forEach(function (row) {
      var old = document.getElementById(row.id);
      if (row.getAttribute("data-unread") === "keep") {
        row.classList.toggle("unread", !!(old && old.classList.contains("unread")));
      }
      if (old && old.classList.contains("selected")) { row.classList.add("selected"); }
      if (list) {
        if (old) { old.remove(); }
        var empty = $(".empty", list);
        if (empty) { empty.remove(); }
        // Newest activity first, or the longest wait first: the server says where.
        var key = row.getAttribute("data-sort") || "";
        var before = $$(".row", list).filter(function (r) {
          var k = r.getAttribute("data-sort") || "";
          return list.getAttribute("data-order") === "asc" ? k > key : k < key;
        })[0];
        list.insertBefore(row, before || null);
        adopt(row);
      } else if (old) {
        old.replaceWith(row);
        adopt(row);
      }
    });
  }
  function removeRow(id) {
    var old = document.getElementById(id);
    if (old) { old.remove(); }
  }
  function upsertEntry(html) {
    var line = $("#timeline");
    if (!line) { return; }
    place(html).forEach(function (entry) {
      var old = document.getElementById(entry.id);
      if (old) { old.replaceWith(entry); } else { line.appendChild(entry); }
      adopt(entry);
      var composer = $("#composer");
      var kind = entry.getAttribute("data-kind");
      if (!old && composer && (kind === "inbound" || kind === "outbound")) {
        var mine = entry.getAttribute("data-author") === body.getAttribute("data-user-id");
        if (!mine) { composer.dispatchEvent(new CustomEvent("threadline:new-message", { detail: entry })); }
      }
      if (!old && kind === "inbound") { seen(); }
    });
  }
  /* A message that arrives while the agent looks at its conversation is read; one
     that arrives in a hidden tab is read when the tab is shown again. */
  var unseen = false, seenDue = null;
  function seen() {
    var convo = body.getAttribute("data-conversation");
    if (!convo) { return; }
    if (document.visibilityState !== "visible") { unseen = true; return; }
    unseen = false;
    if (seenDue) { return; }
    seenDue = setTimeout(function () {
      seenDue = null;
      fetch("/ui/conversations/" + convo + "/read", { method: "POST", headers: { "x-csrftoken": csrf }, credentials: "same-origin" }).catch(function () {});
    }, 500);
  }
  document.addEventListener("visibilitychange", function () {
    if (unseen && document.visibilityState === "visible") { seen(); }
  });
  function replaceById(html) {
    place(html).forEach(function (el) {
      var old = document.getElementById(el.id);
      if (old) { old.replaceWith(el); adopt(el); }
    });
  }
  function notify(data) {
    var info = JSON.parse(data);
    if (window.Notification && Notification.permission === "granted") {
      var n = new Notification(info.title, { body: info.body, tag: "conversation-" + info.id });
      n.onclick = function () { window.focus(); location.href = info.url; };
    } else {
      toast(info.title + ": " + info.body);
    }
  }
  var known = {};
  try { known = JSON.parse(body.getAttribute("data-presence-states") || "{}"); } catch (e) { known = {}; }
  function dots(root) {
    $$("[data-presence]", root).forEach(function (dot) {
      var state = known[dot.getAttribute("data-presence")] || "offline";
      dot.className = "dot " + state;
      dot.title = state;
    });
  }
  function presence(data) {
    var change = JSON.parse(data);
    Object.keys(change).forEach(function (k) { known[k] = change[k]; });
    dots(document);
  }
  var stream = body.getAttribute("data-stream");
  if (stream && window.EventSource) {
    var url = stream + (stream.indexOf("?") < 0 ? "?" : "&") + "tab=" + encodeURIComponent(tab);
    var source = new EventSource(url);
    source.addEventListener("row", function (e) { upsertRow(e.data); });
    source.addEventListener("unrow", function (e) { removeRow(e.data); });
    source.addEventListener("entry", function (e) { upsertEntry(e.data); });
    source.addEventListener("fragment", function (e) { replaceById(e.data); });
    source.addEventListener("presence", function (e) { presence(e.data); });
    source.addEventListener("notify", function (e) { notify(e.data); });
    source.addEventListener("resync", function () { location.reload(); });
    var countsDue = null;
    source.addEventListener("counts", function () {
      // Many rows change at once on a busy desk, and every open tab asks for its own
      // counts: one refresh per tab every few seconds at most, spread out.
      if (countsDue) { return; }
      countsDue = setTimeout(function () {
        countsDue = null;
        fetch("/ui/counts", { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : {}; }).then(function (counts) {
          $$("[data-count]").forEach(function (el) {
            var n = counts[el.getAttribute("data-count")];
            if (n !== undefined) { el.textContent = n; }
          });
        }).catch(function () {});
      }, 3000 + Math.random() * 2000);
    });
    // Someone else changed this conversation (assigned it, a timer fired): its
    // header is drawn again, but never under the agent's hands. While a control in
    // it has the focus (a list open, a snooze date half typed) the new header waits
    // until the focus leaves it; swapped in mid-choice, it dropped the choice.
    var headDue = null;
    function underHands(el) { return el.contains(document.activeElement) && document.activeElement !== el; }
    function refreshHead(id) {
      var convo = body.getAttribute("data-conversation");
      if (!convo || !window.htmx || !document.getElementById(id)) { return; }
      headDue = null;
      fetch("/ui/conversations/" + convo + "/head", { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (html) {
        var target = document.getElementById(id);
        if (!html || !target) { return; }
        if (underHands(target)) { headDue = id; return; }
        htmx.swap(target, html, { swapStyle: "outerHTML", swapDelay: 0, settleDelay: 0 });
      }).catch(function () {});
    }
    source.addEventListener("refresh", function (e) {
      var target = document.getElementById(e.data);
      if (target && underHands(target)) { headDue = e.data; } else { refreshHead(e.data); }
    });
    document.addEventListener("focusout", function (e) {
      var head = headDue && document.getElementById(headDue);
      if (!head || head.contains(e.relatedTarget)) { return; }
      var id = headDue;
      setTimeout(function () { if (headDue === id) { refreshHead(id); } }, 0);
    });
    source.addEventListener("open", function () { body.classList.remove("offline"); });
    source.addEventListener("error", function () { body.classList.add("offline"); });
  }

  /* ---- presence: beats while the tab lives; away when hidden or idle ---- */
  var lastInput = Date.now(), typingUntil = 0;
  ["keydown", "mousemove", "pointerdown"].forEach(function (ev) {
    document.addEventListener(ev, function () { lastInput = Date.now(); }, { passive: true });
  });
  function beat(extra) {
    var form = new URLSearchParams();
    form.append("tab", tab);
    form.append("active", document.visibilityState === "visible" && Date.now() - lastInput < 300000 ? "1" : "0");
    var convo = body.getAttribute("data-conversation");
    if (convo) { form.append("conversation", convo); }
    form.append("typing", Date.now() < typingUntil ? "1" : "0");
    if (extra === "leave") { form.append("leave", "1"); }
    var req = { method: "POST", body: form, headers: { "x-csrftoken": csrf }, credentials: "same-origin" };
    if (extra === "leave") { req.keepalive = true; }
    return fetch("/ui/presence", req).catch(function () {});
  }
  if (body.getAttribute("data-user-id")) {
    beat();
    setInterval(beat, 15000);
    document.addEventListener("visibilitychange", function () { beat(); });
    window.addEventListener("pagehide", function () { beat("leave"); });
  }

  /* ---- the composer ---- */
  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXT = "^{}\\[~]|€";
  function smsSegments(text) {
    var units = 0, gsm = true;
    for (var i = 0; i < text.length; i++) {
      var ch = text[i];
      if (GSM.indexOf(ch) >= 0) { units += 1; } else if (GSM_EXT.indexOf(ch) >= 0) { units += 2; } else { gsm = false; break; }
    }
    if (!gsm) {
      units = text.length; // UTF-16 code units: an emoji takes two
      return { encoding: "UCS-2", segments: units <= 70 ? 1 : Math.ceil(units / 67), units: units };
    }
    return { encoding: "GSM-7", segments: units <= 160 ? 1 : Math.ceil(units / 153), units: units };
  }
  function composerState(composer) {
    var text = $("textarea", composer).value;
    var note = $("input[name=mode][value=note]", composer);
    var isNote = note && note.checked;
    composer.classList.toggle("note-mode", !!isNote);
    var picker = $("select[name=channel]", composer);
    var info = $(".channel-info", composer);
    var send = $("button[type=submit]", composer);
    if (picker) { picker.disabled = !!isNote; }
    if (!info || !picker) { return; }
    var opt = picker.selectedOptions[0];
    var parts = [];
    if (!isNote && opt) {
      if (opt.value === "sms" && text) {
        var s = smsSegments(text);
        parts.push(s.segments + " SMS segment" + (s.segments === 1 ? "" : "s") + " · " + s.encoding + " · " + s.units + " characters");
      }
      if (opt.getAttribute("data-window")) { parts.push(opt.getAttribute("data-window")); }
      if (opt.getAttribute("data-reason")) { parts.push(opt.getAttribute("data-reason")); }
      var max = Number(opt.getAttribute("data-max") || 0);
      if (max && text.length > max) { parts.push("too long for " + opt.textContent.trim() + " (" + text.length + "/" + max + ")"); }
      var tpl = $(".template-fallback", composer);
      if (tpl) { tpl.hidden = opt.getAttribute("data-template") !== "1"; }
    }
    info.textContent = parts.join(" · ");
    if (send) { send.textContent = isNote ? "Add note" : "Send"; }
    pickedFiles(composer, isNote ? null : opt);
  }
  // Each picked file with its size, and what the chosen channel cannot take
  // (the server checks again: this only saves the agent a refused send).
  function pickedFiles(composer, opt) {
    var input = $("input[type=file]", composer);
    var list = $(".picked", composer);
    if (!input || !list) { return; }
    var types = opt ? (opt.getAttribute("data-attachment-types") || "").split(",") : [""];
    var max = opt ? Number(opt.getAttribute("data-max-attachment") || 0) : 0;
    var name = opt ? opt.textContent.trim().split(" · ")[0] : "";
    list.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (f) {
      var li = document.createElement("li");
      var note = f.name + " · " + (f.size < 1048576 ? (f.size / 1024).toFixed(1) + " KB" : (f.size / 1048576).toFixed(1) + " MB");
      var typeOk = types.some(function (t) { return (f.type || "application/octet-stream").indexOf(t) === 0; });
      if (opt && !typeOk) { note += " · " + name + " cannot take " + (f.type || "this type"); }
      else if (max && f.size > max) { note += " · over " + name + "'s " + Math.floor(max / 1048576) + " MB limit"; }
      li.textContent = note;
      list.appendChild(li);
    });
  }
  function setupComposer(composer) {
    if (!composer || composer.getAttribute("data-ready")) { return; }
    composer.setAttribute("data-ready", "1");
    var area = $("textarea", composer);
    composer.addEventListener("input", function (e) {
      composerState(composer);
      if (e.target === area) {
        var before = typingUntil;
        typingUntil = Date.now() + 5000;
        if (Date.now() > before) { beat(); }
      }
    });
    composer.addEventListener("change", function (e) {
      if (e.target.name === "channel" && e.isTrusted) { e.target.setAttribute("data-picked", "1"); }
      composerState(composer);
    });
    area.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); composer.requestSubmit(); }
      if (e.key === "Escape") { area.blur(); }
    });
    composer.addEventListener("threadline:new-message", function (e) {
      var entry = e.detail;
      var picker = $("select[name=channel]", composer);
      // The reply follows the customer to the channel they last wrote on, unless
      // the agent picked one themselves.
      if (entry.getAttribute("data-kind") === "inbound" && picker && !picker.getAttribute("data-picked")) {
        var opt = $("option[value='" + entry.getAttribute("data-channel") + "']", picker);
        if (opt && !opt.disabled) { picker.value = opt.value; composerState(composer); }
      }
      var stale = $(".stale", composer);
      var area = $("textarea", composer);
      // A draft written before this message is stale; an empty composer is not.
      if (stale && area.value.trim()) { stale.hidden = false; } else { acknowledge(composer); }
    });
    composer.addEventListener("click", function (e) {
      if (!e.target.closest("[data-ack]")) { return; }
      var last = acknowledge(composer);
      if (last) { last.scrollIntoView({ block: "center" }); }
      area.focus();
    });
    composerState(composer);
  }

  function acknowledge(composer) {
    // The agent has the newest message on screen: the reply may go against it now.
    var last = $$("#timeline .entry[data-message]").filter(function (el) {
      return el.getAttribute("data-kind") !== "note";
    }).pop();
    if (last) { $("input[name=seen]", composer).value = last.getAttribute("data-message"); }
    var stale = $(".stale", composer);
    if (stale) { stale.hidden = true; }
    return last;
  }

  /* ---- keyboard ---- */
  function rows() { return $$("#rows .row"); }
  function select(delta) {
    var all = rows();
    if (!all.length) { return; }
    var i = all.findIndex(function (r) { return r.classList.contains("selected"); });
    var next = all[Math.max(0, Math.min(all.length - 1, i < 0 ? 0 : i + delta))];
    all.forEach(function (r) { r.classList.remove("selected"); });
    next.classList.add("selected");
    $("a.open", next).focus();
  }
  function mode(value) {
    var composer = $("#composer");
    if (!composer) { return; }
    var input = $("input[name=mode][value=" + value + "]", composer);
    if (input) { input.checked = true; }
    composerState(composer);
    $("textarea", composer).focus();
  }
  var keys = {
    "j": function () { select(1); },
    "k": function () { select(-1); },
    "Enter": function () { var s = $("#rows .row.selected a.open"); if (s) { s.click(); } },
    "r": function () { mode("reply"); },
    "n": function () { mode("note"); },
    "e": function () { var f = $("#resolve-form"); if (f) { f.requestSubmit(); } },
    "a": function () { var s = $("#assign-select"); if (s) { s.focus(); } },
    "s": function () { var s = $("#snooze-until"); if (s) { s.focus(); } },
    "/": function () { var s = $("#search-box"); if (s) { s.focus(); s.select(); } },
    "?": function () { var d = $("#shortcuts"); if (d && !d.open) { d.showModal(); } }
  };
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typingInField(e.target) || e.defaultPrevented) { return; }
    var action = keys[e.key];
    if (action) { e.preventDefault(); action(); }
  });

  /* ---- small things ---- */
  document.addEventListener("click", function (e) {
    var open = e.target.closest("[data-open-shortcuts]");
    if (open) { e.preventDefault(); $("#shortcuts").showModal(); }
    var close = e.target.closest("[data-close]");
    if (close) { close.closest("dialog").close(); }
    var ask = e.target.closest("[data-notifications]");
    if (ask && window.Notification) {
      Notification.requestPermission().then(function (p) { toast(p === "granted" ? "Notifications on" : "Notifications blocked"); });
    }
    var copy = e.target.closest("[data-copy]");
    if (copy && navigator.clipboard) { navigator.clipboard.writeText(copy.getAttribute("data-copy")); toast("Copied"); }
  });
  document.addEventListener("change", function (e) {
    if (e.target.tagName === "SELECT" && e.target.closest("#convo-head")) {
      // The choice is made (htmx sends it): the keys go back to the shortcuts.
      setTimeout(function () { e.target.blur(); }, 0);
    }
    var form = e.target.closest("form[data-autosubmit]");
    if (form && e.target.tagName === "SELECT") { form.requestSubmit(); }
  });
  document.addEventListener("submit", function (e) {
    $$("[data-tz-offset]", e.target).forEach(function (input) {
      // datetime-local is the agent's wall time: send the instant it means.
      var local = $("input[type=datetime-local]", e.target);
      if (local && local.value) { input.value = new Date(local.value).toISOString(); }
    });
    var confirmText = e.target.getAttribute("data-confirm");
    if (confirmText && !window.confirm(confirmText)) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);
  document.body.addEventListener("htmx:configRequest", function (e) { e.detail.headers["x-csrftoken"] = csrf; });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    // A choice made in a list is done: give the keys back to the shortcuts
    // (a focused list would take the next letter as a new choice).
    var active = document.activeElement;
    if (active && typingInField(active) && active.closest("#convo-head")) { active.blur(); }
    times(e.target);
    setupComposer($("#composer"));
  });
  document.body.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    if (xhr.status === 409 || xhr.status === 422) { return; } // the server sent a fragment that says why
    toast("Something went wrong (" + xhr.status + "). Request id: " + (xhr.getResponseHeader("x-request-id") || "?"));
  });

  /* ---- live-chat setup: the preview follows the form as the admin types ---- */
  function inkOn(hex) {
    // Dark text on a light colour, white on a dark one (perceived brightness).
    var n = parseInt(hex.slice(1), 16);
    var y = 0.299 * (n >> 16 & 255) + 0.587 * (n >> 8 & 255) + 0.114 * (n & 255);
    return y > 160 ? "#111827" : "#ffffff";
  }
  function chatPreview(form) {
    var preview = document.getElementById(form.getAttribute("data-chat-form"));
    if (!preview) { return; }
    function field(name) { var el = form.elements[name]; return el ? String(el.value) : ""; }
    var color = /^#[0-9a-fA-F]{6}$/.test(field("color")) ? field("color") : preview.getAttribute("data-default-color");
    // CSSOM, not a style attribute: the Content-Security-Policy allows this one.
    preview.style.setProperty("--chat-color", color);
    preview.style.setProperty("--chat-ink", inkOn(color));
    preview.classList.toggle("left", field("position") === "left");
    var greeting = field("greeting").trim() || preview.getAttribute("data-default-greeting");
    $(".chat-greeting", preview).textContent = greeting.slice(0, 300);
    var name = field("name").trim();
    $(".chat-title", preview).textContent = name || "Live chat";
    $(".chat-prechat", preview).hidden = field("prechat") === "off";
    var img = $(".chat-avatar", preview), avatar = field("avatar_url").trim();
    if (/^https:\/\/[^\s"'<>]+$/i.test(avatar)) {
      if (img.getAttribute("src") !== avatar) { img.hidden = false; img.src = avatar; }
    } else {
      img.hidden = true;
      img.removeAttribute("src");
    }
  }
  $$("form[data-chat-form]").forEach(function (form) {
    var preview = document.getElementById(form.getAttribute("data-chat-form"));
    var img = preview && $(".chat-avatar", preview);
    if (img) { img.addEventListener("error", function () { img.hidden = true; }); }
    form.addEventListener("input", function () { chatPreview(form); });
    form.addEventListener("change", function () { chatPreview(form); });
    chatPreview(form);
  });

  times(document);
  dots(document);
  setupComposer($("#composer"));
  // A conversation opens at its newest message, as every chat does.
  var newest = $("#timeline > li:last-child");
  if (newest && !location.hash) { newest.scrollIntoView({ block: "center" }); }
})();
