/* Live page behaviour: resume the event stream by sequence number, tick countdowns
 * against the server's clock, and show errors from htmx requests. No inline script:
 * the Content-Security-Policy forbids it. */
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

  function flash(message, kind) {
    var el = document.getElementById("flash");
    if (!el) { return; }
    el.textContent = message || "";
    el.setAttribute("data-kind", kind || "info");
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

  function tick() {
    var now = Date.now() + offsetMs;
    var timers = document.querySelectorAll(".timer[data-ends-at]");
    for (var i = 0; i < timers.length; i++) {
      var el = timers[i];
      var frozen = el.getAttribute("data-frozen");
      var seconds = frozen !== null ? parseFloat(frozen)
        : (Date.parse(el.getAttribute("data-ends-at")) - now) / 1000;
      if (isNaN(seconds)) { continue; }
      var text = formatRemaining(seconds);
      if (el.textContent !== text) { el.textContent = text; }
      el.classList.toggle("overrun", seconds < 0);
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
    sendPing(wrapper);
    if (pingTimer) { clearInterval(pingTimer); }
    pingTimer = setInterval(function () { sendPing(wrapper); }, 30000);
  });

  document.addEventListener("htmx:wsClose", function () {
    setConnection("closed", "Reconnecting…");
    if (pingTimer) { clearInterval(pingTimer); pingTimer = null; }
  });

  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    var message = event.detail.message;
    if (typeof message !== "string") { event.preventDefault(); return; }
    if (message.charAt(0) === "{") {
      event.preventDefault(); // a reply, not fragments
      var reply;
      try { reply = JSON.parse(message); } catch (e) { return; }
      if (reply.type === "pong" && reply.now) {
        setOffsetFrom(reply.now, window.__webinarPingSentAt, Date.now());
      } else if (reply.type === "error" && reply.message) {
        flash(reply.message, "error");
      }
      return;
    }
    var match = /^<div id="live-seq" data-seq="(\d+)"[^>]*?( data-snapshot="1")?[^>]*>/.exec(message);
    if (!match) { return; }
    var seq = parseInt(match[1], 10);
    var known = lastSeq();
    if (!match[2] && known !== null && seq <= known) {
      event.preventDefault(); // already applied: a replay overlapping what we had
    }
  });

  document.addEventListener("htmx:wsAfterMessage", function () { tick(); });

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var message = "Something went wrong (" + xhr.status + ").";
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.error && body.error.message) { message = body.error.message; }
    } catch (e) { /* not JSON */ }
    flash(message, "error");
  });

  document.addEventListener("htmx:sendError", function () {
    flash("Could not reach the server. Check your connection and try again.", "error");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) { flash("", "info"); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var el = seqElement();
    if (el && el.getAttribute("data-server-now")) {
      setOffsetFrom(el.getAttribute("data-server-now"));
    }
    tick();
    setInterval(tick, 500);
  });
})();
