/**
 * The page that relays a saga's inspector feed (src/console/inspector-feed.ts) to Stately's
 * hosted inspector, for users who have internet. Off by default (INSPECTOR_RELAY=on turns it on):
 * the console otherwise never points a browser at another host.
 */
import { esc, page } from './html';

export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';

export function inspectorRelayPage(orderId: string, enabled: boolean): string {
  const feed = `/sagas/${encodeURIComponent(orderId)}/inspect`;
  if (!enabled) {
    return page(
      'XState inspector',
      '/console/sagas',
      `<p>The relay to Stately's hosted inspector is <b>off</b>: it would open ${esc(STATELY_INSPECTOR_URL)} in this browser.
Start the service with <code>INSPECTOR_RELAY=on</code> to turn it on.</p>
<p>The feed itself is always served locally, over WebSocket at <code>${esc(feed)}</code>, in the frames of
<code>@statelyai/inspect</code>'s <code>createWebSocketInspector</code>, with an operator's token. From a terminal,
<code>EVENTTICKET_TOKEN=&lt;token&gt; npm run inspect -- ${esc(orderId)}</code> relays it to Stately's inspector
(docs/operations.md, "Engineers: the XState inspector").</p>`,
      'inspect-off',
    );
  }
  return page(
    'XState inspector (relay)',
    '/console/sagas',
    `<p>Relaying saga ${esc(orderId)} to <a href="${esc(STATELY_INSPECTOR_URL)}">${esc(STATELY_INSPECTOR_URL)}</a> in a new window.
<button type="button" id="relay-open" data-feed="${esc(feed)}" data-inspector="${esc(STATELY_INSPECTOR_URL)}">Open the inspector</button> (a pop-up: allow it).</p>
<p class="muted" id="relay-status">not connected</p>
<p class="muted">The feed is opened with this tab's token; the saga's events are posted to ${esc(new URL(STATELY_INSPECTOR_URL).origin)} only.</p>`,
    'inspect-relay',
  );
}
