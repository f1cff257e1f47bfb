/* Key pairs: an imported public key may come from a file (read here, in
   the browser, into the form's text field). */
(function () {
  'use strict';
  var input = document.getElementById('public-key-file');
  if (!input) return;
  input.addEventListener('change', function () {
    var file = input.files[0];
    if (!file) return;
    file.text().then(function (text) {
      var form = input.form;
      form.elements.public_key.value = text.trim();
      var name = form.elements.name;
      if (!name.value) name.value = file.name.replace(/\.pub$/, '').replace(/[^a-zA-Z0-9 _.@-]/g, '_');
      var cli = form.elements.cli_file;
      if (cli) cli.value = file.name;
      if (window.altostack && window.altostack.renderCli) window.altostack.renderCli(form);
    });
  });
})();
