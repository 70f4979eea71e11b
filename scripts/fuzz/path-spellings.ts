/**
 * Other spellings of a canonical request path (issue 22, kind 2): the ways a client, a proxy or an
 * attacker may write the same route differently. The API routes strictly and case-sensitively, so
 * each of these must be refused (404) and change nothing; used by test/api/path-spellings.test.ts
 * and by `npm run fuzz`.
 *
 * Kinds: letter case, a trailing slash, doubled slashes, percent-encoded unreserved characters
 * (RFC 3986 §2.3 says they are equivalent; the router must not treat them as the route), `;`
 * parameters (RFC 3986 §3.3), and dot segments (§5.2.4; node's HTTP server does not remove them).
 */

/**
 * Every other spelling of the route `template` (an Express path, `:name` parameters), with each
 * parameter filled by `fill(name)`. Only the route's own (static) segments are respelled: a
 * parameter's value is data that its handler validates, on the same route. Without duplicates and
 * without the canonical spelling itself.
 */
export function spellingsOf(template: string, fill: (name: string) => string = () => 'x'): string[] {
  const segments = template.split('/').slice(1);
  const isParam = (s: string) => s.startsWith(':');
  const render = (parts: string[]) =>
    `/${parts.map((s) => (isParam(s) ? encodeURIComponent(fill(s.slice(1))) : s)).join('/')}`;
  const canonical = render(segments);
  const mapStatic = (f: (s: string, i: number) => string) => segments.map((s, i) => (isParam(s) ? s : f(s, i)));
  const firstStatic = segments.findIndex((s) => !isParam(s));
  const lastStatic = segments.length - 1 - [...segments].reverse().findIndex((s) => !isParam(s));
  const at = (index: number, f: (s: string) => string) => mapStatic((s, i) => (i === index ? f(s) : s));
  const encodeFirst = (s: string) => (s.length > 0 ? `%${s.charCodeAt(0).toString(16).toUpperCase()}${s.slice(1)}` : s);
  const encodeLast = (s: string) => s.replace(/[a-z]$/, (c) => `%${c.charCodeAt(0).toString(16)}`);
  const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  const endsStatic = !isParam(segments[segments.length - 1] ?? ':');
  const variants = [
    render(mapStatic((s) => s.toUpperCase())),
    render(at(firstStatic, (s) => s.toUpperCase())),
    render(at(firstStatic, capitalise)),
    render(at(lastStatic, (s) => s.toUpperCase())),
    render(at(lastStatic, capitalise)),
    render(at(firstStatic, encodeFirst)),
    render(at(lastStatic, encodeLast)),
    render(at(firstStatic, (s) => `${s};v=1`)),
    `${canonical}/`,
    `/${canonical}`,
    canonical.replace(/\/([^/]*)$/, '//$1'),
    `/x/..${canonical}`,
    `/.${canonical}`,
    `${canonical}/.`,
    `${canonical}/x/..`,
    ...(endsStatic ? [`${canonical};x=1`, `${canonical}%2F`, `${canonical}%00`, `${canonical}.json`] : []),
  ];
  return [...new Set(variants)].filter((v) => v !== canonical);
}
