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
    var lastResult = null;
    function typing() {
      if (root.querySelector('.confirm')) return true;
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
          // The last action's result stays beside its button (or under Actions once that is gone).
          if (lastResult) {
            var form = root.querySelector('form[data-action=' + lastResult.action + ']');
            if (form) showResult(form, lastResult.kind, lastResult.text);
            else {
              var box = document.getElementById('actions');
              if (box) {
                var p = document.createElement('p');
                p.className = 'result ' + lastResult.kind;
                p.setAttribute('data-result', lastResult.kind);
                p.textContent = lastResult.text;
                box.insertBefore(p, box.firstChild);
              }
            }
          }
          diagrams();
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
    // Clicking a history row lights its transition on the diagram (and scrolls it into view).
    function rowEvent(e) {
      if (e.type === 'keydown' && e.key !== 'Enter') return;
      var row = e.target.closest ? e.target.closest('tr[data-edge]') : null;
      if (!row) return;
      lightEdge(row.getAttribute('data-edge'));
      var rows = root.querySelectorAll('tr.lit');
      for (var i = 0; i < rows.length; i++) rows[i].classList.remove('lit');
      row.classList.add('lit');
    }
    root.addEventListener('click', rowEvent);
    root.addEventListener('keydown', rowEvent);
    root.addEventListener('submit', function (e) {
      var form = e.target;
      var action = form.getAttribute('data-action');
      if (!action) return;
      e.preventDefault();
      var reason = form.querySelector('input[name=reason]').value;
      if (!signedIn()) {
        showResult(form, 'error', 'sign in first: /console/login');
        return;
      }
      // First the effect, in money and seats; the call goes only from the confirm button.
      confirmThen(form, form.getAttribute('data-effect'), 'Confirm ' + action, function () {
        var version = form.getAttribute('data-version');
        call(
          'POST',
          '/ops/sagas/' + form.getAttribute('data-order') + '/' + action,
          { reason: reason },
          { 'If-Match': '"' + version + '"' },
        ).then(function (r) {
          if (r.status >= 200 && r.status < 300) {
            lastResult = {
              action: action,
              kind: 'ok',
              text: action + ' accepted at version ' + version + ': now ' + (r.body && r.body.state),
            };
            showResult(form, 'ok', lastResult.text);
            form.querySelector('input[name=reason]').value = '';
            refresh();
          } else {
            var text = r.status + ' ' + ((r.body && (r.body.detail || r.body.title)) || 'refused');
            lastResult = { action: action, kind: 'error', text: text };
            showResult(form, 'error', text);
          }
        });
      });
    });
  }

  /** Marks the diagram edge `domId` lit (one at a time). */
  function lightEdge(domId) {
    var lit = document.querySelectorAll('svg.machine-diagram .edge.lit');
    for (var i = 0; i < lit.length; i++) lit[i].classList.remove('lit');
    var edge = document.getElementById(domId);
    if (!edge) return;
    edge.classList.add('lit');
    if (edge.scrollIntoView) edge.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  /** The result of an action, beside its button (not at the top of the page). */
  function showResult(form, kind, text) {
    var out = form.querySelector('.result');
    if (!out) return flash(kind, text);
    out.className = 'result ' + kind;
    out.setAttribute('data-result', kind);
    out.textContent = text;
  }

  /**
   * Shows `effect` under the form with a confirm and a back button; `go` runs on confirm only.
   * The panel is part of the form, so the page's live refresh (which waits while a reason is typed)
   * does not take it away.
   */
  function confirmThen(form, effect, label, go) {
    var old = form.querySelector('.confirm');
    if (old) old.remove();
    var panel = document.createElement('div');
    panel.className = 'confirm';
    var p = document.createElement('p');
    p.className = 'effect';
    p.textContent = effect || 'Are you sure?';
    var yes = document.createElement('button');
    yes.type = 'button';
    yes.className = 'confirm-yes danger';
    yes.textContent = label;
    var no = document.createElement('button');
    no.type = 'button';
    no.className = 'secondary';
    no.textContent = 'Back';
    panel.appendChild(p);
    panel.appendChild(yes);
    panel.appendChild(no);
    form.appendChild(panel);
    yes.addEventListener('click', function () {
      panel.remove();
      go();
    });
    no.addEventListener('click', function () {
      panel.remove();
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
        showResult(form, 'error', 'sign in first: /console/login');
        return;
      }
      var reason = form.querySelector('input[name=reason]').value;
      function send(done) {
        done.then(function (r) {
          if (r.status >= 200 && r.status < 300) {
            showResult(
              form,
              'ok',
              action === 'dlq-redrive' ? 'redriven: ' + ((r.body && r.body.redriven) || []).length : 'deleted',
            );
            setTimeout(function () {
              location.reload();
            }, 1500);
          } else {
            showResult(form, 'error', r.status + ' ' + ((r.body && (r.body.detail || r.body.title)) || 'refused'));
          }
        });
      }
      if (action === 'dlq-delete') {
        send(call('DELETE', '/ops/dlq/' + encodeURIComponent(form.getAttribute('data-id')), { reason: reason }));
        return;
      }
      var boxes = document.querySelectorAll('#dlq input[name=id]:checked');
      var ids = Array.prototype.map.call(boxes, function (c) {
        return c.value;
      });
      // Nothing ticked redrives nothing (the endpoint would take "no ids" as "all of them").
      if (ids.length === 0) {
        showResult(form, 'error', 'nothing selected: tick the messages to redrive (nothing was redriven)');
        return;
      }
      var poison = Array.prototype.filter.call(boxes, function (c) {
        return c.getAttribute('data-poison') === '1';
      }).length;
      var go = function () {
        send(call('POST', '/ops/dlq/redrive', { reason: reason, ids: ids }));
      };
      if (poison > 0) {
        confirmThen(
          form,
          poison +
            ' of the ' +
            ids.length +
            ' selected message(s) are poison (they failed their schema): redriven, they fail again and come back here. Fix the sender first.',
          'Redrive anyway',
          go,
        );
      } else go();
    });
  }

  // ---- sign in ---------------------------------------------------------------------------------
  /**
   * Page loads cannot send a bearer header, so the token also goes in a cookie that the server reads
   * for console pages only (src/http/auth/console-cookie.ts). A session cookie: gone with the browser.
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
      whoAmI();
      flash('ok', 'saved for this tab');
    });
    document.getElementById('logout').addEventListener('click', function () {
      var s = store();
      if (s) s.removeItem(TOKEN);
      setPageCookie('');
      form.token.value = '';
      whoAmI();
      flash('ok', 'forgotten');
    });
  }

  // ---- relay to the hosted inspector (only when INSPECTOR_RELAY=on) -----------------------------
  function relayPage() {
    var button = document.getElementById('relay-open');
    var statusEl = document.getElementById('relay-status');
    var inspectorUrl = button.getAttribute('data-inspector');
    // Saga data goes to Stately's window only: every postMessage names its origin, and only
    // messages from that origin are believed.
    var origin = new URL(inspectorUrl).origin;
    button.addEventListener('click', function () {
      var token = get(TOKEN);
      if (!token) {
        statusEl.textContent = 'sign in first: /console/login';
        return;
      }
      var target = window.open(inspectorUrl, 'xstateinspector');
      var buffer = [];
      var connected = false;
      window.addEventListener('message', function (e) {
        if (e.origin !== origin || e.source !== target) return;
        if (e.data && e.data.type === '@statelyai.connected') {
          connected = true;
          statusEl.textContent = 'connected';
          buffer.forEach(function (ev) {
            target.postMessage(ev, origin);
          });
          buffer = [];
        }
      });
      var proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
      // A browser WebSocket cannot send headers: the feed takes the token as access_token.
      var ws = new WebSocket(
        proto + location.host + button.getAttribute('data-feed') + '?access_token=' + encodeURIComponent(token),
      );
      ws.onerror = function () {
        statusEl.textContent = 'the feed refused or failed (is the token still valid?)';
      };
      ws.onmessage = function (m) {
        var ev = JSON.parse(m.data);
        if (connected) target.postMessage(ev, origin);
        else buffer.push(ev);
      };
    });
  }

  /** The token's claims, decoded for display only (the server verifies it on every request). */
  function claims() {
    var token = get(TOKEN);
    if (!token) return null;
    try {
      var part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(decodeURIComponent(escape(atob(part))));
    } catch (e) {
      return null;
    }
  }

  /** The header names who is signed in and with which roles. */
  function whoAmI() {
    var who = document.getElementById('who');
    if (!who) return;
    var c = claims();
    if (!c) {
      who.textContent = 'not signed in';
      who.className = 'who';
      return;
    }
    var roles = Array.isArray(c.roles) ? c.roles.join(', ') : String(c.roles || 'no roles');
    var expired = typeof c.exp === 'number' && c.exp * 1000 < Date.now();
    who.className = 'who' + (expired ? ' expired' : '');
    who.textContent = (c.sub || '?') + ' · ' + roles + (expired ? ' · token expired' : '');
    if (c.exp) who.title = 'token expires ' + new Date(c.exp * 1000).toISOString();
  }

  /**
   * Zoom, pan and fit for every diagram: buttons, ctrl+wheel to zoom, drag to pan. The SVG is
   * drawn at its natural size (readable labels) and scaled from there.
   */
  function diagrams() {
    var wraps = document.querySelectorAll('.diagram-wrap');
    for (var i = 0; i < wraps.length; i++) setUpDiagram(wraps[i]);
  }
  function setUpDiagram(wrap) {
    var svg = wrap.querySelector('svg.machine-diagram');
    if (!svg || wrap.getAttribute('data-zoom-ready')) return;
    wrap.setAttribute('data-zoom-ready', '1');
    var w0 = Number(svg.getAttribute('width'));
    var h0 = Number(svg.getAttribute('height'));
    var scale = 1;
    function apply() {
      svg.setAttribute('width', String(Math.round(w0 * scale)));
      svg.setAttribute('height', String(Math.round(h0 * scale)));
      wrap.setAttribute('data-scale', scale.toFixed(2));
    }
    function zoom(f) {
      scale = Math.min(4, Math.max(0.25, scale * f));
      apply();
    }
    function fit() {
      var avail = wrap.clientWidth - 4;
      scale = Math.min(1.5, Math.max(0.25, avail / w0));
      apply();
    }
    var bar = document.createElement('div');
    bar.className = 'zoombar';
    [
      [
        '−',
        'zoom out',
        function () {
          zoom(1 / 1.25);
        },
      ],
      [
        '+',
        'zoom in',
        function () {
          zoom(1.25);
        },
      ],
      ['fit', 'fit the width', fit],
      [
        '1:1',
        'natural size',
        function () {
          scale = 1;
          apply();
        },
      ],
    ].forEach(function (b) {
      var btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'secondary';
      btn.textContent = b[0];
      btn.title = b[1];
      btn.setAttribute('data-zoom', b[0]);
      btn.addEventListener('click', b[2]);
      bar.appendChild(btn);
    });
    wrap.parentNode.insertBefore(bar, wrap);
    wrap.addEventListener(
      'wheel',
      function (e) {
        if (!e.ctrlKey) return;
        e.preventDefault();
        zoom(e.deltaY < 0 ? 1.1 : 1 / 1.1);
      },
      { passive: false },
    );
    var drag = null;
    wrap.addEventListener('mousedown', function (e) {
      drag = { x: e.clientX, y: e.clientY, l: wrap.scrollLeft, t: wrap.scrollTop };
      wrap.classList.add('panning');
    });
    window.addEventListener('mouseup', function () {
      drag = null;
      wrap.classList.remove('panning');
    });
    wrap.addEventListener('mousemove', function (e) {
      if (!drag) return;
      wrap.scrollLeft = drag.l - (e.clientX - drag.x);
      wrap.scrollTop = drag.t - (e.clientY - drag.y);
    });
    // Start where the whole machine is seen if it fits at a readable size, else at 1:1.
    if (w0 > wrap.clientWidth && wrap.clientWidth / w0 >= 0.8) fit();
    else apply();
    // A saga's current state in view.
    var current = svg.querySelector('.state.current rect');
    if (current && wrap.scrollWidth > wrap.clientWidth) {
      var r = current.getBoundingClientRect();
      var box = wrap.getBoundingClientRect();
      wrap.scrollLeft += r.left - box.left - wrap.clientWidth / 2 + r.width / 2;
    }
  }

  /**
   * JSON links (`a[data-json]`) open in the console: the same read, with this tab's bearer token,
   * pretty-printed in a panel. The page cookie stays scoped to /console (./console-cookie.ts).
   */
  function jsonLinks() {
    document.addEventListener('click', function (e) {
      var a = e.target.closest ? e.target.closest('a[data-json]') : null;
      if (!a || e.ctrlKey || e.metaKey || e.shiftKey) return;
      e.preventDefault();
      var url = a.getAttribute('href');
      call('GET', url).then(function (r) {
        var old = document.getElementById('json-view');
        if (old) old.remove();
        var box = document.createElement('section');
        box.id = 'json-view';
        box.className = 'json-view';
        var head = document.createElement('div');
        head.className = 'json-head';
        var title = document.createElement('b');
        title.textContent = 'GET ' + url + ' → ' + r.status;
        var close = document.createElement('button');
        close.type = 'button';
        close.className = 'secondary';
        close.textContent = 'close';
        close.addEventListener('click', function () {
          box.remove();
        });
        head.appendChild(title);
        head.appendChild(close);
        var pre = document.createElement('pre');
        pre.textContent = JSON.stringify(r.body, null, 2);
        box.appendChild(head);
        box.appendChild(pre);
        document.querySelector('main').appendChild(box);
        box.scrollIntoView({ block: 'start' });
      });
    });
  }

  function start() {
    whoAmI();
    diagrams();
    jsonLinks();
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
