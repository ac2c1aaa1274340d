/* The main stage's HLS stream, played with the vendored hls.js (or natively, in Safari).
   Captions the stream carries appear in the player's captions menu. A stage replaced by a
   live update has its player torn down. */
(function () {
  "use strict";
  var players = [];

  function say(video, text) {
    var status = video.parentElement && video.parentElement.querySelector("[data-hls-status]");
    if (status) { status.textContent = text; }
  }

  function attach(video) {
    if (video.hasAttribute("data-hls-state")) { return; }
    video.setAttribute("data-hls-state", "loading");
    var src = video.getAttribute("data-hls-src");
    var Hls = window.Hls;
    if (Hls && Hls.isSupported()) {
      // No worker: it would be made from a blob: URL, which the policy does not allow.
      var hls = new Hls({ enableWorker: false, subtitleDisplay: true });
      hls.on(Hls.Events.MANIFEST_PARSED, function () {
        video.setAttribute("data-hls-state", "ready");
        video.setAttribute("data-hls-manifest", "parsed");
        say(video, "");
      });
      hls.on(Hls.Events.ERROR, function (_, data) {
        if (data.fatal) {
          video.setAttribute("data-hls-state", "error");
          say(video, "The stream cannot be played at the moment: it may not have started yet. It is tried again when the page is reloaded.");
        }
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      players.push({ video: video, hls: hls });
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = src;
      video.setAttribute("data-hls-state", "ready");
    } else {
      video.setAttribute("data-hls-state", "error");
      say(video, "This browser cannot play the live stream.");
    }
  }

  function scan() {
    players = players.filter(function (p) {
      if (document.contains(p.video)) { return true; }
      p.hls.destroy();
      return false;
    });
    document.querySelectorAll("video[data-hls-src]").forEach(attach);
  }

  document.addEventListener("DOMContentLoaded", function () {
    scan();
    new MutationObserver(scan).observe(document.body, { childList: true, subtree: true });
  });
})();
