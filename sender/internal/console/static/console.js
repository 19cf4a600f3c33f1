// minipush console: the one script. Pages work without it; it adds live
// updates (Server-Sent Events), submits pickers on change and asks before
// destructive posts. Every fragment it inserts was rendered and escaped by
// the server's html/template.
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  document.querySelectorAll('select[data-autosubmit]').forEach(function (sel) {
    sel.addEventListener('change', function () { sel.form.submit(); });
  });

  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (ev) {
      if (!window.confirm(form.getAttribute('data-confirm'))) ev.preventDefault();
    });
  });

  document.querySelectorAll('[data-stream]').forEach(function (box) {
    var status = document.querySelector('[data-live-for="' + box.id + '"]');
    var statusText = status && status.querySelector('.live-text');
    var setLive = function (on, text) {
      if (!status) return;
      status.classList.toggle('on', on);
      if (statusText) statusText.textContent = text;
    };
    var es = new EventSource(box.getAttribute('data-stream'));
    es.onopen = function () { setLive(true, 'Live'); };
    es.onerror = function () { setLive(false, 'Reconnecting…'); };
    es.addEventListener('item', function (ev) {
      var tpl = document.createElement('template');
      tpl.innerHTML = ev.data;
      box.replaceChildren(tpl.content);
      box.setAttribute('data-updates', String(parseInt(box.getAttribute('data-updates') || '0', 10) + 1));
    });
    es.addEventListener('done', function () { es.close(); setLive(false, 'Finished'); });
    window.addEventListener('pagehide', function () { es.close(); });
  });
})();
