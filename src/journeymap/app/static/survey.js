/* journeymap survey pop-up: one question at a touchpoint, asked by the collector.
 *
 *   <script src="https://COLLECTOR/survey.js" defer
 *           data-write-key="jmw_..." data-map="MAP" data-touchpoint="TOUCHPOINT"
 *           data-user-id="CUSTOMER"></script>
 *
 * It asks the collector whether to ask (audience, once per N days, sample); on a yes it
 * shows a dialog (keyboard and screen-reader friendly, Escape closes it) and posts the
 * answer with the single-use token the collector gave.  No cookies, no storage, no
 * third-party code.  window.journeymapSurvey.show(userId) asks again later (e.g. after
 * sign-in); data-delay="ms" waits before asking.
 */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me) return;
  var base = me.src.replace(/\/survey\.js(\?.*)?$/, "");
  var cfg = me.dataset;

  function post(path, body, key) {
    var headers = { "Content-Type": "application/json" };
    if (key) headers.Authorization = "Basic " + btoa(key + ":");
    return fetch(base + path, { method: "POST", headers: headers, body: JSON.stringify(body),
                                credentials: "omit", mode: "cors" })
      .then(function (r) { return r.json().then(function (j) { j._status = r.status; return j; }); });
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;  // text, never markup
    return e;
  }

  var css = ".jm-s{position:fixed;right:16px;bottom:16px;z-index:2147483647;max-width:360px;background:#fff;" +
    "color:#1d2433;border:1px solid #c9cfdb;border-radius:10px;box-shadow:0 6px 24px rgba(0,0,0,.18);" +
    "padding:16px;font:15px/1.4 system-ui,sans-serif}.jm-s h2{font-size:16px;margin:0 28px 10px 0}" +
    ".jm-s fieldset{border:0;margin:0;padding:0}.jm-s .jm-r{display:flex;flex-wrap:wrap;gap:4px}" +
    ".jm-s .jm-r label{flex:1 0 28px;text-align:center;border:1px solid #9aa3b5;border-radius:6px;padding:6px 0;cursor:pointer}" +
    ".jm-s input[type=radio]{position:absolute;opacity:0;width:1px;height:1px}" +
    ".jm-s input[type=radio]:checked+span{font-weight:700}.jm-s label:has(input:checked){background:#1f5fbf;color:#fff;border-color:#1f5fbf}" +
    ".jm-s input[type=radio]:focus-visible+span{outline:2px solid #1f5fbf;outline-offset:3px}" +
    ".jm-s .jm-e{display:flex;justify-content:space-between;font-size:12px;color:#4a5468;margin:4px 0 10px}" +
    ".jm-s textarea{width:100%;box-sizing:border-box;min-height:56px;margin:4px 0 10px;font:inherit}" +
    ".jm-s button{font:inherit;border-radius:6px;padding:6px 14px;border:1px solid #1f5fbf;background:#1f5fbf;color:#fff;cursor:pointer}" +
    ".jm-s .jm-x{position:absolute;top:8px;right:8px;background:none;color:#4a5468;border:0;font-size:20px;padding:2px 8px}";

  function dialog(survey, token) {
    if (!document.getElementById("jm-survey-css")) {
      var st = el("style", { id: "jm-survey-css" }); st.textContent = css; document.head.appendChild(st);
    }
    var box = el("div", { "class": "jm-s", role: "dialog", "aria-modal": "false", "aria-labelledby": "jm-s-q" });
    var close = el("button", { "class": "jm-x", type: "button", "aria-label": "Close" }, "\u00d7");
    var form = el("form", {});
    var fs = el("fieldset", {});
    fs.appendChild(el("legend", { id: "jm-s-q" }, survey.question));
    var row = el("div", { "class": "jm-r" });
    for (var v = survey.scale[0]; v <= survey.scale[1]; v++) {
      var lab = el("label", {});
      var input = el("input", { type: "radio", name: "score", value: String(v), required: "" });
      lab.appendChild(input); lab.appendChild(el("span", {}, String(v))); row.appendChild(lab);
    }
    fs.appendChild(row);
    var ends = el("div", { "class": "jm-e", "aria-hidden": "true" });
    ends.appendChild(el("span", {}, survey.labels[0])); ends.appendChild(el("span", {}, survey.labels[1]));
    fs.appendChild(ends);
    form.appendChild(fs);
    var comment = null;
    if (survey.comment) {
      var cl = el("label", { "for": "jm-s-c" }, survey.comment);
      comment = el("textarea", { id: "jm-s-c", name: "comment", maxlength: "2000" });
      form.appendChild(cl); form.appendChild(comment);
    }
    var send = el("button", { type: "submit" }, "Send");
    var status = el("p", { role: "status", "aria-live": "polite" });
    form.appendChild(send); form.appendChild(status);
    box.appendChild(close); box.appendChild(form);
    var before = document.activeElement;
    function done() { box.remove(); if (before && before.focus) before.focus(); }
    close.addEventListener("click", done);
    box.addEventListener("keydown", function (e) { if (e.key === "Escape") done(); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var picked = form.querySelector("input[name=score]:checked");
      if (!picked) { status.textContent = "Please choose a score."; return; }
      send.disabled = true;
      post("/v1/survey/answer", { token: token, score: Number(picked.value),
                                  comment: comment ? comment.value : null })
        .then(function (j) {
          if (j._status === 200) { form.replaceChildren(el("p", { role: "status" }, "Thank you!"));
                                   setTimeout(done, 2500); }
          else { status.textContent = j.message || "Could not send the answer."; send.disabled = false; }
        }, function () { status.textContent = "Could not send the answer."; send.disabled = false; });
    });
    document.body.appendChild(box);
    box.querySelector("input").focus();
    return box;
  }

  function show(userId) {
    var user = userId || cfg.userId;
    if (!user || !cfg.writeKey || !cfg.map || !cfg.touchpoint) return Promise.resolve(null);
    return post("/v1/survey/ask", { map: cfg.map, touchpoint: cfg.touchpoint, userId: user }, cfg.writeKey)
      .then(function (j) { return j.ask ? dialog(j.survey, j.token) : null; }, function () { return null; });
  }

  window.journeymapSurvey = { show: show };
  setTimeout(function () { show(); }, Number(cfg.delay || 0));
})();
