/* Altostack dashboard, network forms: what app.js's equivalent-command
   templates cannot say by themselves, kept in hidden inputs they can read
   (names starting with "_cli", which the server ignores):
   - <textarea data-cli-lines="_cli_pool" data-cli-format="start={0},end={1}">:
     one hidden input per non-empty line, its parts (split on commas, spaces
     or a dash) put in the format;
   - <input type=hidden name="_cli_fixed" data-cli-join="subnet=fixed_subnet,ip-address=fixed_ip">:
     key=value for each named field that has a value, joined by commas;
   - [data-disables="a b"] on a checkbox: while checked, fields a and b are
     disabled (neither sent nor in the command); [data-enables] the reverse;
   - <select data-filters="subnet_select">: options of that select whose
     data-network is not the chosen value are hidden.
   This runs before app.js (both deferred, this one first), so the first
   rendering of the command already sees the hidden inputs. */
(function () {
  'use strict';

  function field(form, name) { return form.elements.namedItem(name); }

  function each(list, fn) { Array.prototype.forEach.call(list || [], fn); }

  function named(form, name) {
    var el = field(form, name);
    if (!el) return [];
    return el.length !== undefined && !el.tagName ? Array.prototype.slice.call(el) : [el];
  }

  function splitLine(line) {
    return line.trim().split(/\s*(?:,|\s-\s|\s+|-(?=[0-9a-fA-F]))\s*/).filter(Boolean)
      .map(function (p) { var i = p.indexOf('='); return i >= 0 ? p.slice(i + 1) : p; });
  }

  function syncLines(form, area) {
    var name = area.getAttribute('data-cli-lines');
    var fmt = area.getAttribute('data-cli-format') || '{0}';
    form.querySelectorAll('input[type=hidden][name="' + name + '"]').forEach(function (h) {
      h.remove();
    });
    if (area.disabled) return;
    area.value.split('\n').forEach(function (line) {
      if (!line.trim()) return;
      var parts = splitLine(line);
      var h = document.createElement('input');
      h.type = 'hidden';
      h.name = name;
      h.value = fmt.replace(/\{(\d)\}/g, function (_m, i) { return parts[+i] || ''; });
      area.insertAdjacentElement('afterend', h);
    });
  }

  function syncJoin(form, hidden) {
    var out = [];
    hidden.getAttribute('data-cli-join').split(',').forEach(function (pair) {
      var kv = pair.split('=');
      var el = field(form, kv[1]);
      if (el && !el.disabled && el.value) out.push(kv[0] + '=' + el.value);
    });
    hidden.value = out.join(',');
    hidden.disabled = !out.length;
  }

  function syncToggles(form) {
    // A field is off while any live toggle says so (a toggle that is itself
    // off says nothing).
    var off = {};
    var boxes = form.querySelectorAll('[data-disables], [data-enables]');
    boxes.forEach(function (box) {
      var names = (box.getAttribute('data-disables') || box.getAttribute('data-enables'))
        .split(/\s+/);
      names.forEach(function (n) { off[n] = off[n] || false; });
    });
    var changed = true;
    while (changed) {     // toggles inside toggled parts: settle in a few rounds
      changed = false;
      boxes.forEach(function (box) {
        var live = !box.name || !off[box.name];
        var wants = box.hasAttribute('data-disables') ? box.checked : !box.checked;
        if (!live || !wants) return;
        (box.getAttribute('data-disables') || box.getAttribute('data-enables')).split(/\s+/)
          .forEach(function (n) { if (!off[n]) { off[n] = true; changed = true; } });
      });
    }
    Object.keys(off).forEach(function (n) {
      named(form, n).forEach(function (el) {
        el.disabled = off[n];
        var wrap = el.closest('label');
        if (wrap) wrap.classList.toggle('off', off[n]);
      });
    });
  }

  function syncFilters(form) {
    form.querySelectorAll('select[data-filters]').forEach(function (sel) {
      var target = field(form, sel.getAttribute('data-filters'));
      if (!target) return;
      var chosen = target.options[target.selectedIndex];
      each(target.options, function (o) {
        var net = o.getAttribute('data-network');
        o.hidden = !!net && net !== sel.value;
      });
      if (chosen && chosen.hidden) target.value = '';
    });
  }

  function sync(form) {
    syncToggles(form);
    syncFilters(form);
    form.querySelectorAll('textarea[data-cli-lines]').forEach(function (a) { syncLines(form, a); });
    form.querySelectorAll('input[data-cli-join]').forEach(function (h) { syncJoin(form, h); });
  }

  function wire(form) {
    if (form.dataset.netWired) return;
    form.dataset.netWired = '1';
    // On the fields themselves: these run before app.js's listeners on the form.
    each(form.elements, function (el) {
      if (el.type === 'hidden') return;
      el.addEventListener('input', function () { sync(form); });
      el.addEventListener('change', function () { sync(form); });
    });
    sync(form);
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('form.net-form').forEach(wire);
  });

  // A form sent again: the previous refusal goes; a new one is scrolled to.
  function ours(ev) {
    var el = ev.detail && ev.detail.elt;
    return el && el.closest && el.closest('form.net-form, form.net-action');
  }
  document.addEventListener('htmx:beforeRequest', function (ev) {
    if (!ours(ev)) return;
    document.querySelectorAll('#alerts .alert.error').forEach(function (a) { a.remove(); });
  });
  document.addEventListener('htmx:afterRequest', function (ev) {
    if (!ours(ev) || ev.detail.xhr.status < 400) return;
    var alerts = document.getElementById('alerts');
    if (alerts) alerts.scrollIntoView({block: 'start'});
  });
})();
