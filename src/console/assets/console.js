// syncctl console: progressive enhancement only. Every page works without this file (forms post,
// links navigate); with it: live counters, confirm dialogs, copy buttons, select-all, shortcuts.
'use strict';
(function () {
  // Copy an id to the clipboard (the console is served on loopback or TLS: a secure context).
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('button[data-copy]');
    if (!b) return;
    var text = b.getAttribute('data-copy');
    var done = function () {
      b.textContent = 'copied';
      setTimeout(function () { b.textContent = 'copy'; }, 1200);
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, function () {});
    else {
      var t = document.createElement('textarea');
      t.value = text;
      document.body.appendChild(t);
      t.select();
      try { document.execCommand('copy'); done(); } catch (err) { /* nothing to do */ }
      t.remove();
    }
  });

  // Confirm before an action: the button (or its form) says what will happen.
  document.addEventListener('submit', function (e) {
    var b = e.submitter || e.target.querySelector('[data-confirm]');
    var msg = b && b.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) e.preventDefault();
  });

  // Select every row of a table at once.
  document.addEventListener('change', function (e) {
    var all = e.target.getAttribute && e.target.getAttribute('data-check-all');
    if (!all) return;
    var form = e.target.form || document;
    form.querySelectorAll('input[type=checkbox][name="' + all + '"]').forEach(function (c) { c.checked = e.target.checked; });
  });

  // Keyboard: g then o/c/d/e to go to a page, / to the first filter field.
  var pending = false;
  document.addEventListener('keydown', function (e) {
    var tag = (e.target.tagName || '').toLowerCase();
    if (tag === 'input' || tag === 'select' || tag === 'textarea' || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === '/') {
      var f = document.querySelector('.filters input, .filters select');
      if (f) { e.preventDefault(); f.focus(); }
      return;
    }
    if (pending) {
      pending = false;
      var to = { o: '/console', c: '/console/conflicts', d: '/console/dlq', e: '/console/entity' }[e.key];
      if (to) location.href = to;
      return;
    }
    if (e.key === 'g') pending = true;
  });

  // Live counters: polled (not a held-open stream, so a daemon's drain is never kept waiting).
  var seconds = Number(document.body.getAttribute('data-refresh')) || 5;
  var nodes = document.querySelectorAll('[data-live]');
  if (!nodes.length) return;
  // What the page showed when it was rendered (the server filled the badges): the baseline of "changed".
  var first = {};
  nodes.forEach(function (n) {
    var v = Number(n.textContent);
    if (!isNaN(v) && n.textContent.trim() !== '') first[n.getAttribute('data-live')] = v;
  });
  var notice = null;
  function refresh() {
    if (document.hidden) return;
    fetch('/console/api/live', { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (live) {
        if (!live) return;
        nodes.forEach(function (n) {
          var k = n.getAttribute('data-live');
          if (k in live) n.textContent = String(live[k]);
        });
        var changed = ('openConflicts' in first && live.openConflicts !== first.openConflicts) || ('openDeadLetters' in first && live.openDeadLetters !== first.openDeadLetters);
        if (changed && document.querySelector('form#bulk')) {
          if (!notice) {
            notice = document.createElement('p');
            notice.className = 'notice';
            notice.setAttribute('role', 'status');
            document.querySelector('main').insertBefore(notice, document.querySelector('main h1').nextSibling);
          }
          notice.innerHTML = '';
          notice.appendChild(document.createTextNode('Open conflicts: ' + live.openConflicts + ', open dead letters: ' + live.openDeadLetters + ' (changed since this page was loaded). '));
          var a = document.createElement('a');
          a.href = location.pathname + location.search;
          a.textContent = 'Reload';
          notice.appendChild(a);
        }
      })
      .catch(function () {});
  }
  setInterval(refresh, seconds * 1000);
  refresh();
})();
