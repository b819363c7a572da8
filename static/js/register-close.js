// The end of LTI Dynamic Registration: tell the LMS that opened this page
// (as a window or a frame) to close it, after a pause so the admin can read
// the outcome, or at once when the Close button is pressed.
(function () {
  "use strict";
  var box = document.querySelector("[data-lti-close]");
  if (!box) return;
  var sent = false;
  function close() {
    if (sent) return;
    var target = window.opener || (window.parent !== window ? window.parent : null);
    if (!target) {
      window.close();
      return;
    }
    sent = true;
    // The LMS's origin is not known for sure here, and the message
    // carries nothing secret: the spec uses "*".
    target.postMessage({ subject: "org.imsglobal.lti.close" }, "*");
  }
  var button = box.querySelector("[data-lti-close-button]");
  if (button) button.addEventListener("click", close);
  var delay = parseInt(box.getAttribute("data-lti-close-after") || "0", 10);
  if (delay > 0) window.setTimeout(close, delay);
})();
