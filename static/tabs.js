/* The attendee app's tabs (templates/_app_tabs.html): the ARIA tabs pattern over the
 * panels of /live. No inline script: the Content-Security-Policy forbids it.
 *
 * On a phone, and during a breakout on any screen, one panel is on show at a time; on a
 * desktop outside a breakout every panel is on show (slides and questions side by side)
 * and the tabs are hidden. Without this script every panel is on show, one after another.
 *
 * A breakout that starts brings "My group" to the front, and one that ends brings "Now"
 * back, said through the page's live region (live.js flashes the message this script
 * leaves on the "webinar:room" event). Neither happens under someone typing in a field
 * of another panel: the tab is marked instead, and the message says where the room is.
 * The Questions tab counts the questions published while it was not on show.
 *
 * Any other tab set, a [data-tabs] box (the host console's side pane), is the plain
 * pattern: one panel on show at a time, chosen by click, arrow keys, Home and End. Its
 * list stays hidden without this script, and every panel shows. window.webinarTabs.choose
 * lets a page's own script bring a tab to the front. */
(function () {
  "use strict";

  var WIDE = window.matchMedia("(min-width: 64rem)");
  var selected = "now";
  var running = false;      // whether a breakout room of this person's was running
  var seen = {};            // ids of the questions and polls already counted
  var unread = { now: 0, questions: 0, group: 0 };
  // What a tab counts while it is not on show, and how a count is read out.
  var COUNTED = {
    questions: { cards: "#qa-list > li[id], #qa-list-incoming > li[id]", one: " new question", many: " new questions" },
    now: { cards: "#polls-live-list > li[id]", one: " new poll", many: " new polls" }
  };

  function app() { return document.getElementById("app"); }
  function tabs() { return Array.prototype.slice.call(document.querySelectorAll("#app-tabs [role=tab]")); }
  function shownTabs() { return tabs().filter(function (tab) { return !tab.hidden; }); }
  function tabOf(name) { return document.getElementById("tab-" + name); }
  function panelOf(name) { return document.getElementById("panel-" + name); }

  function room() {
    var el = document.getElementById("breakout-room");
    return el && !el.hidden ? el : null;
  }

  function roomRunning() {
    var el = room();
    return !!el && el.getAttribute("data-ended") !== "yes";
  }

  function tabbed() { return !WIDE.matches || roomRunning(); }

  // Attributes are only written when they change: a MutationObserver watches the panels.
  function setHidden(el, value) { if (el.hidden !== value) { el.hidden = value; } }

  function setAttr(el, name, value) {
    if (value === null) {
      if (el.hasAttribute(name)) { el.removeAttribute(name); }
    } else if (el.getAttribute(name) !== value) {
      el.setAttribute(name, value);
    }
  }

  function showCount(name) {
    var out = document.getElementById("tab-" + name + "-count");
    if (!out) { return; }
    var count = unread[name];
    var text = name === "group" ? "new" : String(count);
    setHidden(out, !count);
    if (!count) { out.textContent = ""; return; }
    if (out.firstChild && out.firstChild.nodeValue === text) { return; }
    out.textContent = text;
    if (COUNTED[name]) {
      var words = document.createElement("span");
      words.className = "visually-hidden";
      words.textContent = count === 1 ? COUNTED[name].one : COUNTED[name].many;
      out.appendChild(words);
    }
  }

  function render() {
    var root = app();
    if (!root) { return; }
    var on = tabbed();
    setAttr(root, "data-tabbed", on ? "" : null);
    setHidden(document.getElementById("app-tabs"), !on);
    setHidden(tabOf("group"), !room());
    if (selected === "group" && !room()) { selected = "now"; }
    tabs().forEach(function (tab) {
      var name = tab.getAttribute("data-tab");
      var chosen = name === selected;
      var panel = panelOf(name);
      setAttr(tab, "aria-selected", chosen ? "true" : "false");
      setAttr(tab, "tabindex", chosen ? "0" : "-1");
      setAttr(panel, "role", on ? "tabpanel" : null);
      setAttr(panel, "aria-labelledby", on ? tab.id : null);
      setHidden(panel, on ? !chosen : name === "group" && !room());
    });
    Object.keys(unread).forEach(function (name) {
      if (!panelOf(name).hidden) { unread[name] = 0; }
      showCount(name);
    });
  }

  function select(name, moveFocus) {
    selected = name;
    render();
    if (moveFocus) { tabOf(name).focus({ preventScroll: true }); }
  }

  /* -- a plain tab set: [data-tabs] ------------------------------------------------ */

  function setTabs(box) { return Array.prototype.slice.call(box.querySelectorAll('[role="tab"]')); }

  // Shows ``tab``'s panel and hides the others of its set.
  function choose(tab, moveFocus) {
    setTabs(tab.closest("[data-tabs]")).forEach(function (each) {
      var chosen = each === tab;
      setAttr(each, "aria-selected", chosen ? "true" : "false");
      setAttr(each, "tabindex", chosen ? "0" : "-1");
      var panel = document.getElementById(each.getAttribute("aria-controls"));
      if (panel) { setHidden(panel, !chosen); }
    });
    if (moveFocus) { tab.focus(); }
  }

  function setUpSets() {
    document.querySelectorAll("[data-tabs]").forEach(function (box) {
      var list = box.querySelector('[role="tablist"]');
      var tabs = setTabs(box);
      if (!list || !tabs.length) { return; }
      setHidden(list, false);
      choose(tabs.filter(function (t) { return t.getAttribute("aria-selected") === "true"; })[0] || tabs[0], false);
    });
  }

  window.webinarTabs = { choose: choose };

  /* -- the person's own choices: click, arrow keys, Home and End ------------------- */

  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest("#app-tabs [role=tab]");
    if (tab) { select(tab.getAttribute("data-tab"), true); }
    var other = event.target.closest && event.target.closest("[data-tabs] [role=tab]");
    if (other) { choose(other, true); }
  });

  var STEPS = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };

  // The tab of ``list`` that ``key`` moves to from ``tab``; null for any other key.
  function stepped(list, tab, key) {
    var at = list.indexOf(tab);
    if (STEPS[key]) { return list[(at + STEPS[key] + list.length) % list.length]; }
    if (key === "Home") { return list[0]; }
    if (key === "End") { return list[list.length - 1]; }
    return null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || !event.target.closest) { return; }
    var tab = event.target.closest("#app-tabs [role=tab]");
    var other = event.target.closest("[data-tabs] [role=tab]");
    var next = tab ? stepped(shownTabs(), tab, event.key)
      : other ? stepped(setTabs(other.closest("[data-tabs]")), other, event.key) : null;
    if (!next) { return; }
    event.preventDefault();
    if (tab) { select(next.getAttribute("data-tab"), true); } else { choose(next, true); }
  });

  /* -- a breakout that starts or ends ----------------------------------------------- */

  // Someone typing in a field of a panel about to be hidden keeps it (WCAG 3.2.2).
  function typingOutside(name) {
    var el = document.activeElement;
    if (!el || el === document.body) { return false; }
    var field = el.matches("textarea, select, [contenteditable], input:not([type=button]):not([type=submit]):not([type=checkbox]):not([type=radio]):not([type=hidden])");
    var panel = panelOf(name);
    return field && !(panel && panel.contains(el));
  }

  // The panel holding focus, if any: it stays on show when the tabs come on.
  function focusedPanel() {
    var el = document.activeElement;
    var panel = el && el.closest ? el.closest(".app-panel") : null;
    return panel ? panel.getAttribute("data-panel") : null;
  }

  // A window made narrow (or a phone turned) keeps what the person is in on show.
  function resized() {
    if (tabbed()) { selected = focusedPanel() || selected; }
    render();
  }

  // Focus on a control about to be hidden goes to the tab now selected, not to the page.
  function focusLost(name) {
    var el = document.activeElement;
    var panel = panelOf(name);
    return !!el && el !== document.body && !!el.closest(".app-panel") && !(panel && panel.contains(el));
  }

  function roomChanged(event) {
    if (!app()) { return; }
    var detail = event.detail;
    var was = running;
    running = roomRunning();
    var group = detail.room.getAttribute("data-group");
    if (running && (detail.fresh || !was)) {
      if (typingOutside("group")) {
        // Tabs may come on now (a desktop): the field's own panel stays on show.
        selected = focusedPanel() || selected;
        unread.group = 1;
        detail.message = "You are now in breakout group " + group +
          ". Your group's room is under the My group tab, when you are ready.";
      } else {
        select("group", focusLost("group"));
      }
    } else if (was && !running) {
      if (selected === "group" && !typingOutside("now")) {
        select("now", focusLost("now"));
        detail.message = "The breakout has ended: you are back in the main session. " +
          "Your group's responses are saved " +
          (tabbed() ? "under the My group tab." : "further down the page.");
      } else {
        detail.message = "The breakout has ended: you are back in the main session.";
      }
    }
    render();
  }

  /* -- questions published and polls opened while their tab was not on show --------- */

  function countNew() {
    Object.keys(COUNTED).forEach(function (name) {
      var added = 0;
      Array.prototype.forEach.call(document.querySelectorAll(COUNTED[name].cards), function (card) {
        if (!seen[card.id]) { seen[card.id] = true; added += 1; }
      });
      if (added && panelOf(name).hidden) {
        unread[name] += added;
        showCount(name);
      }
    });
  }

  function watch() {
    Object.keys(COUNTED).forEach(function (name) {  // what the page came with is not new
      document.querySelectorAll(COUNTED[name].cards).forEach(function (card) { seen[card.id] = true; });
    });
    ["qa", "polls-live"].forEach(function (id) {
      var part = document.getElementById(id);
      if (part) { new MutationObserver(countNew).observe(part, { childList: true, subtree: true }); }
    });
    // A room that comes, goes or ends by any live update: the tabs follow.
    new MutationObserver(render).observe(panelOf("group"), {
      childList: true, subtree: true, attributes: true, attributeFilter: ["hidden", "data-ended"]
    });
  }

  document.addEventListener("webinar:room", roomChanged);

  document.addEventListener("DOMContentLoaded", function () {
    setUpSets();
    var root = app();
    if (!root) { return; }
    running = roomRunning();
    selected = root.getAttribute("data-start") === "group" && running ? "group" : "now";
    render();
    watch();
    if (WIDE.addEventListener) { WIDE.addEventListener("change", resized); }
  });
})();
