/* Images: the upload (the record first, then the file as the raw body of a
   PUT that the dashboard passes on to the image service as it reads it,
   with the upload's progress), property rows, the edit form's
   'image unset' part of its command, and delete confirmations.
   No build step; needs nothing but app.js. */
(function () {
  'use strict';

  function renderCli(form) {
    if (window.altostack && window.altostack.renderCli && form.hasAttribute('data-cli')) {
      window.altostack.renderCli(form);
    }
  }

  // An error answer: the dashboard's alert fragment (message, HTTP status,
  // request id) into #alerts; anything else (a proxy's page) as its text.
  function showError(status, body, contentType) {
    var alerts = document.getElementById('alerts');
    var box = document.createElement('div');
    if (/text\/html/.test(contentType || '') && /class="alert/.test(body)) {
      box.innerHTML = body;
    } else {
      var div = document.createElement('div');
      div.className = 'alert error';
      div.setAttribute('role', 'alert');
      var strong = document.createElement('strong');
      strong.textContent = 'The upload failed (HTTP ' + (status || 'no answer') + ')';
      var p = document.createElement('p');
      p.className = 'api-message';
      p.textContent = (body || '').replace(/<[^>]*>/g, ' ').trim().slice(0, 500) ||
        'The connection to the dashboard was lost.';
      div.appendChild(strong);
      div.appendChild(p);
      box.appendChild(div);
    }
    while (box.firstChild) alerts.insertBefore(box.lastChild, alerts.firstChild);
  }

  function mib(n) { return (n / 1048576).toFixed(1) + ' MiB'; }

  function wireUpload(form) {
    var fileInput = form.elements.file;
    var bar = form.querySelector('.progress span');
    var status = document.getElementById('upload-status');
    var button = document.getElementById('upload-submit');
    var formats = {qcow2: 'qcow2', img: 'raw', raw: 'raw', iso: 'iso', vmdk: 'vmdk',
                   vdi: 'vdi', vhd: 'vhd', vhdx: 'vhdx'};
    fileInput.addEventListener('change', function () {
      var file = fileInput.files[0];
      if (!file) return;
      var ext = (file.name.split('.').pop() || '').toLowerCase();
      if (formats[ext]) form.elements.disk_format.value = formats[ext];
      if (!form.elements.name.value) form.elements.name.value = file.name.replace(/\.[^.]+$/, '');
      renderCli(form);
    });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var file = fileInput.files[0];
      if (!file) { fileInput.reportValidity(); return; }
      var fields = new URLSearchParams();
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || el.type === 'file' || el.disabled) return;
        if ((el.type === 'checkbox' || el.type === 'radio') && !el.checked) return;
        fields.append(el.name, el.value);
      });
      button.disabled = true;
      document.getElementById('upload-progress').hidden = false;
      status.textContent = 'Creating the image record…';
      // HX-Request: the dashboard answers a failure with its alert fragment.
      window.altostack.fetch(form.action, {
        method: 'POST', body: fields,
        headers: {'HX-Request': 'true', 'Accept': 'application/json'}
      }).then(function (resp) {
        if (resp.ok) return resp.json();
        return resp.text().then(function (text) {
          throw {status: resp.status, body: text, type: resp.headers.get('Content-Type')};
        });
      }).then(function (made) {
        status.textContent = 'Uploading ' + file.name + '…';
        form.setAttribute('data-image-id', made.id);
        var xhr = new XMLHttpRequest();
        xhr.open('PUT', made.upload);
        xhr.setRequestHeader('X-CSRFToken', window.altostack.csrfToken());
        xhr.setRequestHeader('HX-Request', 'true');
        xhr.setRequestHeader('Content-Type', 'application/octet-stream');
        xhr.upload.onprogress = function (e) {
          if (!e.lengthComputable) return;
          var pct = Math.floor(100 * e.loaded / e.total);
          bar.style.width = pct + '%';
          status.textContent = mib(e.loaded) + ' of ' + mib(e.total) + ' sent (' + pct + '%)';
        };
        xhr.upload.onload = function () {
          bar.style.width = '100%';
          status.textContent = 'Sent ' + mib(file.size) + '; the image service is checking it…';
        };
        xhr.onload = function () {
          if (xhr.status === 204 || xhr.status === 200) {
            status.textContent = 'Uploaded.';
            location.href = made.detail;
            return;
          }
          button.disabled = false;
          status.innerHTML = '';
          var a = document.createElement('a');
          a.href = made.detail;
          a.textContent = 'The image record ' + made.name + ' stays (queued): open it to retry or delete it.';
          status.appendChild(a);
          showError(xhr.status, xhr.responseText, xhr.getResponseHeader('Content-Type'));
        };
        xhr.onerror = function () {
          button.disabled = false;
          showError(0, '', '');
        };
        xhr.send(file);
      }).catch(function (err) {
        button.disabled = false;
        document.getElementById('upload-progress').hidden = true;
        showError(err.status, err.body || String(err), err.type);
      });
    });
  }

  // The properties a saved image has that the edit form no longer lists.
  function wireEdit(form) {
    var had = JSON.parse(form.getAttribute('data-image-props') || '[]');
    function unset() {
      var keep = {};
      Array.prototype.forEach.call(form.querySelectorAll('input[name=property]'), function (el) {
        var key = el.value.split('=')[0].trim();
        if (key) keep[key] = true;
      });
      form.querySelectorAll('input[name=cli_unset]').forEach(function (el) { el.remove(); });
      had.forEach(function (key) {
        if (keep[key]) return;
        var el = document.createElement('input');
        el.type = 'hidden';
        el.name = 'cli_unset';
        el.value = key;
        form.appendChild(el);
      });
    }
    form.addEventListener('input', function () { unset(); renderCli(form); });
    unset();
  }

  document.querySelectorAll('form .add-property').forEach(function (button) {
    button.addEventListener('click', function () {
      var input = document.createElement('input');
      input.name = 'property';
      input.placeholder = 'key=value';
      button.parentNode.insertBefore(input, button);
      input.focus();
    });
  });
  document.querySelectorAll('form.confirm[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (ev) {
      if (!window.confirm(form.getAttribute('data-confirm'))) ev.preventDefault();
    });
  });
  var upload = document.getElementById('upload-form');
  if (upload) wireUpload(upload);
  var edit = document.getElementById('edit-form');
  if (edit) wireEdit(edit);
})();
