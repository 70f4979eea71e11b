/* EventTicket console: plain JavaScript, no library, no network beyond this service. */
(function () {
  'use strict';
  var TOKEN = 'et.token';

  function store() {
    try {
      return window.sessionStorage;
    } catch (e) {
      return null;
    }
  }
  function get(key) {
    var s = store();
    return s ? s.getItem(key) : null;
  }

  /** Headers every console call sends: the bearer token (the server records actions with its subject). */
  function authHeaders(extra) {
    var h = Object.assign({}, extra || {});
    var token = get(TOKEN);
    if (token) h['Authorization'] = 'Bearer ' + token;
    return h;
  }

  function signedIn() {
    return !!get(TOKEN);
  }

  function flash(kind, text) {
    var el = document.getElementById('flash');
    if (!el) return;
    el.innerHTML = '';
    var div = document.createElement('div');
    div.className = 'flash ' + kind;
    div.setAttribute('data-flash', kind);
    div.textContent = text;
    el.appendChild(div);
  }

  function call(method, url, body, extraHeaders) {
    var headers = authHeaders(extraHeaders);
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(url, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (res) {
      return res.text().then(function (text) {
        var json = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch (e) {
          json = null;
        }
        return { status: res.status, body: json };
      });
    });
  }

  /**
   * Server-Sent Events over fetch, so the request carries the Authorization header (EventSource
   * cannot). Reconnects with Last-Event-ID: the server replays what was missed, once. The server
   * ends a stream with `event: token-expired` when the token expires (docs/security.md): then, as
   * on a 401, reconnecting with the same token is pointless, so the page goes to sign-in.
   */
  function stream(url, onEvent, onState, fromId) {
    var lastId = fromId === undefined ? null : fromId;
    var stopped = false;
    var expired = false;
    function connect() {
      if (stopped) return;
      var headers = authHeaders({ Accept: 'text/event-stream' });
      if (lastId !== null) headers['Last-Event-ID'] = lastId;
      fetch(url, { headers: headers })
        .then(function (res) {
          if (res.status === 401) expired = true;
          if (!res.ok || !res.body) throw new Error('stream ' + res.status);
          onState(true);
          var reader = res.body.getReader();
          var decoder = new TextDecoder();
          var buffer = '';
          function pump() {
            return reader.read().then(function (r) {
              if (r.done) throw new Error('stream ended');
              buffer += decoder.decode(r.value, { stream: true });
              var parts = buffer.split('\n\n');
              buffer = parts.pop();
              parts.forEach(function (block) {
                var ev = { id: null, event: 'message', data: '' };
                block.split('\n').forEach(function (line) {
                  if (line.indexOf('id: ') === 0) ev.id = line.slice(4);
                  else if (line.indexOf('event: ') === 0) ev.event = line.slice(7);
                  else if (line.indexOf('data: ') === 0) ev.data += line.slice(6);
                });
                if (ev.event === 'token-expired') expired = true;
                if (ev.event === 'token-expired' || ev.event === 'shutdown') return;
                if (ev.id !== null) lastId = ev.id;
                if (ev.data) onEvent(ev.event, JSON.parse(ev.data), ev.id);
              });
              return pump();
            });
          }
          return pump();
        })
        .catch(function () {
          onState(false);
          if (expired) {
            stopped = true;
            window.location.assign('/console/login');
            return;
          }
          setTimeout(connect, 1000);
        });
    }
    connect();
    return {
      stop: function () {
        stopped = true;
      },
    };
  }

  // ---- saga page -------------------------------------------------------------------------------
  function sagaPage() {
    var root = document.getElementById('saga');
    var status = document.getElementById('live-status');
    var toggle = document.getElementById('live-toggle');
    var pending = false;
    function typing() {
      var inputs = root.querySelectorAll('input[name=reason]');
      for (var i = 0; i < inputs.length; i++) if (inputs[i].value) return true;
      return false;
    }
    function refresh() {
      if (!toggle.checked || typing()) {
        pending = true;
        return;
      }
      pending = false;
      fetch(location.pathname + '?fragment=live', { headers: authHeaders() })
        .then(function (res) {
          return res.text();
        })
        .then(function (html) {
          // The operator may have started typing meanwhile: keep the form (and the version it was shown).
          if (!toggle.checked || typing()) {
            pending = true;
            return;
          }
          var live = document.getElementById('live');
          var holder = document.createElement('div');
          holder.innerHTML = html;
          var next = holder.firstElementChild;
          if (live && next) live.replaceWith(next);
          root.setAttribute('data-refreshed', String(Date.now()));
        });
    }
    toggle.addEventListener('change', function () {
      if (toggle.checked && pending) refresh();
    });
    stream(
      root.getAttribute('data-stream'),
      function (event, data) {
        if (event !== 'step') return;
        root.setAttribute('data-last-version', String(data.version));
        refresh();
      },
      function (on) {
        status.className = on ? 'live on' : 'live';
        status.textContent = on ? 'live' : 'reconnecting';
      },
      document.getElementById('live').getAttribute('data-version'),
    );
    root.addEventListener('submit', function (e) {
      var form = e.target;
      var action = form.getAttribute('data-action');
      if (!action) return;
      e.preventDefault();
      var reason = form.querySelector('input[name=reason]').value;
      if (!signedIn()) {
        flash('error', 'sign in first: /console/login');
        return;
      }
      var version = form.getAttribute('data-version');
      call(
        'POST',
        '/ops/sagas/' + form.getAttribute('data-order') + '/' + action,
        { reason: reason },
        { 'If-Match': '"' + version + '"' },
      ).then(function (r) {
        if (r.status >= 200 && r.status < 300) {
          flash('ok', action + ' accepted at version ' + version + ': now ' + (r.body && r.body.state));
          form.querySelector('input[name=reason]').value = '';
          refresh();
        } else {
          flash('error', r.status + ' ' + ((r.body && (r.body.detail || r.body.title)) || 'refused'));
        }
      });
    });
  }

  // ---- list page -------------------------------------------------------------------------------
  function listPage() {
    var note = document.getElementById('list-live');
    var n = 0;
    stream(
      '/sagas/stream',
      function (event) {
        if (event !== 'saga') return;
        n++;
        note.className = 'live on';
        note.innerHTML = '';
        var a = document.createElement('a');
        a.href = location.href;
        a.textContent = n + ' step(s) since this page loaded: reload';
        note.appendChild(a);
      },
      function () {},
    );
  }

  // ---- dead letters ----------------------------------------------------------------------------
  function dlqPage() {
    document.addEventListener('submit', function (e) {
      var form = e.target;
      var action = form.getAttribute('data-action');
      if (action !== 'dlq-redrive' && action !== 'dlq-delete') return;
      e.preventDefault();
      if (!signedIn()) {
        flash('error', 'sign in first: /console/login');
        return;
      }
      var reason = form.querySelector('input[name=reason]').value;
      var done;
      if (action === 'dlq-redrive') {
        var ids = Array.prototype.map.call(document.querySelectorAll('#dlq input[name=id]:checked'), function (c) {
          return c.value;
        });
        var body = { reason: reason };
        if (ids.length > 0) body.ids = ids;
        done = call('POST', '/ops/dlq/redrive', body);
      } else {
        done = call('DELETE', '/ops/dlq/' + encodeURIComponent(form.getAttribute('data-id')), { reason: reason });
      }
      done.then(function (r) {
        if (r.status >= 200 && r.status < 300) {
          flash('ok', action === 'dlq-redrive' ? 'redriven: ' + ((r.body && r.body.redriven) || []).length : 'deleted');
          setTimeout(function () {
            location.reload();
          }, 800);
        } else {
          flash('error', r.status + ' ' + ((r.body && (r.body.detail || r.body.title)) || 'refused'));
        }
      });
    });
  }

  // ---- sign in ---------------------------------------------------------------------------------
  /**
   * Page loads cannot send a bearer header, so the token also goes in a cookie that the server reads
   * for console pages only (src/api/auth/console-cookie.ts). A session cookie: gone with the browser.
   */
  function setPageCookie(token) {
    var secure = location.protocol === 'https:' ? '; Secure' : '';
    document.cookie =
      'et_token=' + (token || '') + '; Path=/console; SameSite=Strict' + secure + (token ? '' : '; Max-Age=0');
  }

  function loginPage() {
    var form = document.getElementById('login');
    form.token.value = get(TOKEN) || '';
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var s = store();
      if (!s) return;
      if (form.token.value.trim()) s.setItem(TOKEN, form.token.value.trim());
      else s.removeItem(TOKEN);
      setPageCookie(form.token.value.trim());
      flash('ok', 'saved for this tab');
    });
    document.getElementById('logout').addEventListener('click', function () {
      var s = store();
      if (s) s.removeItem(TOKEN);
      setPageCookie('');
      form.token.value = '';
      flash('ok', 'forgotten');
    });
  }

  // ---- relay to the hosted inspector (only when INSPECTOR_RELAY=on) -----------------------------
  function relayPage() {
    var button = document.getElementById('relay-open');
    var statusEl = document.getElementById('relay-status');
    button.addEventListener('click', function () {
      var target = window.open(button.getAttribute('data-inspector'), 'xstateinspector');
      var buffer = [];
      var connected = false;
      window.addEventListener('message', function (e) {
        if (e.data && e.data.type === '@statelyai.connected') {
          connected = true;
          statusEl.textContent = 'connected';
          buffer.forEach(function (ev) {
            target.postMessage(ev, '*');
          });
          buffer = [];
        }
      });
      var proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
      var ws = new WebSocket(proto + location.host + button.getAttribute('data-feed'));
      ws.onmessage = function (m) {
        var ev = JSON.parse(m.data);
        if (connected) target.postMessage(ev, '*');
        else buffer.push(ev);
      };
    });
  }

  function start() {
    var who = document.getElementById('who');
    if (who) who.textContent = signedIn() ? 'signed in' : 'not signed in';
    var kind = document.body.getAttribute('data-page');
    if (kind === 'saga') sagaPage();
    else if (kind === 'list') listPage();
    else if (kind === 'dlq') dlqPage();
    else if (kind === 'login') loginPage();
    else if (kind === 'inspect-relay') relayPage();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
