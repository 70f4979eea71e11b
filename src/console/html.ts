/**
 * HTML as text, escaped. Pages carry no inline script or style (a Content-Security-Policy of
 * 'self' holds): behaviour is /console/assets/console.js, reading data-* attributes.
 */
import { ASSETS_PREFIX } from '../http/assets';

export { ASSETS_PREFIX };

/** Escapes text for an HTML text node or a double-quoted attribute. */
export function esc(value: unknown): string {
  // A plain object shows as JSON rather than '[object Object]'.
  let text = '';
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') text = String(value);
  else if (value instanceof Date) text = value.toISOString();
  else if (value !== null && value !== undefined) text = JSON.stringify(value);
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A value as JSON inside a data-* attribute. */
export function dataJson(value: unknown): string {
  return esc(JSON.stringify(value));
}

const NAV: Array<[string, string]> = [
  ['/console', 'Overview'],
  ['/console/sagas', 'Sagas'],
  ['/console/machine', 'Machine'],
  ['/console/dlq', 'Dead letters'],
  ['/console/login', 'Sign in'],
];

/** The page around `body`. `here` is the nav entry to mark. */
export function page(title: string, here: string, body: string, pageKind = ''): string {
  const nav = NAV.map(
    ([href, label]) => `<a href="${href}"${href === here ? ' class="here"' : ''}>${esc(label)}</a>`,
  ).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · EventTicket console</title>
<link rel="icon" href="${ASSETS_PREFIX}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${ASSETS_PREFIX}/console.css">
<script src="${ASSETS_PREFIX}/console.js" defer></script>
</head><body data-page="${esc(pageKind)}">
<header class="top"><span class="brand">EventTicket</span>${nav}<span class="who" id="who"></span></header>
<main>
<h1>${esc(title)}</h1>
<div id="flash"></div>
${body}
</main></body></html>`;
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** A table of already-escaped cells; `rowAttrs[i]` (escaped too) goes on row i's `<tr>`. */
export function table(headers: string[], rows: string[][], attrs = '', rowAttrs: string[] = []): string {
  const head = headers.map((h) => `<th>${h}</th>`).join('');
  const body =
    rows.length === 0
      ? `<tr><td colspan="${headers.length}" class="muted">none</td></tr>`
      : rows
          .map((r, i) => `<tr${rowAttrs[i] ? ` ${rowAttrs[i]}` : ''}>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
          .join('\n');
  return `<table ${attrs}><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}
