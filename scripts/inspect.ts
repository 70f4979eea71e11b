/**
 * `npm run inspect -- <orderId>`: a saga in Stately's XState inspector.
 *
 * Bridges the service's inspector feed (WebSocket /sagas/:orderId/inspect, with a bearer token)
 * to the @statelyai/inspect browser inspector: it serves a relay page on 127.0.0.1 and prints its
 * address. The page opens https://stately.ai/inspect and posts it the feed's events — to that
 * origin only — once the inspector says `@statelyai.connected`, which is what @statelyai/inspect's
 * createBrowserInspector does. The page reaches the feed through this script (a WebSocket on the
 * same local port), so the token stays in this process and never enters the browser.
 *
 * Settings: EVENTTICKET_URL (default http://localhost:8080), EVENTTICKET_TOKEN (an operator's JWT;
 * `npm run token -- --role operator --sub <you>`), INSPECT_PORT (default 0: any free port).
 * `--print` writes each frame to stdout as a JSON line instead (no browser).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';

function usage(message: string): never {
  console.error(`${message}\nusage: EVENTTICKET_TOKEN=<jwt> npm run inspect -- <orderId> [--print]`);
  process.exit(2);
}

/** The relay page: plain script, no library; posts only to Stately's origin. */
function relayPage(orderId: string): string {
  const origin = new URL(STATELY_INSPECTOR_URL).origin;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Saga ${orderId} · XState inspector relay</title></head>
<body style="font-family:system-ui,sans-serif;margin:2em">
<h1>Saga ${orderId}</h1>
<p><button id="open">Open Stately's inspector</button> (a pop-up: allow it) · <span id="status">not connected</span></p>
<script>
(function () {
  var INSPECTOR = ${JSON.stringify(STATELY_INSPECTOR_URL)};
  var ORIGIN = ${JSON.stringify(origin)};
  var status = document.getElementById('status');
  document.getElementById('open').addEventListener('click', function () {
    var target = window.open(INSPECTOR, 'xstateinspector');
    var buffer = [];
    var connected = false;
    window.addEventListener('message', function (e) {
      if (e.origin !== ORIGIN || e.source !== target) return;
      if (e.data && e.data.type === '@statelyai.connected') {
        connected = true;
        status.textContent = 'connected';
        buffer.forEach(function (ev) { target.postMessage(ev, ORIGIN); });
        buffer = [];
      }
    });
    var ws = new WebSocket('ws://' + location.host + '/feed');
    ws.onerror = function () { status.textContent = 'the feed failed: see the terminal'; };
    ws.onmessage = function (m) {
      var ev = JSON.parse(m.data);
      if (connected) target.postMessage(ev, ORIGIN);
      else buffer.push(ev);
    };
  });
})();
</script></body></html>`;
}

/** A frame's text (ws hands a Buffer, an ArrayBuffer or fragments). */
function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

/** Opens the service's feed with the token; 'error' is reported, never thrown. */
function openFeed(base: string, token: string, orderId: string, onFrame: (text: string) => void): WebSocket {
  const url = `${base.replace(/^http/, 'ws')}/sagas/${encodeURIComponent(orderId)}/inspect`;
  const feed = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } });
  feed.on('error', (error) => {
    console.error(`inspector feed ${url}: ${error.message}`);
    process.exitCode = 1;
  });
  feed.on('message', (data: WebSocket.RawData) => onFrame(rawText(data)));
  feed.on('close', (code, reason) => console.error(`inspector feed closed: ${code} ${reason.toString()}`));
  return feed;
}

function main(): void {
  const args = process.argv.slice(2);
  const print = args.includes('--print');
  const orderId = args.find((a) => !a.startsWith('--'));
  if (!orderId) usage('which order?');
  const token = process.env.EVENTTICKET_TOKEN;
  if (!token) usage('set EVENTTICKET_TOKEN to an operator token (npm run token -- --role operator --sub <you>)');
  const base = process.env.EVENTTICKET_URL ?? 'http://localhost:8080';

  if (print) {
    const feed = openFeed(base, token, orderId, (text) => process.stdout.write(`${text}\n`));
    feed.on('close', () => process.exit());
    return;
  }

  // Every frame so far, so a page that connects late (or reloads) gets the whole story.
  const frames: string[] = [];
  const pages = new Set<WebSocket>();
  const feed = openFeed(base, token, orderId, (text) => {
    frames.push(text);
    for (const page of pages) page.send(text);
  });
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(relayPage(orderId));
    } else {
      res.writeHead(404).end();
    }
  });
  const wss = new WebSocketServer({ server, path: '/feed' });
  wss.on('connection', (page) => {
    pages.add(page);
    for (const text of frames) page.send(text);
    page.on('close', () => pages.delete(page));
    page.on('error', () => pages.delete(page));
  });
  server.listen(Number(process.env.INSPECT_PORT ?? 0), '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    console.log(`relay for saga ${orderId}: open http://127.0.0.1:${port}/ and press the button`);
  });
  const stop = () => {
    feed.close();
    wss.close();
    server.close();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main();
