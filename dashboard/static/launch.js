/* The launch form: what the launch would take from the quota, live, as the
   flavor, count and source change; a launch that clearly exceeds what is
   left is refused here (the compute API still judges what is sent, and its
   answer is shown). Also fills the hidden cli_* fields that the form's
   data-cli template reads, so the equivalent command follows the form.
   No build step; needs nothing but app.js. */
(function () {
  'use strict';
  var form = document.getElementById('launch-form');
  if (!form) return;
  var data = JSON.parse(document.getElementById('launch-data').textContent);
  var GiB = 1024 * 1024 * 1024;
  var el = form.elements;

  function intOr(v, d) { var n = parseInt(v, 10); return isNaN(n) ? d : n; }
  function source() {
    var r = form.querySelector('input[name=source_type]:checked');
    return r ? r.value : 'image';
  }
  function show(node, on) { if (node) node.hidden = !on; }

  // The new volume a launch would make: {size} in GiB, or null.
  function newVolume(src, fromVolume) {
    var size = intOr(el.volume_size.value, 0);
    if (src === 'volume' || !fromVolume) return null;
    if (src === 'volume_snapshot') {
      var snap = data.volume_snapshots[el.volume_snapshot.value];
      return {size: Math.max(size, snap ? snap.size : 0)};
    }
    var img = data.images[el[src].value];
    var need = img ? Math.max(img.min_disk, Math.ceil(img.size / GiB)) : 0;
    return {size: size || need || 1};
  }

  function quotaRow(key, need, needMax, refusals, shortOfMax, label) {
    var row = document.getElementById('quota-' + key);
    var pair = (key === 'volumes' || key === 'gigabytes') ?
      (data.volume_quota || {})[key] : (data.quota || {})[key];
    if (!row) return;
    row.querySelector('.need').textContent = need === null ? '–' :
      (needMax > need ? need + ' to ' + needMax : String(need));
    row.classList.remove('over', 'tight');
    if (!pair) { row.querySelector('.after').textContent = '?'; return; }
    var left = pair[1] < 0 ? Infinity : pair[1] - pair[0];
    if (need === null) { row.querySelector('.after').textContent = '–'; return; }
    var after = left - need;
    row.querySelector('.after').textContent = left === Infinity ? 'unlimited' : String(after);
    if (after < 0) {
      row.classList.add('over');
      refusals.push('this launch needs ' + need + ' ' + label + ' and ' + Math.max(left, 0) +
                    ' ' + (left === 1 ? 'is' : 'are') + ' left');
    } else if (left - needMax < 0) {
      row.classList.add('tight');
      shortOfMax.push(label);
    }
  }

  function update() {
    var src = source();
    var bfv = el.boot_from_volume.checked && (src === 'image' || src === 'snapshot');
    var fromVolume = src === 'volume' || src === 'volume_snapshot' || bfv;
    form.querySelectorAll('.source-pick').forEach(function (label) {
      var on = label.getAttribute('data-source') === src;
      label.hidden = !on;
      label.querySelector('select').disabled = !on;
    });
    show(form.querySelector('[data-for="image snapshot"]'), src === 'image' || src === 'snapshot');
    show(form.querySelector('[data-for="volume-boot"]'), fromVolume);
    show(form.querySelector('[data-for="volume-size"]'), bfv || src === 'volume_snapshot');
    el.delete_on_termination.disabled = !fromVolume;
    el.volume_size.disabled = !(bfv || src === 'volume_snapshot');
    form.querySelectorAll('.volume-row').forEach(function (row) { row.hidden = !fromVolume; });

    var flavorOpt = el.flavor.selectedOptions[0];
    var flavor = data.flavors[el.flavor.value];
    var min = Math.max(1, intOr(el.min_count.value, 1));
    var max = Math.max(min, intOr(el.max_count.value, min));
    var refusals = [], short = [], hints = [];
    quotaRow('instances', min, max, refusals, short, 'instances');
    quotaRow('cores', flavor ? flavor.vcpus * min : null, flavor ? flavor.vcpus * max : 0,
             refusals, short, 'vCPUs');
    quotaRow('ram', flavor ? flavor.ram * min : null, flavor ? flavor.ram * max : 0,
             refusals, short, 'MiB of RAM');
    var vol = newVolume(src, fromVolume);
    quotaRow('volumes', fromVolume ? (vol ? 1 : 0) : null, vol ? 1 : 0, refusals, short,
             'volumes');
    quotaRow('gigabytes', fromVolume ? (vol ? vol.size : 0) : null, vol ? vol.size : 0,
             refusals, short, 'GiB of volume storage');
    if (fromVolume && max > 1) {
      refusals.push('an instance that boots from a volume is launched one at a time (count 1)');
    }

    var img = (src === 'image' || src === 'snapshot') ? data.images[el[src].value] : null;
    if (img && flavor) {
      if (img.min_ram && flavor.ram < img.min_ram) {
        hints.push('The image needs ' + img.min_ram + ' MiB of RAM; the flavor has ' + flavor.ram + '.');
      }
      if (!bfv && flavor.disk && Math.max(img.min_disk, img.size / GiB) > flavor.disk) {
        hints.push('The image needs more disk than the flavor\'s ' + flavor.disk + ' GiB: boot from a volume or take a bigger flavor.');
      }
    }
    if (vol && el.volume_size.value && src === 'image' && img &&
        intOr(el.volume_size.value, 0) < Math.max(img.min_disk, Math.ceil(img.size / GiB))) {
      hints.push('The volume must hold the image: at least ' +
                 Math.max(img.min_disk, Math.ceil(img.size / GiB)) + ' GiB.');
    }
    document.getElementById('source-hint').textContent = hints.join(' ');

    var err = document.getElementById('quota-error');
    err.hidden = !refusals.length;
    err.textContent = refusals.length ? 'Refused before sending: ' + refusals.join('; ') + '.' : '';
    document.getElementById('quota-note').textContent = (!refusals.length && short.length) ?
      'The quota has no room for ' + max + ' (' + short.join(', ') + '): the cloud then ' +
      'launches ' + min + '.' : '';
    document.getElementById('launch-submit').disabled = refusals.length > 0;

    // The equivalent command's parts that are not plain field values.
    el.cli_flavor.value = flavorOpt && flavorOpt.value ? flavorOpt.getAttribute('data-name') : '';
    el.cli_image.value = (!fromVolume && img) ? el[src].value : '';
    var bdm = '';
    if (fromVolume && el[src].value) {
      bdm = 'uuid=' + el[src].value + ',source_type=' +
        (src === 'volume_snapshot' ? 'snapshot' : src === 'volume' ? 'volume' : 'image') +
        ',destination_type=volume,boot_index=0';
      if (vol) bdm += ',volume_size=' + vol.size;
      bdm += ',delete_on_termination=' + (el.delete_on_termination.checked ? 'true' : 'false');
    }
    el.cli_bdm.value = bdm;
    el.cli_user_data.value = el.user_data.value.trim() ? 'user-data.txt' : '';
    el.cli_min.value = max > 1 ? String(min) : '';
    el.cli_max.value = max > 1 ? String(max) : '';
    if (window.altostack && window.altostack.renderCli) window.altostack.renderCli(form);
  }

  form.addEventListener('input', update);
  form.addEventListener('change', update);
  form.addEventListener('submit', function (ev) {
    update();
    if (document.getElementById('launch-submit').disabled) ev.preventDefault();
  });
  update();
})();
