// journeymap data page: upload a file, then follow its ingest job until it is done
(function () {
  "use strict";
  var form = document.getElementById("upload");
  if (!form) { return; }
  var status = document.getElementById("upload-status");
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var mount = document.querySelector('meta[name="jm-base"]').content;  // the workspace's mount

  function show(text, kind, progress) {
    status.className = "notice" + (kind ? " " + kind : "");
    status.textContent = text;
    if (progress !== undefined) {
      var bar = document.createElement("progress");
      bar.max = 100; bar.value = Math.round(progress * 100);
      bar.setAttribute("aria-label", "ingest progress");
      status.appendChild(document.createElement("br"));
      status.appendChild(bar);
    }
  }

  function follow(id) {
    fetch(mount + "/api/jobs/" + id, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (job) {
      if (job.status === "done") {
        var r = job.result;
        show("Loaded " + r.loaded.toLocaleString() + " rows, " + r.quarantined.toLocaleString() + " quarantined, " +
             r.duplicates.toLocaleString() + " duplicates skipped (of " + r.rows_read.toLocaleString() + " read). " +
             "Reloading…", r.quarantined ? "warn" : "good");
        window.setTimeout(function () { window.location.reload(); }, 1500);
      } else if (job.status === "failed") {
        show("Not loaded: " + job.error, "bad");
      } else {
        show("Loading (" + (job.step || job.status) + ")", "", job.progress);
        window.setTimeout(function () { follow(id); }, 500);
      }
    });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    show("Uploading…", "", 0);
    fetch(mount + "/api/data/uploads", {method: "POST", credentials: "same-origin", headers: {"X-CSRF-Token": token},
                                body: new FormData(form)})
      .then(function (r) { return r.json().then(function (j) { return {status: r.status, body: j}; }); })
      .then(function (r) {
        if (r.status === 202) { follow(r.body.id); } else { show("Not loaded: " + (r.body.error || r.status), "bad"); }
      }).catch(function (e) { show("Not loaded: " + e, "bad"); });
  });
})();
