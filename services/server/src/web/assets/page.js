(function () {
  var main = document.querySelector('main');
  var seen = Number(main.getAttribute('data-head')) || 0, busy = false, sorted = null;
  function refresh() {
    if (busy || Number(main.getAttribute('data-head')) >= seen) return;
    busy = true;
    fetch(location.href, {headers: {'Accept': 'text/html'}}).then(function (r) { return r.text(); }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      var fresh = doc.querySelector('main'), live = document.getElementById('live'), freshLive = doc.getElementById('live');
      if (fresh && live && freshLive) {
        live.innerHTML = freshLive.innerHTML;
        main.setAttribute('data-head', fresh.getAttribute('data-head'));
        if (sorted) sortBy(document.querySelector(sorted.table + ' thead tr').children[sorted.column], sorted.asc);
      }
      busy = false; setTimeout(refresh, 250);
    }).catch(function () { busy = false; setTimeout(refresh, 2000); });
  }
  function heard(e) { seen = Math.max(seen, Number(e.lastEventId) || 0); refresh(); }
  if (window.EventSource && document.body.getAttribute('data-live') === '1') {
    var token = new URLSearchParams(location.search).get('token');
    var source = new EventSource('/v1/subscribe?after=' + seen + (token ? '&token=' + encodeURIComponent(token) : ''));
    source.onmessage = heard;
    document.body.getAttribute('data-events').split(' ').forEach(function (t) {
      source.addEventListener(t, heard);
    });
  }
  function sortBy(th, asc) {
    var table = th.closest('table'), i = Array.prototype.indexOf.call(th.parentElement.children, th);
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    rows.sort(function (x, y) {
      var a = x.cells[i].getAttribute('data-v') || x.cells[i].textContent, c = y.cells[i].getAttribute('data-v') || y.cells[i].textContent;
      var na = parseFloat(a), nc = parseFloat(c);
      var r = (!isNaN(na) && !isNaN(nc)) ? na - nc : a.localeCompare(c, 'vi');
      return asc ? r : -r;
    });
    Array.prototype.forEach.call(th.parentElement.children, function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    rows.forEach(function (r) { table.tBodies[0].appendChild(r); });
    sorted = {table: table.id ? '#' + table.id : 'table', column: i, asc: asc};
  }
  document.addEventListener('click', function (e) {
    var b = e.target.closest('th button'); if (!b) return;
    var th = b.parentElement;
    sortBy(th, th.getAttribute('aria-sort') !== 'ascending');
    b.focus();
  });
})();
