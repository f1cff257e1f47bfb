/* Fields that apply only to one choice of a form: a box with
   data-show-when="field=value|other" shows, and its fields are enabled,
   only while the form's field has one of those values. Disabled fields are
   neither sent nor part of the equivalent openstack command (app.js), so
   this runs first: loaded before app.js, and listening in the capture phase. */
(function () {
  'use strict';

  function current(form, name) {
    var el = form.elements[name];
    if (!el) return '';
    return (el.value || '').trim().toLowerCase();
  }
  function apply(form) {
    if (!form || !form.querySelectorAll) return;
    form.querySelectorAll('[data-show-when]').forEach(function (box) {
      var rule = box.getAttribute('data-show-when').split('=');
      var wanted = rule[1].toLowerCase().split('|');
      var on = wanted.indexOf(current(form, rule[0])) >= 0;
      box.hidden = !on;
      box.querySelectorAll('input, select, textarea').forEach(function (c) { c.disabled = !on; });
    });
  }
  function wire(root) {
    (root && root.querySelectorAll ? root : document).querySelectorAll('form').forEach(function (form) {
      if (form.querySelector('[data-show-when]')) apply(form);
    });
  }
  ['change', 'input'].forEach(function (type) {
    document.addEventListener(type, function (ev) { apply(ev.target && ev.target.form); }, true);
  });
  document.addEventListener('DOMContentLoaded', function () { wire(document); });
  document.addEventListener('htmx:load', function (ev) { wire(ev.target); });
  window.altostack = window.altostack || {};
  window.altostack.applyShowWhen = apply;
})();
