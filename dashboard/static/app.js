/* Altostack dashboard: the little glue our pages need beyond htmx.
   No build step; no dependency but the vendored htmx and its SSE extension. */
(function () {
  'use strict';

  // Errors from htmx requests are swapped in too (the server retargets them
  // into #alerts with the API's message, status and request id).
  htmx.config.responseHandling = [
    {code: '204', swap: false},
    {code: '[23]..', swap: true},
    {code: '401', swap: false},
    {code: '[45]..', swap: true, error: false},
  ];
  htmx.config.historyCacheSize = 0;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }
  window.altostack = window.altostack || {};
  window.altostack.csrfToken = csrfToken;

  // A signed-out stream (expired or revoked token): to the login page and back.
  document.addEventListener('htmx:sseMessage', function (ev) {
    if (ev.detail && ev.detail.type === 'signed-out' && location.pathname !== '/login') {
      var here = location.pathname + location.search;
      location.href = '/login?next=' + encodeURIComponent(here);
    }
  });
  document.body.addEventListener('htmx:sseOpen', function () {
    document.body.classList.add('live');
  });
  document.body.addEventListener('htmx:sseError', function () {
    document.body.classList.remove('live');
  });

  // The equivalent openstack command of a form. The form's data-cli holds a
  // template: {field} is the field's value (shell-quoted); a [segment] is
  // left out when a field it names is empty, and repeated for each value of
  // a field with several (a multi-select, checkboxes of one name).
  function quote(v) {
    if (v === '') return "''";
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(v) ? v : "'" + v.replace(/'/g, "'\\''") + "'";
  }
  function values(form, name) {
    var out = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name !== name || el.disabled) return;
      if ((el.type === 'checkbox' || el.type === 'radio') && !el.checked) return;
      if (el.type === 'file') { if (el.files.length) out.push(el.files[0].name); return; }
      if (el.tagName === 'SELECT' && el.multiple) {
        Array.prototype.forEach.call(el.selectedOptions, function (o) { if (o.value) out.push(o.value); });
        return;
      }
      if (el.type === 'checkbox' && el.value === 'on') { out.push('on'); return; }
      if (el.value !== '') out.push(el.value);
    });
    return out;
  }
  function fill(form, text) {
    return text.replace(/\{([\w-]+)\}/g, function (_m, name) {
      var v = values(form, name);
      return quote(v.length ? v[0] : '');
    });
  }
  function render(form) {
    var tpl = form.getAttribute('data-cli');
    var out = tpl.replace(/\[([^\]]*)\]/g, function (_m, seg) {
      var names = (seg.match(/\{([\w-]+)\}/g) || []).map(function (s) { return s.slice(1, -1); });
      var multi = null, missing = false;
      names.forEach(function (n) {
        var v = values(form, n);
        if (!v.length) missing = true;
        if (v.length > 1) multi = n;
      });
      if (missing) return '';
      if (!names.length) return seg;
      if (!multi) return fill(form, seg);
      return values(form, multi).map(function (v) {
        return seg.replace(/\{([\w-]+)\}/g, function (_x, n) {
          return n === multi ? quote(v) : quote(values(form, n)[0] || '');
        });
      }).join('');
    });
    out = fill(form, out).replace(/\s+/g, ' ').trim();
    var target = form.querySelector('[data-cli-out]');
    if (target) target.textContent = out;
  }
  function wire(root) {
    (root.querySelectorAll ? root : document).querySelectorAll('form[data-cli]').forEach(function (form) {
      if (form.dataset.cliWired) return;
      form.dataset.cliWired = '1';
      form.addEventListener('input', function () { render(form); });
      form.addEventListener('change', function () { render(form); });
      render(form);
    });
  }
  window.altostack.renderCli = render;
  document.addEventListener('DOMContentLoaded', function () { wire(document); });
  document.addEventListener('htmx:load', function (ev) { wire(ev.target); });

  // A fetch() that carries the CSRF token (for uploads and JSON calls).
  window.altostack.fetch = function (url, opts) {
    opts = opts || {};
    opts.headers = Object.assign({'X-CSRFToken': csrfToken()}, opts.headers || {});
    opts.credentials = 'same-origin';
    return fetch(url, opts);
  };
})();
