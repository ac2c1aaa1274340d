/* The projector's full-screen button (the Fullscreen API): shown only where the browser
   allows full screen, and its words follow the state (Escape also leaves). */
(function () {
  "use strict";

  function label(button) {
    button.textContent = document.fullscreenElement ? "Leave full screen" : "Full screen";
  }

  function setUp() {
    var button = document.querySelector("[data-fullscreen]");
    if (!button || !document.fullscreenEnabled) { return; }
    button.hidden = false;
    label(button);
    button.addEventListener("click", function () {
      var done = document.fullscreenElement
        ? document.exitFullscreen()
        : document.documentElement.requestFullscreen({ navigationUI: "hide" });
      if (done && done.catch) {
        done.catch(function () { label(button); });
      }
    });
    document.addEventListener("fullscreenchange", function () { label(button); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
