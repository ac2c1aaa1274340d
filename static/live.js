/* Live page behaviour: resume the event stream by sequence number, tick countdowns
 * against the server's clock, and show errors from htmx requests. No inline script:
 * the Content-Security-Policy forbids it.
 *
 * Live messages (docs/events.md, "HTML format"). Each starts with
 * <div id="live-seq" data-seq="N">; one whose N is not newer than the page's is dropped
 * (a snapshot, data-snapshot="1", is always applied). Every top-level fragment acts on
 * the element with its id (skipped when this page has none), as its data-op says:
 *   replace       (or no data-op) swap the element; focus stays on the same control
 *                 in the new content (or goes to the new content), open <details> stay open
 *   replace-list  swap the list's children, then sort it (a snapshot: asked for)
 *   remove        remove the element
 *   upsert        a card of the list named by data-list: patch its [data-patch] parts; a
 *                 new card waits under the list behind a "Show 1 new question" button,
 *                 unless the reader is at the list's top or it says data-live-insert="append"
 *   votes         set the counts of data-votes (JSON) on every card showing them
 *   my-vote       a question voted for was merged: the vote counts for data-question now
 *   room          the breakout room: patch it (same round and group), rebuild it (its
 *                 topics changed) or replace it, saying so, when the person was moved
 *   patch         one topic of the room, only if the room shown is that round and group
 * After a room op the DOM event "webinar:room" {room, fresh, message} is fired: the
 * attendee app (tabs.js) may bring the room to the front and change the message said.
 * A list moved under the reader is re-sorted only while they are at its top; otherwise
 * an "Update the order" button offers it. Focus is put back after sorting.
 *
 * What an action did comes from the named events in its answer's HX-Trigger header
 * (webinar/web/actions/core.py TRIGGERS), never from the shape of the JSON body:
 *   webinar:asked         {state}                   thank the asker, saying if it waits for review
 *   webinar:voted         {question_id, voted, votes}  show the vote and the new count at once
 *   webinar:survey-saved  {submitted}               the survey's status line; forget the draft
 *   webinar:preassigned   {stored, not_joined_yet}  say how many rows were stored, how many wait
 * Refusals are the same for every action: {"error": {"message", "field"?}} with 4xx. */
