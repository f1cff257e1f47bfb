/* Altostack dashboard: the instance page's own glue.
   - the serial console: xterm.js connected straight to the serial proxy
     (the dashboard only asks the compute API for the URL, with its token);
   - the console log's follow mode keeps the newest line in view.
   No dependency but the vendored xterm.js and its fit addon (loaded only on
   the console tab) and htmx. */
(function () {
  'use strict';

  function text(el, value) { if (el) el.textContent = value; }

  function apiError(box, error) {
    // The compute API's refusal as the other parts show it: message, status,
    // request id.
    box.innerHTML = '';
    var div = document.createElement('div');
    div.className = 'alert error part-error';
    div.setAttribute('role', 'alert');
    var strong = document.createElement('strong');
    strong.textContent = 'The ' + (error.service || 'compute') + ' service refused the console';
    var msg = document.createElement('p');
    msg.className = 'api-message';
    msg.textContent = error.message || 'No answer.';
    div.appendChild(strong);
    div.appendChild(msg);
    if (error.status || error.request_id) {
      var meta = document.createElement('p');
      meta.className = 'api-meta';
      meta.textContent = (error.status ? 'HTTP ' + error.status : '') +
        (error.request_id ? ' · request ' + error.request_id : '');
      div.appendChild(meta);
    }
    box.appendChild(div);
  }

  function serialConsole(section) {
    var state = document.getElementById('serial-state');
    var again = document.getElementById('serial-reconnect');
    var errors = document.getElementById('serial-error');
    var term = new window.Terminal({cursorBlink: true, fontSize: 13, scrollback: 5000,
                                    convertEol: false});
    var fit = new window.FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(document.getElementById('terminal'));
    fit.fit();
    window.addEventListener('resize', function () { fit.fit(); });
    var encoder = new TextEncoder();
    var ws = null;
    window.altostack.serial = {term: term};

    term.onData(function (data) {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(data));
    });
    term.onBinary(function (data) {
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      var bytes = new Uint8Array(data.length);
      for (var i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i) & 255;
      ws.send(bytes);
    });

    function connect() {
      again.hidden = true;
      errors.innerHTML = '';
      text(state, 'Asking for a console…');
      section.dataset.state = 'connecting';
      window.altostack.fetch(section.dataset.url, {method: 'POST',
                                                   headers: {'Accept': 'application/json'}})
        .then(function (r) {
          return r.json().then(function (body) { return {ok: r.ok, body: body}; });
        })
        .then(function (res) {
          if (!res.ok) {
            apiError(errors, (res.body && res.body.error) || {});
            text(state, 'No console.');
            section.dataset.state = 'refused';
            again.hidden = false;
            return;
          }
          if (res.body.log) {
            term.write(res.body.log.replace(/\r?\n/g, '\r\n'));
            term.write('\r\n\x1b[2m--- live ---\x1b[0m\r\n');
          }
          open(res.body.url);
        })
        .catch(function (err) {
          text(state, 'The dashboard did not answer: ' + err);
          section.dataset.state = 'closed';
          again.hidden = false;
        });
    }

    function open(url) {
      text(state, 'Connecting to the serial proxy…');
      ws = new WebSocket(url, ['binary']);
      ws.binaryType = 'arraybuffer';
      ws.onopen = function () {
        text(state, 'Connected. Type into the terminal.');
        section.dataset.state = 'open';
        term.focus();
      };
      ws.onmessage = function (ev) {
        term.write(typeof ev.data === 'string' ? ev.data : new Uint8Array(ev.data));
      };
      ws.onclose = function (ev) {
        text(state, 'Closed' + (ev.code ? ' (' + ev.code + (ev.reason ? ': ' + ev.reason : '') +
                                ')' : '') + '.');
        section.dataset.state = 'closed';
        again.hidden = false;
        ws = null;
      };
    }

    again.addEventListener('click', connect);
    window.addEventListener('pagehide', function () { if (ws) ws.close(); });
    connect();
  }

  function followConsoleLog() {
    document.body.addEventListener('htmx:afterSettle', function () {
      var follow = document.getElementById('console-follow');
      var pre = document.getElementById('console-log');
      if (follow && follow.checked && pre) pre.scrollTop = pre.scrollHeight;
    });
    var follow = document.getElementById('console-follow');
    if (follow) {
      follow.addEventListener('change', function () {
        var pre = document.getElementById('console-log');
        if (follow.checked && pre) pre.scrollTop = pre.scrollHeight;
      });
    }
  }

  // A part that refreshes itself (the actions bar, a live tab) never swaps
  // away a form whose request is still in flight: the answer could no
  // longer find its way (its alert, the refresh it asks for). The refresh
  // waits a moment and tries again.
  var SELF_REFRESHING = ['actions-bar', 'tab-content'];
  document.addEventListener('htmx:beforeSwap', function (ev) {
    var target = ev.detail.target;
    if (!target || SELF_REFRESHING.indexOf(target.id) < 0) return;
    var busy = Array.prototype.some.call(target.querySelectorAll('.htmx-request'),
                                         function (el) { return el !== ev.detail.elt; });
    if (!busy) return;
    ev.detail.shouldSwap = false;
    setTimeout(function () {
      var el = document.getElementById(target.id);
      if (el) htmx.trigger(el, 'refresh-later');
    }, 700);
  });

  document.addEventListener('DOMContentLoaded', function () {
    var section = document.getElementById('serial-console');
    if (section && window.Terminal) serialConsole(section);
    followConsoleLog();
  });
})();
