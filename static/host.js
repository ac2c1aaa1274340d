/* The host control room (templates/host.html): live counts on its tabs, rare forms in a
 * dialog, and the questions pane's keyboard shortcuts. No inline script: the
 * Content-Security-Policy forbids it. The tabs are tabs.js's, the dialogs dialog.js's.
 * live.js applies the live events; this file only reads the data attributes of the page
 * it leaves behind, so it needs no hook into live.js.
 *
 * Without script the page still works: every tab panel shows, one under another, and
 * the rare forms open in place (<details>).
 *
 * Shortcuts (WCAG 2.1.4): single keys act only while focus is in the questions pane and
 * not in a field, and the switch in the shortcut map turns them off (kept per browser). */
(function () {
  "use strict";

  var SWITCH = "webinar-host-shortcuts";

  /* -- the tabs' counts ---------------------------------------------------------------- */
  // The tabs themselves are tabs.js's ([data-tabs]); the rare forms open through dialog.js.

  function grid() { return document.getElementById("breakout-grid"); }

  // What each tab's label adds, read from the data the templates set on the panes (as
  // live.js left them): {text, urgent}.
  var COUNTS = {
    "pane-breakouts": function () {
      var shown = grid();
      var state = shown ? shown.getAttribute("data-state") : "";
      var help = shown ? Number(shown.getAttribute("data-help")) || 0 : 0;
      if (help) { return { text: help + (help === 1 ? " needs help" : " need help"), urgent: true }; }
      return { text: state === "open" ? "running" : "", urgent: false };
    },
    "pane-polls": function () {
      var open = document.querySelectorAll('#polls-host-list > li[data-state="open"]').length;
      return { text: open ? open + " open" : "", urgent: false };
    },
    "pane-survey": function () {
      var submitted = document.getElementById("survey-submitted");
      return { text: submitted ? submitted.getAttribute("data-count") : "", urgent: false };
    }
  };

  var gridShown = null;

  // When a breakout starts, its grid comes to the front (focus stays where it is).
  function showGridWhenItStarts() {
    var shown = !!(grid() && grid().getAttribute("data-state"));
    var tab = document.getElementById("pane-breakouts-tab");
    if (gridShown === false && shown && tab && !tab.closest("[hidden]")) { window.webinarTabs.choose(tab, false); }
    gridShown = shown;
  }

  // A count is app.css's .badge-count (.badge-count-urgent for help), read aloud in
  // brackets after the tab's name: "Breakouts (1 needs help)".
  function showCount(out, text, urgent) {
    if (out.hidden !== !text) { out.hidden = !text; }
    out.classList.toggle("badge-count-urgent", urgent);
    if (out.textContent === (text ? "(" + text + ")" : "")) { return; }
    out.textContent = "";
    if (!text) { return; }
    var open = document.createElement("span");
    open.className = "visually-hidden";
    open.textContent = "(";
    var close = open.cloneNode(false);
    close.textContent = ")";
    out.append(open, text, close);
  }

  function updateCounts() {
    showGridWhenItStarts();
    Object.keys(COUNTS).forEach(function (id) {
      var out = document.querySelector('[data-count-for="' + id + '"]');
      if (!out) { return; }
      var count = COUNTS[id]();
      showCount(out, count.text, count.urgent);
    });
  }

  var countsDue = false;

  function countsLater() {
    if (countsDue) { return; }
    countsDue = true;
    window.requestAnimationFrame(function () { countsDue = false; updateCounts(); });
  }

  /* -- rare forms in a dialog ----------------------------------------------------------- */

  // A <details data-dialog="title"> opens as a modal dialog: its content moves into the
  // dialog (ids and htmx bindings go with it) and back when the dialog closes.
  var borrowed = null;  // {details, nodes, then, sent}

  function hostDialog() { return document.getElementById("host-dialog"); }

  function rendered(el) { return !!(el && document.contains(el) && el.getClientRects().length); }

  // ``then`` (given by the keys, maybe null): where focus goes once a form in the dialog is
  // sent, the card itself may be leaving its list.
  function openRare(details, focusSelector, then) {
    var dialog = hostDialog();
    if (!dialog || dialog.open) { return; }
    var body = document.getElementById("host-dialog-body");
    var nodes = Array.prototype.filter.call(details.childNodes, function (n) { return n.nodeName !== "SUMMARY"; });
    nodes.forEach(function (n) { body.appendChild(n); });
    borrowed = { details: details, nodes: nodes, then: then, sent: false };
    document.getElementById("host-dialog-title").textContent = details.getAttribute("data-dialog");
    // Focus on the first field, not the dialog's Close button; giveBack returns it.
    window.webinarDialog.open(dialog, null,
      "#host-dialog-body " + (focusSelector || ":is(input:not([type=hidden]), select, textarea, button)"));
  }

  function giveBack() {
    if (!borrowed) { return; }
    var details = borrowed.details;
    // A live update may have replaced what the forms came from: its own copy stands.
    if (document.contains(details)) {
      borrowed.nodes.forEach(function (n) { details.appendChild(n); });
    } else {
      borrowed.nodes.forEach(function (n) { n.remove(); });
    }
    // Replaced, its new copy (same id) takes the focus back.
    var current = (details.id && document.getElementById(details.id)) || details;
    var summary = current.querySelector("summary");
    var pane = current.closest("[data-shortcut-pane]");
    // Sent from a question's card, the card may be about to move (declined, merged): on
    // to its neighbour, or the pane, rather than after it.
    var order = borrowed.sent && borrowed.then !== undefined ? [borrowed.then, pane] : [summary, pane];
    var back = order.filter(rendered)[0];
    borrowed = null;
    if (back === pane && !pane.hasAttribute("tabindex")) { pane.setAttribute("tabindex", "-1"); }
    if (back) { back.focus(); }
  }

  function setupDialogs() {
    var dialog = hostDialog();
    if (dialog) { dialog.addEventListener("close", giveBack); }
    document.addEventListener("click", function (event) {
      var summary = event.target.closest && event.target.closest("details[data-dialog] > summary");
      if (summary) {
        event.preventDefault();
        openRare(summary.parentElement);
        return;
      }
    });
    // Done: a form sent from the dialog closes it (dialog.js), and focus goes on from
    // where it was. Marked in the capture phase, before dialog.js closes it.
    document.addEventListener("htmx:afterRequest", function (event) {
      var open = hostDialog();
      if (borrowed && open && open.open && event.detail.successful && open.contains(event.detail.elt)) {
        borrowed.sent = true;
      }
    }, true);
  }

  /* -- the questions pane's keys ---------------------------------------------------------- */

  var enabled = true;

  function shortcutsOn() { return enabled; }

  function typing(el) {
    return !!(el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)));
  }

  function cards(pane) {
    return Array.prototype.filter.call(pane.querySelectorAll(".question.staff"), function (card) {
      return card.getClientRects().length > 0;
    });
  }

  function say(text) {
    var out = document.getElementById("flash");
    if (out) { out.setAttribute("data-kind", "info"); out.textContent = text; }
  }

  function step(pane, card, by) {
    var all = cards(pane);
    var at = card ? all.indexOf(card) : -1;
    var next = all[card ? at + by : (by > 0 ? 0 : all.length - 1)];
    if (next) { next.focus(); next.scrollIntoView({ block: "nearest" }); }
  }

  function press(card, key, missing) {
    var button = card && card.querySelector('[data-shortcut="' + key + '"]');
    if (button) { button.click(); return true; }
    if (card) { say(missing); }
    return false;
  }

  function approve(card) {
    var next = card && card.nextElementSibling;
    if (press(card, "a", "This question is not waiting for approval.") && next) {
      // As a moderator works down the queue: on to the next waiting question.
      next.focus();
    }
  }

  function rare(card, focusSelector) {
    var details = card && card.querySelector("details[data-dialog]");
    var then = card ? card.nextElementSibling || card.previousElementSibling : null;
    if (details) { openRare(details, focusSelector, then); } else if (card) { say("Nothing more to do with this question."); }
  }

  var ACTIONS = {
    j: function (pane, card) { step(pane, card, 1); },
    ArrowDown: function (pane, card) { step(pane, card, 1); },
    k: function (pane, card) { step(pane, card, -1); },
    ArrowUp: function (pane, card) { step(pane, card, -1); },
    a: function (pane, card) { approve(card); },
    d: function (pane, card) { rare(card, "[data-decline]"); },
    m: function (pane, card) { rare(card, null); },
    h: function (pane, card) { press(card, "h", "Approve the question before showing it."); },
    x: function (pane, card) { press(card, "x", "Approve the question before marking it answered."); },
    p: function (pane, card) { press(card, "p", "Approve the question before pinning it."); }
  };

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) { return; }
    if (!shortcutsOn() || typing(event.target) || document.querySelector("dialog[open]")) { return; }
    if (event.key === "?") {
      event.preventDefault();
      showShortcuts();
      return;
    }
    var pane = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("[data-shortcut-pane]") : null;
    var act = pane ? ACTIONS[event.key] : null;
    if (!act) { return; }
    event.preventDefault();
    act(pane, document.activeElement.closest(".question.staff"));
  }

  function showShortcuts() {
    window.webinarDialog.open(document.getElementById("shortcuts"), document.activeElement);
  }

  function setupShortcuts() {
    var opener = document.getElementById("shortcuts-open");
    var toggle = document.getElementById("shortcuts-on");
    // The button opens the map through dialog.js (which gives focus back to it); "?" here.
    if (opener) { opener.hidden = false; }
    try { enabled = window.localStorage.getItem(SWITCH) !== "off"; } catch (e) { enabled = true; }
    if (toggle) {
      toggle.checked = enabled;
      toggle.addEventListener("change", function () {
        enabled = toggle.checked;
        try { window.localStorage.setItem(SWITCH, enabled ? "on" : "off"); } catch (e) { /* this page only */ }
      });
    }
    document.addEventListener("keydown", onKey);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.body.classList.contains("host")) { return; }
    setupDialogs();
    setupShortcuts();
    updateCounts();
    new MutationObserver(countsLater).observe(document.getElementById("main"), { childList: true, subtree: true });
  });
})();
