(function () {
  "use strict";
  function key(row, col, type) {
    var cell = row.cells[col];
    if (!cell) return null;
    var raw = cell.getAttribute("data-sort");
    if (type === "num") {
      if (raw === null || raw === "") return null;
      var v = parseFloat(raw);
      return isNaN(v) ? null : v;
    }
    return (raw !== null ? raw : cell.textContent).toLowerCase();
  }
  function sortBy(table, col, th) {
    var type = th.getAttribute("data-type") || "text";
    var first = (type === "num" && th.getAttribute("data-better") === "higher") ? "descending" : "ascending";
    var current = th.getAttribute("aria-sort");
    var dir = current === first ? (first === "ascending" ? "descending" : "ascending") : first;
    var sign = dir === "ascending" ? 1 : -1;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var ka = key(a, col, type), kb = key(b, col, type);
      if (ka === null || kb === null) return ka === kb ? 0 : (ka === null ? 1 : -1);
      return ka < kb ? -sign : (ka > kb ? sign : 0);
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
  }
  // a group's button opens or closes its detail columns (hidden by CSS until the table has "open-<group>")
  Array.prototype.forEach.call(document.querySelectorAll("button.group-toggle"), function (button) {
    button.addEventListener("click", function () {
      var table = document.getElementById(button.getAttribute("data-table"));
      if (!table) return;
      var cls = "open-" + button.getAttribute("data-group");
      var open = !table.classList.contains(cls);
      table.classList.toggle(cls, open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) return;
    Array.prototype.forEach.call(head.cells, function (th, col) {
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(table, col, th); });
      th.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); sortBy(table, col, th); }
      });
    });
  });
})();
