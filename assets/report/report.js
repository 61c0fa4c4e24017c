// Heatmap popovers: hover or focus a cell to preview its figures and quotes, click (or
// Enter/Space) to pin, Escape or the close button to dismiss. Everything the popover shows
// comes pre-formatted from the JSON block and is inserted as text, never as HTML.
(function () {
  "use strict";
  var source = document.getElementById("palaute-data");
  var pop = document.getElementById("cell-popover");
  var table = document.querySelector("table[data-heatmap]");
  if (!source || !pop || !table) return;
  var data = JSON.parse(source.textContent);
  // The static title tooltips serve readers without JavaScript; here they would stack on
  // top of the popover.
  Array.prototype.forEach.call(table.querySelectorAll("td.cell[title]"), function (td) {
    td.removeAttribute("title");
  });
  var current = null;
  var pinned = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function fill(btn) {
    var cell = data.cells[Number(btn.getAttribute("data-cell"))];
    if (!cell) return false;
    pop.textContent = "";
    var title = el("h3", null, cell.title);
    title.id = "popover-title";
    pop.appendChild(title);
    var close = el("button", "close", "\u00d7");
    close.type = "button";
    close.setAttribute("aria-label", data.ui.close);
    close.addEventListener("click", function () { dismiss(true); });
    pop.appendChild(close);
    var dl = el("dl");
    cell.stats.forEach(function (s) {
      dl.appendChild(el("dt", null, s[0]));
      dl.appendChild(el("dd", null, s[1]));
    });
    pop.appendChild(dl);
    pop.appendChild(el("h4", null, data.ui.quotes));
    if (!cell.q.length) {
      pop.appendChild(el("p", "note", data.ui.noQuotes));
    } else {
      var ul = el("ul", "quotes");
      cell.q.forEach(function (i) {
        var q = data.quotes[i];
        if (!q) return;
        var li = el("li", "quote " + q.s);
        var bq = el("blockquote", null, q.t);
        bq.setAttribute("data-quote", "");
        bq.setAttribute("data-sentiment", q.s);
        if (q.l && q.l !== "und") bq.lang = q.l;
        li.appendChild(bq);
        li.appendChild(el("p", "prov", q.p));
        ul.appendChild(li);
      });
      pop.appendChild(ul);
    }
    return true;
  }

  // Beside the cell when there is room (right, else left), otherwise below it.
  function place(btn) {
    var r = btn.getBoundingClientRect();
    var width = pop.offsetWidth;
    var docW = document.documentElement.clientWidth;
    var left;
    var top = r.top;
    if (r.right + 8 + width <= docW - 8) {
      left = r.right + 8;
    } else if (r.left - 8 - width >= 8) {
      left = r.left - 8 - width;
    } else {
      left = Math.max(8, Math.min(docW - width - 8, r.left));
      top = r.bottom + 8;
    }
    pop.style.left = (left + window.scrollX) + "px";
    pop.style.top = (top + window.scrollY) + "px";
  }

  function show(btn) {
    if (current === btn && !pop.hidden) return;
    if (!fill(btn)) return;
    if (current) current.setAttribute("aria-expanded", "false");
    current = btn;
    pop.hidden = false;
    btn.setAttribute("aria-expanded", "true");
    place(btn);
  }

  function dismiss(restoreFocus) {
    var btn = current;
    pinned = null;
    current = null;
    pop.hidden = true;
    if (btn) {
      btn.setAttribute("aria-expanded", "false");
      if (restoreFocus) btn.focus();
    }
  }

  function cellButton(target) {
    return target && target.closest ? target.closest("button[data-cell]") : null;
  }

  table.addEventListener("mouseover", function (e) {
    var btn = cellButton(e.target);
    if (btn && !pinned) show(btn);
  });
  table.addEventListener("mouseleave", function () {
    if (!pinned) dismiss(false);
  });
  table.addEventListener("focusin", function (e) {
    var btn = cellButton(e.target);
    if (btn && !pinned) show(btn);
  });
  table.addEventListener("click", function (e) {
    var btn = cellButton(e.target);
    if (!btn) return;
    if (pinned === btn) {
      dismiss(false);
      return;
    }
    pinned = null;
    show(btn);
    pinned = btn;
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && current) dismiss(true);
  });
  document.addEventListener("click", function (e) {
    if (pinned && !pop.contains(e.target) && !cellButton(e.target)) dismiss(false);
  });
  table.addEventListener("focusout", function (e) {
    if (!pinned && !table.contains(e.relatedTarget)) dismiss(false);
  });
  window.addEventListener("resize", function () {
    if (current && !pop.hidden) place(current);
  });
})();