(function () {
  "use strict";

  var offsetMs = 0; // server clock minus this device's clock
  var pingTimer = null;

  function seqElement() { return document.getElementById("live-seq"); }

  function lastSeq() {
    var el = seqElement();
    var value = el ? parseInt(el.getAttribute("data-seq"), 10) : NaN;
    return isNaN(value) ? null : value;
  }

  function setOffsetFrom(iso, sentAt, receivedAt) {
    var server = Date.parse(iso);
    if (isNaN(server)) { return; }
    var local = sentAt && receivedAt ? (sentAt + receivedAt) / 2 : Date.now();
    offsetMs = server - local;
  }

  function setConnection(state, text) {
    var el = document.getElementById("connection");
    if (!el) { return; }
    el.setAttribute("data-state", state);
    el.textContent = text;
  }

  var flashTimer = null;

  function flash(message, kind) {
    var el = document.getElementById("flash");
    if (!el) { return; }
    el.textContent = message || "";
    el.setAttribute("data-kind", kind || "info");
    // A confirmation ("Thank you…") goes after a while; an error stays until the next
    // action, so it can be read and acted on.
    if (flashTimer) { clearTimeout(flashTimer); flashTimer = null; }
    if (message && (kind || "info") === "info") {
      var ms = parseInt(el.getAttribute("data-info-ms") || "10000", 10);
      flashTimer = setTimeout(function () {
        flashTimer = null;
        if (el.textContent === message) { el.textContent = ""; }
      }, ms);
    }
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function formatRemaining(seconds) {
    var negative = seconds < 0;
    var total = Math.floor(Math.abs(seconds));
    var h = Math.floor(total / 3600);
    var m = Math.floor((total % 3600) / 60);
    var s = total % 60;
    var text = (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s);
    return negative ? "-" + text : text;
  }

  function mirrorTimers() {
    // A room's timer shows the breakout item's countdown from the agenda panel.
    var mirrors = document.querySelectorAll(".timer[data-mirror]");
    for (var i = 0; i < mirrors.length; i++) {
      var source = document.querySelector(mirrors[i].getAttribute("data-mirror"));
      if (!source) { continue; }
      ["data-ends-at", "data-frozen"].forEach(function (name) {
        if (source.hasAttribute(name)) {
          mirrors[i].setAttribute(name, source.getAttribute(name));
        } else {
          mirrors[i].removeAttribute(name);
        }
      });
    }
  }

  var LOCKED_TEXT = "The breakout has ended and your group's responses are locked: they are saved as shown.";

  function lockRoomIfDue(now) {
    // After the grace that follows the end, the facilitator's boxes are read-only, saying
    // why, rather than refusing what is typed into them.
    var room = document.getElementById("breakout-room");
    var at = room ? Date.parse(room.getAttribute("data-locks-at") || "") : NaN;
    if (isNaN(at) || now < at) { return; }
    room.querySelectorAll("textarea[data-draft]").forEach(function (box) {
      if (box.readOnly) { return; }
      box.readOnly = true;
      saveState(box, LOCKED_TEXT);
    });
  }

  function tick() {
    mirrorTimers();
    var now = Date.now() + offsetMs;
    lockRoomIfDue(now);
    var timers = document.querySelectorAll(".timer[data-ends-at]");
    for (var i = 0; i < timers.length; i++) {
      var el = timers[i];
      var frozen = el.getAttribute("data-frozen");
      var seconds = frozen !== null ? parseFloat(frozen)
        : (Date.parse(el.getAttribute("data-ends-at")) - now) / 1000;
      if (isNaN(seconds)) { continue; }
      var atZero = el.getAttribute("data-at-zero");
      if (atZero && seconds <= 0) {
        // A start that is due counts no further: "-0:04" would read as a fault.
        seconds = 0;
        var line = atZero === "waiting" ? el.closest("[data-until-start]") : null;
        if (line) {
          line.querySelector(".starts-in").hidden = true;
          line.querySelector(".waiting-start").hidden = false;
        }
      }
      var text = formatRemaining(seconds);
      if (el.textContent !== text) { el.textContent = text; }
      el.classList.toggle("overrun", seconds < 0);
      warnIfDue(el, seconds);
    }
  }

  function sendPing(wrapper) {
    var sentAt = Date.now();
    window.__webinarPingSentAt = sentAt;
    wrapper.send(JSON.stringify({ type: "ping" }));
  }

  document.addEventListener("htmx:wsOpen", function (event) {
    var wrapper = event.detail.socketWrapper;
    wrapper.send(JSON.stringify({ type: "resume", last_seq: lastSeq() }));
    setConnection("open", "Live");
    resendDrafts();
    resendSurvey();
    sendPing(wrapper);
    if (pingTimer) { clearInterval(pingTimer); }
    pingTimer = setInterval(function () { sendPing(wrapper); }, 30000);
  });

  document.addEventListener("htmx:wsClose", function (event) {
    var code = event.detail && event.detail.event ? event.detail.event.code : 0;
    var reason = event.detail && event.detail.event ? event.detail.event.reason : "";
    if (code === 1008) {
      // A policy close is final (the extension does not retry it): say why, if told.
      setConnection("closed", (reason ? reason + " " : "") + "Not connected. Reload the page or join again.");
    } else {
      setConnection("closed", "Reconnecting…");
    }
    if (pingTimer) { clearInterval(pingTimer); pingTimer = null; }
  });

  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    var message = event.detail.message;
    // Every message is applied here, not by the extension's default out-of-band swap:
    // fragments whose target is absent on this page are skipped quietly, lists keep
    // their order under the reader, and a replayed message is never applied twice.
    event.preventDefault();
    if (typeof message !== "string") { return; }
    if (message.charAt(0) === "{") {
      var reply;
      try { reply = JSON.parse(message); } catch (e) { return; }
      if (reply.type === "pong" && reply.now) {
        setOffsetFrom(reply.now, window.__webinarPingSentAt, Date.now());
      } else if (reply.type === "error" && reply.message) {
        flash(reply.message, "error");
      }
      return;
    }
    // Events committed together (or while the screen was behind) come as one message:
    // each led by its own sequence marker, applied in turn.
    var parts = message.split(/(?=<div id="live-seq" )/);
    for (var i = 0; i < parts.length; i++) { applyEvent(parts[i]); }
    tick();
  });

  function applyEvent(part) {
    var match = /^<div id="live-seq" data-seq="(\d+)"[^>]*?( data-snapshot="1")?[^>]*>/.exec(part);
    if (!match) { return; }
    var seq = parseInt(match[1], 10);
    var known = lastSeq();
    if (!match[2] && known !== null && seq <= known) { return; }
    applyFragments(part);
  }

  /* -- applying fragments ------------------------------------------------------------ */

  function parseFragments(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return Array.prototype.slice.call(template.content.children);
  }

  // A live update may replace the very control someone just used (a host's "Hide reply"
  // becomes "Show reply again"). Focus must not fall back to the top of the page
  // (WCAG 2.4.3): it moves to the same control in the new content, or the one acting on
  // the same thing, or else to the new content itself.
  function controlKey(el) {
    if (el.id) { return "#" + el.id; }
    if (el.hasAttribute("hx-post")) { return el.getAttribute("hx-post") + "|" + (el.getAttribute("hx-vals") || ""); }
    return el.tagName + "|" + (el.textContent || "").trim();
  }

  function swap(old, fresh) {
    // A playing stage or a running call stays as it is while its key is unchanged.
    if (old.hasAttribute("data-keep") && keepKey(old) === keepKey(fresh)) { return; }
    var active = document.activeElement;
    var had = active && active !== document.body && old.contains(active);
    var key = had ? controlKey(active) : "";
    var vals = had ? active.getAttribute("hx-vals") : null;
    // A disclosure the reader opened (the whole slide deck) stays open.
    Array.prototype.forEach.call(old.querySelectorAll("details[id][open]"), function (details) {
      var counterpart = fresh.querySelector("#" + details.id);
      if (counterpart) { counterpart.open = true; }
    });
    old.replaceWith(fresh);
    activate(fresh);
    if (!had) { return; }
    var candidates = Array.prototype.slice.call(fresh.querySelectorAll("button, [href], input, select, textarea, summary"));
    var next = candidates.filter(function (el) { return controlKey(el) === key; })[0] ||
      (vals ? candidates.filter(function (el) { return el.getAttribute("hx-vals") === vals; })[0] : null);
    if (next) { next.focus(); }
    if (document.activeElement !== next) {  // none, or inside a closed disclosure
      if (!fresh.hasAttribute("tabindex")) { fresh.setAttribute("tabindex", "-1"); }
      fresh.focus();
    }
  }

  // data-keep-for names the one person for whom the content differs (a call's
  // facilitator joins as moderator): their frame is made again when that changes.
  function keepKey(el) {
    var key = el.getAttribute("data-keep");
    return el.hasAttribute("data-keep-for") ? key + "|" + (el.getAttribute("data-keep-for") === me()) : key;
  }

  function activate(el) {
    if (window.htmx) { window.htmx.process(el); }
    applyMyVotes(el);
    fillKeys(el);
  }

  function applyFragments(html) {
    var touched = {};
    parseFragments(html).forEach(function (fragment) {
      var op = fragment.getAttribute("data-op") || "replace";
      var id = fragment.id;
      var target = id ? document.getElementById(id) : null;
      if (op === "replace") {
        if (target) { swap(target, fragment); }
      } else if (op === "replace-list") {
        if (target) {
          target.innerHTML = fragment.innerHTML;
          activate(target);
          touched[target.id] = "sort";
        }
      } else if (op === "remove") {
        if (target) { target.remove(); }
      } else if (op === "votes") {
        applyVotes(JSON.parse(fragment.getAttribute("data-votes") || "{}"), touched);
      } else if (op === "upsert") {
        upsert(fragment, target, touched);
      } else if (op === "my-vote") {
        // A question this person voted for was merged: the vote now counts for the target.
        delete myVotes[fragment.getAttribute("data-from")];
        myVotes[fragment.getAttribute("data-question")] = fragment.getAttribute("data-voted") === "yes";
        applyMyVotes(document);
      } else if (op === "poll") {
        applyPoll(fragment, target);
      } else if (op === "projector-off") {
        if (target) { clearProjectorPoll(); }
      } else if (op === "room") {
        applyRoom(fragment, target);
      } else if (op === "patch") {
        var room = document.getElementById("breakout-room");
        if (target && room && room.getAttribute("data-round") === fragment.getAttribute("data-round") &&
            room.getAttribute("data-group") === fragment.getAttribute("data-group")) {
          swap(target, fragment);
          refreshFacilitatorBoxes(room);
        }
      }
    });
    // Sorting moves list items, and moving an element drops its focus: put it back.
    var active = document.activeElement;
    Object.keys(touched).forEach(function (listId) { settleList(listId, touched[listId]); });
    if (active && active !== document.body && document.activeElement !== active && document.contains(active)) {
      active.focus({ preventScroll: true });
    }
  }

  function upsert(fragment, existing, touched) {
    var list = document.getElementById(fragment.getAttribute("data-list"));
    if (existing) {
      fragment.querySelectorAll("[data-patch][id]").forEach(function (part) {
        var old = document.getElementById(part.id);
        if (old) { swap(old, part); }
      });
      ["data-votes", "data-pinned", "data-list"].forEach(function (name) {
        if (fragment.hasAttribute(name)) { existing.setAttribute(name, fragment.getAttribute(name)); }
      });
      existing.className = fragment.className;
      if (list && existing.parentElement !== list && !existing.closest("[data-buffer]")) {
        moveKeepingFocus(list, existing);
        touched[list.id] = touched[list.id] || "order";
      } else if (list) {
        touched[list.id] = touched[list.id] || "order";
      }
      return;
    }
    if (!list) { return; }
    if (list.getAttribute("data-live-insert") === "append") {
      list.appendChild(fragment);
      activate(fragment);
      return;
    }
    bufferOf(list).appendChild(fragment);
    activate(fragment);
    touched[list.id] = "new";
  }

  // A card moving to another list (approved, declined) keeps the focus it holds.
  function moveKeepingFocus(list, card) {
    var active = document.activeElement;
    list.appendChild(card);
    if (active && card.contains(active) && document.activeElement !== active) {
      active.focus({ preventScroll: true });
    }
  }

  function bufferOf(list) {
    var id = list.id + "-incoming";
    var buffer = document.getElementById(id);
    if (!buffer) {
      buffer = document.createElement("div");
      buffer.id = id;
      buffer.hidden = true;
      buffer.setAttribute("data-buffer", list.id);
      list.parentElement.insertBefore(buffer, list.nextSibling);
    }
    return buffer;
  }

  function applyVotes(votes, touched) {
    Object.keys(votes).forEach(function (qid) {
      ["q-", "sq-"].forEach(function (prefix) {
        var card = document.getElementById(prefix + qid);
        var count = document.getElementById(prefix + qid + "-votes");
        if (count) { count.textContent = String(votes[qid]); }
        if (card) {
          card.setAttribute("data-votes", String(votes[qid]));
          var list = card.parentElement;
          if (list && list.id) { touched[list.id] = touched[list.id] || "order"; }
        }
      });
    });
  }

  /* -- polls -------------------------------------------------------------------------- */

  // A poll's card is replaced when its state changes; what this person has chosen or typed
  // (and whether it is saved) is carried over, since the event does not know it.
  function applyPoll(fragment, target) {
    if (!target) {
      var list = document.getElementById(fragment.getAttribute("data-list"));
      if (list) {
        list.appendChild(fragment);
        activate(fragment);
        var none = document.getElementById("polls-none");
        if (none) { none.hidden = true; }
      }
      return;
    }
    target.querySelectorAll("input[id], textarea[id]").forEach(function (old) {
      var fresh = fragment.querySelector("#" + old.id);
      if (!fresh) { return; }
      if (old.type === "checkbox" || old.type === "radio") {
        fresh.checked = old.checked;
      } else {
        fresh.value = old.value;
      }
    });
    var saved = target.querySelector(".poll-saved");
    var savedNow = fragment.querySelector(".poll-saved");
    if (saved && savedNow && !savedNow.textContent) { savedNow.textContent = saved.textContent; }
    swap(target, fragment);
  }

  function clearProjectorPoll() {
    var section = document.getElementById("polls-projector");
    if (!section) { return; }
    section.innerHTML = "";
    section.hidden = true;
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    var written = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form[data-poll-new]");
    if (written && event.detail.successful) { written.reset(); }
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form[data-poll]");
    if (!form) { return; }
    var status = document.getElementById("apoll-" + form.getAttribute("data-poll") + "-saved");
    if (!status) { return; }
    var xhr = event.detail.xhr;
    if (event.detail.successful) {
      status.textContent = "Your answer is saved. You can change it while the poll is open.";
      var button = form.querySelector("button[type=submit]");
      if (button) { button.textContent = "Change my answer"; }
    } else if (xhr && xhr.status >= 400) {
      var message = "Not saved.";
      try { message = "Not saved: " + JSON.parse(xhr.responseText).error.message; } catch (e) { /* keep */ }
      status.textContent = message;
    } else {
      status.textContent = "Not saved: could not reach the server. Try again.";
    }
  });

  /* -- breakout rooms ------------------------------------------------------------------ */

  function me() { return document.body.getAttribute("data-me") || ""; }

  function applyRoom(fragment, target) {
    if (!target) { return; }
    var same = target.getAttribute("data-round") === fragment.getAttribute("data-round") &&
      target.getAttribute("data-group") === fragment.getAttribute("data-group");
    if (same) {
      fragment.querySelectorAll("[data-patch][id]").forEach(function (part) {
        var old = document.getElementById(part.id);
        if (old) { swap(old, part); }
      });
      ["data-facilitator", "data-ended", "data-locks-at"].forEach(function (name) {
        target.setAttribute(name, fragment.getAttribute(name) || "");
      });
      if (fragment.querySelectorAll("form.capture").length !== target.querySelectorAll("form.capture").length) {
        target.replaceWith(fragment);  // the group's topics changed: rebuild
        target = fragment;
        activate(fragment);
      }
    } else {
      target.replaceWith(fragment);
      activate(fragment);
      target = fragment;
      target.hidden = false;
    }
    roomRole(target);
    announceRoom(target, !same);
  }

  // Said, not done: focus stays where it is, so nobody typing loses their words or presses
  // a room button by accident (WCAG 3.2.2). The attendee app (tabs.js) hears the room
  // first: it may bring the room to the front, and changes the message to say where it is.
  function announceRoom(room, fresh) {
    var detail = { room: room, fresh: fresh, message: "" };
    if (fresh && room.getAttribute("data-ended") !== "yes") {
      detail.message = "You are now in breakout group " + room.getAttribute("data-group") +
        ". Your group's room is at the top of the page.";
    }
    document.dispatchEvent(new CustomEvent("webinar:room", { detail: detail }));
    if (detail.message) { flash(detail.message, "info"); }
  }

  function roomRole(room) {
    var facilitating = room.getAttribute("data-facilitator") === me() && me() !== "";
    var was = room.hasAttribute("data-i-facilitate");
    room.toggleAttribute("data-i-facilitate", facilitating);
    if (facilitating && !was) { refreshFacilitatorBoxes(room, true); }
    restoreDrafts(room);
  }

  function refreshFacilitatorBoxes(room, force) {
    // A new facilitator starts from the group's latest saved text.
    if (!room.hasAttribute("data-i-facilitate") && !force) { return; }
    room.querySelectorAll("textarea[data-draft]").forEach(function (box) {
      var shown = document.querySelector('[data-text-for="' + box.id + '"]');
      if (!shown || box.hasAttribute("data-dirty") || document.activeElement === box) { return; }
      var text = shown.querySelector(".response-text");
      box.value = text ? text.textContent : "";
    });
  }

  function draftKey(box) { return "webinar-draft:" + box.getAttribute("data-draft"); }

  function saveState(box, text) {
    var out = document.getElementById(box.id + "-state");
    if (out && out.textContent !== text) { out.textContent = text; }
  }

  function restoreDrafts(room) {
    if (!room.hasAttribute("data-i-facilitate")) { return; }
    room.querySelectorAll("textarea[data-draft]").forEach(function (box) {
      var stored = null;
      try { stored = JSON.parse(window.localStorage.getItem(draftKey(box)) || "null"); } catch (e) { stored = null; }
      if (stored && typeof stored.text === "string" && stored.text !== box.value) {
        box.value = stored.text;
        box.setAttribute("data-dirty", "");
        saveState(box, "Restored what you typed before; saving…");
        if (window.htmx) { window.htmx.trigger(box.form, "submit"); }
      }
    });
  }

  function resendDrafts() {
    document.querySelectorAll("#breakout-room[data-i-facilitate] textarea[data-dirty]").forEach(function (box) {
      if (window.htmx) { window.htmx.trigger(box.form, "submit"); }
    });
  }

  // A save that failed while the socket stayed open (a short network drop) is sent again
  // when the browser is back online, as the "Not saved yet" message promises.
  window.addEventListener("online", resendDrafts);

  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("textarea[data-draft]")) { return; }
    box.setAttribute("data-dirty", "");
    try {
      window.localStorage.setItem(draftKey(box), JSON.stringify({ text: box.value, at: Date.now() }));
    } catch (e) { /* storage full or blocked: the server copy still saves */ }
    saveState(box, "Saving…");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form[data-capture-form]");
    if (!form) { return; }
    var box = form.querySelector("textarea[data-draft]");
    if (!box) { return; }
    var sent = event.detail.requestConfig && event.detail.requestConfig.parameters
      ? event.detail.requestConfig.parameters.text : null;
    if (event.detail.successful) {
      if (sent === box.value) {
        box.removeAttribute("data-dirty");
        try { window.localStorage.removeItem(draftKey(box)); } catch (e) { /* ignore */ }
        saveState(box, "Saved.");
      }
    } else if (event.detail.xhr && event.detail.xhr.status >= 400) {
      var message = "Not saved.";
      try { message = "Not saved: " + JSON.parse(event.detail.xhr.responseText).error.message; } catch (e) { /* keep */ }
      saveState(box, message);
    } else {
      saveState(box, "Not saved yet: it will be sent when the connection is back.");
    }
  });

  var warned = {};

  // What is left, in words, counted from the real remaining time: never "1 minutes"
  // or "0 minutes".
  function timeLeftWords(seconds) {
    if (seconds < 60) { return "Less than a minute"; }
    var minutes = Math.max(1, Math.round(seconds / 60));
    var words = { 1: "One minute", 2: "Two minutes", 3: "Three minutes", 4: "Four minutes", 5: "Five minutes" };
    return words[minutes] || minutes + " minutes";
  }

  function warnIfDue(el, seconds) {
    var at = parseInt(el.getAttribute("data-warn-at") || "0", 10);
    var deadline = el.getAttribute("data-ends-at");
    if (!at || el.hasAttribute("data-frozen") || warned[deadline]) { return; }
    if (seconds <= at && seconds > 0) {
      warned[deadline] = true;
      var box = document.getElementById("warning");
      if (box) {
        box.textContent = timeLeftWords(seconds) + " left in the breakout. Please save your key points.";
      }
    }
  }

  /* -- lists that do not jump under the reader --------------------------------------- */

  function sortedCards(list) {
    var mode = list.getAttribute("data-sort") || "votes";
    var cards = Array.prototype.slice.call(list.children);
    cards.sort(function (a, b) {
      var pin = (+b.getAttribute("data-pinned") || 0) - (+a.getAttribute("data-pinned") || 0);
      if (pin) { return pin; }
      var ca = a.getAttribute("data-created") || "", cb = b.getAttribute("data-created") || "";
      if (mode === "newest") { return ca < cb ? 1 : ca > cb ? -1 : 0; }
      var votes = (+b.getAttribute("data-votes") || 0) - (+a.getAttribute("data-votes") || 0);
      if (votes) { return votes; }
      return ca < cb ? -1 : ca > cb ? 1 : 0;
    });
    return cards;
  }

  function inOrder(list) {
    var cards = sortedCards(list);
    for (var i = 0; i < cards.length; i++) {
      if (cards[i] !== list.children[i]) { return false; }
    }
    return true;
  }

  // In a pane that scrolls on its own (the host's questions), its top is the reader's.
  function readerAtTop(list) {
    var pane = list.closest("[data-scroll-pane]");
    return list.getBoundingClientRect().top >= (pane ? pane.getBoundingClientRect().top : 0);
  }

  function applyList(list) {
    var buffer = document.getElementById(list.id + "-incoming");
    if (buffer) {
      while (buffer.firstElementChild) { list.appendChild(buffer.firstElementChild); }
    }
    sortedCards(list).forEach(function (card) { list.appendChild(card); });
    announce(list);
  }

  function settleList(listId, why) {
    var list = document.getElementById(listId);
    if (!list || list.getAttribute("data-live-insert") === "append") { return; }
    if (why === "sort" || readerAtTop(list)) { applyList(list); return; }
    announce(list);
  }

  function announce(list) {
    var button = document.getElementById(list.id + "-apply");
    if (!button) { return; }
    var buffer = document.getElementById(list.id + "-incoming");
    var fresh = buffer ? buffer.children.length : 0;
    var stale = !inOrder(list);
    if (!fresh && !stale) { button.hidden = true; button.textContent = ""; return; }
    button.hidden = false;
    button.textContent = fresh
      ? "Show " + fresh + (fresh === 1 ? " new question" : " new questions")
      : "Update the order";
  }

  document.addEventListener("click", function (event) {
    var apply = event.target.closest("[data-apply]");
    if (apply) {
      var list = document.getElementById(apply.getAttribute("data-apply"));
      if (list) { applyList(list); list.focus && list.setAttribute("tabindex", "-1"); }
      return;
    }
    var sorter = event.target.closest("[data-sort][data-sort-list]");
    if (sorter) {
      var target = document.getElementById(sorter.getAttribute("data-sort-list"));
      if (!target) { return; }
      target.setAttribute("data-sort", sorter.getAttribute("data-sort"));
      document.querySelectorAll('[data-sort-list="' + target.id + '"]').forEach(function (b) {
        b.setAttribute("aria-pressed", b === sorter ? "true" : "false");
      });
      applyList(target);
    }
  });

  /* -- my votes, submit keys ------------------------------------------------------------ */

  var myVotes = {};

  function loadMyVotes() {
    var list = document.querySelector("[data-my-votes]");
    if (!list) { return; }
    (list.getAttribute("data-my-votes") || "").split(",").forEach(function (id) {
      if (id) { myVotes[id] = true; }
    });
  }

  function applyMyVotes(root) {
    var buttons = root.querySelectorAll ? root.querySelectorAll("button.vote[data-question]") : [];
    Array.prototype.forEach.call(buttons, function (button) {
      var voted = !!myVotes[button.getAttribute("data-question")];
      button.setAttribute("aria-pressed", voted ? "true" : "false");
      var label = button.querySelector(".vote-label");
      if (label) { label.textContent = voted ? "Voted" : "Vote"; }
      var on = button.form && button.form.querySelector('input[name="on"]');
      if (on) { on.value = voted ? "false" : "true"; }
    });
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function fillKeys(root) {
    var forms = root.querySelectorAll ? root.querySelectorAll("form[data-keyed]") : [];
    Array.prototype.forEach.call(forms, function (form) {
      var key = form.querySelector('input[name="key"]');
      if (key && !key.value) { key.value = newKey(); }
    });
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form");
    if (!event.detail.successful || !form || !form.hasAttribute("data-keyed")) { return; }
    // The submit is stored: the next one from this form is a new one.
    var key = form.querySelector('input[name="key"]');
    if (key) { key.value = newKey(); }
    var text = form.querySelector("textarea");
    if (text) { text.value = ""; updateCounter(text); }
  });

  /* -- what an action did: the named events of its answer's HX-Trigger header --------- */

  document.addEventListener("webinar:voted", function (event) {
    var done = event.detail;
    myVotes[String(done.question_id)] = done.voted;
    document.querySelectorAll("#q-" + done.question_id + "-votes, #sq-" + done.question_id + "-votes")
      .forEach(function (el) { el.textContent = String(done.votes); });
    applyMyVotes(document);
  });

  document.addEventListener("webinar:asked", function (event) {
    flash(event.detail.state === "pending"
      ? "Thank you. Your question will be shown once the host has reviewed it."
      : "Thank you. Your question has been sent.", "info");
  });

  document.addEventListener("webinar:preassigned", function (event) {
    var stored = event.detail.stored;
    var waiting = event.detail.not_joined_yet;
    flash("Stored " + stored + (stored === 1 ? " pre-assignment." : " pre-assignments.") +
      (waiting ? " " + waiting + " of the people named " + (waiting === 1 ? "has" : "have") +
        " not joined yet." : ""), "info");
  });

  function updateCounter(textarea) {
    var id = textarea.getAttribute("data-counter");
    var out = id && document.getElementById(id);
    if (!out) { return; }
    var max = parseInt(textarea.getAttribute("maxlength"), 10);
    var used = textarea.value.length;
    out.textContent = used ? used + " of " + max + " characters used." : "Up to " + max + " characters.";
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-counter]")) {
      updateCounter(event.target);
    }
  });


  /* -- the survey: a key and a draft kept here, its status, the error summary --------- */

  var SUBMITTED = "Thank you: your answers are submitted. You can still change them.";

  function surveyForm() { return document.getElementById("survey-form"); }

  function inSurvey(elt) {
    var form = surveyForm();
    return !!(form && elt && (elt === form || form.contains(elt)));
  }

  // Kept per participant, so that someone else joining in this browser starts afresh.
  /* -- leaving on a shared computer: this browser keeps nothing of the person's ------ */

  function setupLeave() {
    document.querySelectorAll("form[data-leave]").forEach(function (form) {
      form.addEventListener("submit", function () {
        try {
          var keys = [];
          for (var i = 0; i < window.localStorage.length; i++) {
            var name = window.localStorage.key(i);
            if (name && name.indexOf("webinar-") === 0) { keys.push(name); }
          }
          keys.forEach(function (name) { window.localStorage.removeItem(name); });
        } catch (e) { /* storage blocked: nothing was kept */ }
      });
    });
  }

  function surveyItem(kind) { return "webinar-survey-" + kind + ":" + me(); }

  function remember(name, value) {
    try {
      if (value === null) { window.localStorage.removeItem(name); } else { window.localStorage.setItem(name, value); }
    } catch (e) { /* storage full or blocked: the server copy still saves */ }
  }

  function recall(name) {
    try { return window.localStorage.getItem(name); } catch (e) { return null; }
  }

  // The answers in the form, question code -> the values given (the key left out).
  function surveyAnswers(form) {
    var answers = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "key" || el.type === "button" || el.type === "submit") { return; }
      var values = answers[el.name] || (answers[el.name] = []);
      if ((el.type !== "radio" && el.type !== "checkbox") || el.checked) { values.push(el.value); }
    });
    return JSON.stringify(answers);
  }

  function restoreSurveyDraft(form, draft) {
    var answers;
    try { answers = JSON.parse(draft); } catch (e) { return false; }
    if (!answers || typeof answers !== "object") { return false; }
    var before = surveyAnswers(form);
    Array.prototype.forEach.call(form.elements, function (el) {
      var values = answers[el.name];
      if (!Array.isArray(values) || el.name === "key") { return; }
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = values.indexOf(el.value) !== -1;
      } else if (el.tagName === "TEXTAREA") {
        el.value = typeof values[0] === "string" ? values[0] : "";
      }
    });
    return surveyAnswers(form) !== before;
  }

  function surveyStatus(text) {
    var out = document.getElementById("survey-state");
    if (out && out.textContent !== text) { out.textContent = text; }
  }

  function setupSurvey() {
    var form = surveyForm();
    if (!form) { return; }
    var key = form.querySelector('input[name="key"]');
    if (key && !key.value) {
      // No reply has brought this session a key yet: make one (or take the one an earlier
      // save from this browser used, whose reply may have been lost) and keep it.
      key.value = recall(surveyItem("key")) || newKey();
      remember(surveyItem("key"), key.value);
    }
    var draft = recall(surveyItem("draft"));
    if (draft && restoreSurveyDraft(form, draft)) {
      surveyStatus("Restored what you gave before; saving…");
      if (window.htmx) { window.htmx.trigger(form, "change"); }
    }
  }

  function resendSurvey() {
    var form = surveyForm();
    if (form && recall(surveyItem("draft")) && window.htmx) { window.htmx.trigger(form, "change"); }
  }

  window.addEventListener("online", resendSurvey);

  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var form = surveyForm();
      if (form && event.target !== form && form.contains(event.target)) {
        remember(surveyItem("draft"), surveyAnswers(form));
      }
    });
  });

  function clearSurveyErrors(form) {
    var summary = document.getElementById("survey-errors");
    if (summary) { summary.hidden = true; summary.querySelector("ul").innerHTML = ""; }
    form.querySelectorAll(".has-error").forEach(function (field) {
      field.classList.remove("has-error");
      var message = field.querySelector(".error");
      if (message) { message.hidden = true; message.textContent = ""; }
      var described = field.tagName === "FIELDSET" ? field : field.querySelector("textarea");
      if (described) {
        described.removeAttribute("aria-describedby");
        described.removeAttribute("aria-invalid");
      }
    });
  }

  // The question's first control: where the summary's link takes the reader.
  function questionControl(field) {
    return field.tagName === "FIELDSET" ? field.querySelector("input") : field.querySelector("textarea");
  }

  function showSurveyErrors(form, errors, moveFocus) {
    clearSurveyErrors(form);
    var summary = document.getElementById("survey-errors");
    var list = summary.querySelector("ul");
    errors.forEach(function (error) {
      var item = document.createElement("li");
      var field = error.field ? form.querySelector('[data-question="' + error.field + '"]') : null;
      var control = field ? questionControl(field) : null;
      if (field && control) {
        var link = document.createElement("a");
        link.href = "#" + control.id;
        link.textContent = error.message;
        item.appendChild(link);
        field.classList.add("has-error");
        var message = field.querySelector(".error");
        message.textContent = "";
        var prefix = document.createElement("span");
        prefix.className = "visually-hidden";
        prefix.textContent = "Error: ";
        message.appendChild(prefix);
        message.appendChild(document.createTextNode(error.message));
        message.hidden = false;
        var described = field.tagName === "FIELDSET" ? field : control;
        described.setAttribute("aria-describedby", message.id);
        if (described === control) { control.setAttribute("aria-invalid", "true"); }
      } else {
        item.textContent = error.message;
      }
      list.appendChild(item);
    });
    summary.hidden = false;
    if (moveFocus) { summary.focus(); }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#survey-errors a[href^='#']");
    if (!link) { return; }
    var control = document.getElementById(link.getAttribute("href").slice(1));
    if (!control) { return; }
    // As GOV.UK's summary does: focus the control, with its question's label in view.
    event.preventDefault();
    control.focus({ preventScroll: true });
    var field = control.closest("[data-question]");
    (field || control).scrollIntoView({ block: "start" });
  });

  // Saves are queued one after another (hx-sync), so what a save sent can wait on the
  // element that sent it until its answer comes.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = surveyForm();
    if (form && inSurvey(event.detail.elt)) {
      event.detail.elt.surveySent = surveyAnswers(form);
    }
  });

  document.addEventListener("webinar:survey-saved", function (event) {
    var form = surveyForm();
    var elt = event.detail.elt;
    if (!form || !inSurvey(elt)) { return; }
    if (elt.surveySent === surveyAnswers(form)) {
      // The server holds what the form shows, and the session cookie now holds the key.
      remember(surveyItem("draft"), null);
      remember(surveyItem("key"), null);
    }
    if (elt.hasAttribute("data-survey-submit")) { clearSurveyErrors(form); }
    var summary = document.getElementById("survey-errors");
    // Decided by the server's answer, not by which request this was: an autosave whose
    // reply comes after the submit's must not take the confirmation away.
    if (event.detail.submitted) {
      surveyStatus(SUBMITTED);
    } else if (summary && !summary.hidden) {
      surveyStatus("Saved, but not submitted: please see the problem at the top of the form.");
    } else {
      surveyStatus("Saved.");
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = surveyForm();
    var elt = event.detail.elt;
    if (!form || !inSurvey(elt) || event.detail.successful) { return; }  // saved: see above
    var final = elt.hasAttribute("data-survey-submit");
    var xhr = event.detail.xhr;
    var body = null;
    try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
    if (xhr && xhr.status >= 400) {
      var error = body && body.error ? body.error : { message: "Something went wrong (" + xhr.status + ")." };
      var errors = error.errors || [{ field: error.field, message: error.message }];
      if (final || error.field) {
        showSurveyErrors(form, errors, final);
      }
      surveyStatus(final ? "Not submitted: please see the problem at the top of the form."
        : "Not saved: " + error.message);
    } else {
      surveyStatus("Not saved yet: your answers are kept on this device and sent when the connection is back.");
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    if (inSurvey(event.detail.elt)) { return; }  // the survey shows its own errors in place
    var xhr = event.detail.xhr;
    var message = "Something went wrong (" + xhr.status + ").";
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.error && body.error.message) { message = body.error.message; }
    } catch (e) { /* not JSON */ }
    flash(message, "error");
  });

  document.addEventListener("htmx:sendError", function (event) {
    if (inSurvey(event.detail.elt)) { return; }
    flash("Could not reach the server. Check your connection and try again.", "error");
  });

  document.addEventListener("htmx:beforeRequest", function () { flash("", "info"); });

  document.addEventListener("DOMContentLoaded", function () {
    var el = seqElement();
    if (el && el.getAttribute("data-server-now")) {
      setOffsetFrom(el.getAttribute("data-server-now"));
    }
    loadMyVotes();
    applyMyVotes(document);
    fillKeys(document);
    var room = document.getElementById("breakout-room");
    if (room) { roomRole(room); }
    setupSurvey();
    setupLeave();
    tick();
    setInterval(tick, 500);
  });
})();
