// LTI platform storage (1EdTech client-side postMessages): when the LMS
// blocks third-party cookies, the login state and nonce are kept by the LMS
// window instead and read back at launch.
(function () {
  "use strict";
  var box = document.getElementById("lti-storage");
  if (!box) return;
  var targetName = box.dataset.target || "_parent";
  var platformOrigin = box.dataset.origin;
  var state = box.dataset.state;
  var nonce = box.dataset.nonce;
  var mode = box.dataset.mode; // "put" at login, "get" at launch

  function targetWindow() {
    if (targetName === "_parent") return window.parent;
    try { return window.parent.frames[targetName] || window.parent; } catch (e) { return window.parent; }
  }
  var target = targetWindow();
  var pending = {};
  var seq = 0;

  window.addEventListener("message", function (ev) {
    var d = ev.data;
    if (!d || typeof d !== "object" || !d.message_id || !pending[d.message_id]) return;
    var p = pending[d.message_id];
    if (p.origin !== "*" && ev.origin !== p.origin) return;
    delete pending[d.message_id];
    clearTimeout(p.timer);
    p.resolve(d);
  });

  function send(msg, origin, ms) {
    return new Promise(function (resolve, reject) {
      msg.message_id = "rt-" + Date.now() + "-" + (++seq);
      var timer = setTimeout(function () { delete pending[msg.message_id]; reject(new Error("timeout")); }, ms);
      pending[msg.message_id] = { resolve: resolve, origin: origin, timer: timer };
      target.postMessage(msg, origin);
    });
  }

  function supports(caps, subject) {
    var list = (caps && caps.supported_messages) || [];
    for (var i = 0; i < list.length; i++) if (list[i].subject === subject) return true;
    return false;
  }

  function capabilities() {
    return send({ subject: "lti.capabilities" }, "*", 1500).catch(function () { return null; });
  }

  if (mode === "put") {
    var next = box.dataset.next;
    var go = function () { window.location.assign(next); };
    capabilities().then(function (caps) {
      if (!supports(caps, "lti.put_data")) return;
      return Promise.all([
        send({ subject: "lti.put_data", key: "state_" + state, value: state }, platformOrigin, 2000),
        send({ subject: "lti.put_data", key: "nonce_" + nonce, value: nonce }, platformOrigin, 2000)
      ]);
    }).then(go, go);
    return;
  }

  var form = document.getElementById("launch-form");
  var failed = document.getElementById("storage-failed");
  function fail() {
    if (failed) { failed.hidden = false; failed.focus(); }
  }
  capabilities().then(function (caps) {
    if (!supports(caps, "lti.get_data")) throw new Error("no platform storage");
    return Promise.all([
      send({ subject: "lti.get_data", key: "state_" + state }, platformOrigin, 2000),
      send({ subject: "lti.get_data", key: "nonce_" + nonce }, platformOrigin, 2000)
    ]);
  }).then(function (answers) {
    if (answers[0].value !== state || answers[1].value !== nonce) throw new Error("mismatch");
    form.submit();
  }).catch(fail);
})();
