// journeymap app: @mention autocomplete in comment boxes (textarea[data-mentions]).
// Typing "@ed" lists the members whose handle or name starts so (GET /api/mentionable);
// arrows move, Enter or Tab picks, Escape closes; picking writes "@handle ".
// An ARIA combobox: the textarea owns a listbox, the active option is announced.
(function () {
  "use strict";
  var mount = document.querySelector('meta[name="jm-base"]').content;
  var AT = /(^|[^\w@])@([\w.+-]{0,60})$/;  // an @ and what follows it, up to the caret
  var seq = 0;

  function setup(area, n) {
    var list = document.createElement("ul");
    list.id = "mentions-" + n;
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "members to mention");
    list.hidden = true;
    area.insertAdjacentElement("afterend", list);
    area.setAttribute("role", "combobox");
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-controls", list.id);
    area.setAttribute("aria-expanded", "false");
    var found = [], active = -1, start = -1, asked = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      found = [];
      active = -1;
      area.setAttribute("aria-expanded", "false");
      area.removeAttribute("aria-activedescendant");
    }

    function mark(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, k) {
        li.setAttribute("aria-selected", k === i ? "true" : "false");
      });
      if (i >= 0) { area.setAttribute("aria-activedescendant", list.id + "-" + i); }
    }

    function show(members) {
      list.textContent = "";
      found = members;
      if (!members.length) { close(); return; }
      members.forEach(function (m, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        var name = document.createElement("b");
        name.textContent = m.name;  // text, never HTML
        var handle = document.createElement("span");
        handle.className = "meta";
        handle.textContent = " @" + m.handle;
        li.appendChild(name);
        li.appendChild(handle);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
        list.appendChild(li);
      });
      list.style.top = (area.offsetTop + area.offsetHeight) + "px";
      list.style.left = area.offsetLeft + "px";
      list.hidden = false;
      area.setAttribute("aria-expanded", "true");
      mark(0);
    }

    function pick(i) {
      var m = found[i];
      if (!m || start < 0) { return; }
      var caret = area.selectionStart;
      var before = area.value.slice(0, start), after = area.value.slice(caret);
      var text = "@" + m.handle + " ";
      area.value = before + text + after.replace(/^[\w.+-]*/, "");
      var at = before.length + text.length;
      area.setSelectionRange(at, at);
      close();
      area.focus();
    }

    area.addEventListener("input", function () {
      var upto = area.value.slice(0, area.selectionStart);
      var m = AT.exec(upto);
      if (!m) { close(); return; }
      start = upto.length - m[2].length - 1;  // where the @ stands
      var mine = ++asked;
      fetch(mount + "/api/mentionable?q=" + encodeURIComponent(m[2]), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (members) { if (mine === asked) { show(members); } })
        .catch(close);
    });
    area.addEventListener("keydown", function (e) {
      if (list.hidden) { return; }
      if (e.key === "ArrowDown") { e.preventDefault(); mark((active + 1) % found.length); }
      else if (e.key === "ArrowUp") { e.preventDefault(); mark((active - 1 + found.length) % found.length); }
      else if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); pick(active); }
      else if (e.key === "Escape") { e.preventDefault(); close(); }
    });
    area.addEventListener("blur", close);
  }

  document.querySelectorAll("textarea[data-mentions]").forEach(function (area) { setup(area, ++seq); });
})();
