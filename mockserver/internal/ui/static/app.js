// minipush mock UI: the one script. Pages work without it; it adds live
// updates (Server-Sent Events), submits pickers on change and asks before
// destructive posts. Every fragment it inserts was rendered and escaped by
// the server's html/template.
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  document.querySelectorAll('select[data-autosubmit]').forEach(function (sel) {
    sel.addEventListener('change', function () {
      var clears = sel.getAttribute('data-clears');
      if (clears && sel.form.elements[clears]) sel.form.elements[clears].disabled = true;
      sel.form.submit();
    });
  });

  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (ev) {
      if (!window.confirm(form.getAttribute('data-confirm'))) ev.preventDefault();
    });
  });

  document.querySelectorAll('[data-stream]').forEach(function (list) {
    var where = list.getAttribute('data-insert') || 'beforeend';
    var max = parseInt(list.getAttribute('data-max') || '200', 10);
    var toBottom = list.getAttribute('data-scroll') === 'bottom';
    var status = document.querySelector('[data-live-for="' + list.id + '"]');
    var statusText = status && status.querySelector('.live-text');
    var setLive = function (on) {
      if (!status) return;
      status.classList.toggle('on', on);
      if (statusText) statusText.textContent = on ? 'Live' : 'Reconnecting…';
    };
    if (toBottom) list.scrollTop = list.scrollHeight;

    var es = new EventSource(list.getAttribute('data-stream'));
    es.onopen = function () { setLive(true); };
    es.onerror = function () { setLive(false); };
    es.addEventListener('reset', function () { es.close(); window.location.reload(); });
    es.addEventListener('item', function (ev) {
      var tpl = document.createElement('template');
      tpl.innerHTML = ev.data;
      var item = tpl.content.firstElementChild;
      if (!item) return;
      var id = item.id && document.getElementById(item.id);
      if (id) return; // already shown (rendered with the page)
      item.classList.add('new');
      var empty = list.querySelector('.empty');
      if (empty) empty.hidden = true;
      if (where === 'afterbegin') list.insertBefore(item, list.firstChild);
      else list.insertBefore(item, empty || null);
      var items = list.querySelectorAll(':scope > article, :scope > details');
      for (var i = 0; i < items.length - max; i++) {
        items[where === 'afterbegin' ? items.length - 1 - i : i].remove();
      }
      if (toBottom) list.scrollTop = list.scrollHeight;
    });
    window.addEventListener('pagehide', function () { es.close(); });
  });
})();
