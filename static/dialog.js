// Dialogs without inline script (the CSP forbids it): a button with
// data-dialog-open="some-id" opens <dialog id="some-id"> as a modal; a button inside it
// with data-dialog-close closes it; Escape closes it (the browser does that for a modal);
// and when it closes, focus goes back to the button that opened it.
// Listeners sit on the document, so buttons and dialogs that htmx swaps in work too.
// A page's own script opens one with window.webinarDialog.open(dialog, opener, focus):
// ``focus`` (a selector, optional) picks the field to start on; with no ``opener`` the
// script that opened it gives focus back itself, on the dialog's "close".
(function () {
  "use strict";

  // The button that opened each open dialog, to give focus back to, and what had the
  // focus when it opened.
  var openers = new WeakMap();
  var before = new WeakMap();

  function open(dialog, opener, focus) {
    if (!dialog || typeof dialog.showModal !== "function" || dialog.open) return;
    openers.set(dialog, opener);
    before.set(dialog, document.activeElement);
    dialog.showModal();
    var first = (focus && dialog.querySelector(focus)) || dialog.querySelector("[autofocus]") ||
      dialog.querySelector("input:not([type=hidden]), select, textarea, button");
    if (first) first.focus();
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var opener = target.closest("[data-dialog-open]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog-open"));
      if (dialog && dialog.tagName === "DIALOG") {
        event.preventDefault();
        open(dialog, opener);
      }
      return;
    }
    var closer = target.closest("[data-dialog-close]");
    if (closer) {
      var owner = closer.closest("dialog");
      if (owner) {
        event.preventDefault();
        owner.close();
      }
    }
  });

  // Where the focus is once the dialog has closed is where the browser put it back
  // (the modal's own restore), or inside the dialog, or nowhere: the person has not
  // moved on yet. "close" comes a task later than the closing, after keys typed since.
  function notMovedOn(dialog) {
    var el = document.activeElement;
    return !el || el === document.body || dialog.contains(el) || el === before.get(dialog);
  }

  // "close" does not bubble: listen in the capture phase to catch every dialog's.
  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (!(dialog instanceof HTMLDialogElement)) return;
    var opener = openers.get(dialog);
    openers.delete(dialog);
    // A key pressed after Escape (Tab on to the next control) is not undone.
    if (opener && opener.isConnected && notMovedOn(dialog)) opener.focus();
    before.delete(dialog);
  }, true);

  // An htmx request from inside a dialog this script opened closes it once it succeeds,
  // unless the form asks to stay open with data-dialog-keep. Dialogs opened by other
  // scripts are left to them.
  document.addEventListener("htmx:afterRequest", function (event) {
    var source = event.target instanceof Element ? event.target : null;
    var dialog = source && source.closest("dialog[open]");
    if (!dialog || !openers.has(dialog) || source.closest("[data-dialog-keep]")) return;
    if (event.detail && event.detail.successful) dialog.close();
  });

  window.webinarDialog = { open: open };
})();
