// journeymap map editor: every change is one operation of journeymap.model.edit, posted to
// /api/maps/REF/edits with the version it was made on; a stale version is a conflict, not a
// lost edit. No inline script (the CSP forbids it); plain DOM, no framework.
(function () {
  "use strict";
  var root = document.getElementById("editor");
  if (!root) { return; }
  var ref = root.dataset.ref;
  var status = document.getElementById("editor-status");
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var mount = document.querySelector('meta[name="jm-base"]').content;  // the workspace's mount

  function say(text, kind) {
    status.textContent = text;
    status.className = "notice" + (kind ? " " + kind : "");
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (j) { return {status: r.status, body: j}; }); });
  }

  // send edits; reload: re-draw the board afterwards (structure changed)
  function send(edits, field, reload) {
    say("Saving…");
    return post(mount + "/api/maps/" + encodeURIComponent(ref) + "/edits",
                {edits: edits, base_version: Number(root.dataset.base), message: describe(edits)})
      .then(function (r) {
        if (field) { field.removeAttribute("aria-invalid"); }
        if (r.status === 200) {
          root.dataset.base = r.body.number;
          say("Saved as version " + r.body.number + ".", "good");
          if (reload) { window.location.reload(); }
        } else if (r.status === 409) {
          say("Not saved: this map changed since you opened it (now version " + r.body.latest.number +
              " by " + r.body.latest.author + "). Reload to edit the latest version.", "bad");
        } else {
          if (field) { field.setAttribute("aria-invalid", "true"); }
          var problems = (r.body.problems || []).map(function (p) { return p.text; }).join("; ");
          say("Not saved: " + (problems || r.body.error || ("error " + r.status)), "bad");
        }
      }).catch(function (e) { say("Not saved: " + e, "bad"); });
  }

  function describe(edits) {
    var e = edits[0];
    var what = e.op.replace(/_/g, " ");
    return "editor: " + what + (e.stage ? " " + e.stage : "") + (e.touchpoint ? " " + e.touchpoint : "");
  }

  function number(text) {
    var v = text.trim();
    return v === "" ? null : (isNaN(Number(v)) ? v : Number(v));
  }

  // a field left after a change: one operation
  root.addEventListener("change", function (ev) {
    var f = ev.target;
    var d = f.dataset;
    if (d.op === "set_cell") {
      send([{op: "set_cell", stage: d.stage, lane: d.lane, index: Number(d.index), text: f.value}], f);
    } else if (d.op === "set_stage") {
      send([{op: "set_stage", stage: d.stage, field: d.field, value: f.value}], f);
    } else if (d.op === "set_touchpoint") {
      send([{op: "set_touchpoint", touchpoint: d.touchpoint, field: d.field, value: f.value}], f);
    } else if (d.op === "set_field") {
      send([{op: "set_field", field: d.field, value: f.value}], f);
    } else if (d.op === "set_kpi") {
      var kpi = {op: "set_kpi", field: d.field, value: number(f.value), where: d.where || "goal"};
      if (d.stage) { kpi.stage = d.stage; }
      if (d.touchpoint) { kpi.touchpoint = d.touchpoint; }
      if (d.index !== undefined) { kpi.index = Number(d.index); }
      send([kpi], f);
    } else if (d.rule) {
      send([{op: "set_match", touchpoint: d.rule, match_text: f.value}], f).then(function () { preview(d.rule); });
    } else if (d.moveTouchpoint) {
      send([{op: "move_touchpoint", touchpoint: d.moveTouchpoint, stage: f.value}], f, true);
    }
  });

  function preview(tp) {
    var input = document.getElementById("rule-" + tp);
    var out = document.getElementById("reach-" + tp);
    out.textContent = "counting…";
    post(mount + "/api/maps/" + encodeURIComponent(ref) + "/preview-match", {match_text: input.value, sample: 3})
      .then(function (r) {
        if (r.status !== 200) { out.textContent = r.body.error; out.className = "reach bad"; return; }
        var b = r.body;
        out.className = "reach";
        out.textContent = b.events.toLocaleString() + " events · " + b.customers.toLocaleString() + " customers" +
          (b.names.length ? " · " + b.names.map(function (n) { return n.event; }).join(", ") : " · matches nothing");
      });
  }

  root.addEventListener("click", function (ev) {
    var b = ev.target.closest("button");
    if (!b) { return; }
    var col = b.closest(".stage-col");
    var d = b.dataset;
    if (d.preview) { preview(d.preview); }
    if (d.moveStage && col) {
      send([{op: "move_stage", stage: col.dataset.stage, to: Number(col.dataset.index) + Number(d.moveStage)}],
           null, true);
    }
    if (d.deleteCell !== undefined) {
      var list = b.closest(".cells");
      send([{op: "delete_cell", stage: list.dataset.stage, lane: list.dataset.lane, index: Number(d.deleteCell)}],
           null, true);
    }
    if (d.addCell !== undefined) {
      var cells = b.closest(".cells");
      var text = window.prompt("New " + cells.previousElementSibling.textContent.toLowerCase() + ":");
      if (text) { send([{op: "add_cell", stage: cells.dataset.stage, lane: cells.dataset.lane, text: text}], null, true); }
    }
    if (d.setEvidence !== undefined || d.removeEvidence !== undefined) {
      var form = b.closest(".evidence-form");
      var evidence = null;
      if (d.setEvidence !== undefined) {
        evidence = {};
        form.querySelectorAll("input, select").forEach(function (f) {
          if (f.value.trim()) { evidence[f.name] = f.value.trim(); }
        });
      }
      send([{op: "set_evidence", stage: form.dataset.stage, lane: form.dataset.lane,
             index: Number(form.dataset.index), evidence: evidence}], null, true);
    }
    if (d.addStage !== undefined) {
      var id = document.getElementById("new-stage-id").value.trim();
      var name = document.getElementById("new-stage-name").value.trim();
      if (id) { send([{op: "add_stage", id: id, name: name || id}], null, true); }
    }
  });

  // drag and drop: a stage by its column onto another column; a touchpoint onto a stage's list
  var dragged = null;
  root.addEventListener("dragstart", function (ev) {
    var tp = ev.target.closest && ev.target.closest(".tp-edit");
    var col = ev.target.closest && ev.target.closest(".stage-col");
    dragged = tp ? {touchpoint: tp.dataset.touchpoint} : (col ? {stage: col.dataset.stage} : null);
    if (dragged) { ev.dataTransfer.effectAllowed = "move"; ev.dataTransfer.setData("text/plain", JSON.stringify(dragged)); }
    if (tp) { ev.stopPropagation(); }
  });
  root.addEventListener("dragover", function (ev) {
    if (dragged && ev.target.closest(".stage-col[data-stage]")) { ev.preventDefault(); }
  });
  root.addEventListener("drop", function (ev) {
    var col = ev.target.closest(".stage-col[data-stage]");
    if (!dragged || !col) { return; }
    ev.preventDefault();
    if (dragged.touchpoint) {
      var before = ev.target.closest(".tp-edit");
      var list = Array.prototype.slice.call(col.querySelectorAll(".tp-edit"));
      var to = before ? list.indexOf(before) : list.length;
      send([{op: "move_touchpoint", touchpoint: dragged.touchpoint, stage: col.dataset.stage, to: to}], null, true);
    } else if (dragged.stage && dragged.stage !== col.dataset.stage) {
      send([{op: "move_stage", stage: dragged.stage, to: Number(col.dataset.index)}], null, true);
    }
    dragged = null;
  });
  root.dataset.ready = "true";  // listeners attached: edits from here on are saved
})();
