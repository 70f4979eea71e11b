/**
 * Who is calling: the verified `sub` of a bearer token and the roles it carries. Set on
 * `res.locals.principal` by authenticate() (./authenticate.ts) and read by principalOf(res).
 *
 * Roles (docs/security.md has the full route × role matrix):
 * - `customer`: `sub` is the customerId; places, reads, lists and cancels only its own orders.
 * - `organizer`: reads and replaces events' inventory.
 * - `operator`: reads everything (sagas, orders, inventory, /ops listings, the console).
 * - `operator-repair`: `operator`, plus retry, compensate, DLQ redrive and delete.
 */
import type { Response } from 'express';
import { ProblemError } from '../problem';

export const ROLES = ['customer', 'organizer', 'operator', 'operator-repair'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** The token's `sub`: 1-255 visible ASCII characters. For a customer, the customerId. */
  sub: string;
  /** Roles named by the token's roles claim, unknown names dropped, implications added. */
  roles: ReadonlySet<Role>;
  /**
   * The token's verified `exp` (epoch seconds), when the principal came from a token. A live
   * connection (SSE stream, WebSocket feed) ends when it passes: src/console/live/live-connections.ts.
   */
  expiresAt?: number;
}

/** A role implies the roles listed here (operator-repair can do all an operator can). */
const IMPLIES: Readonly<Record<Role, readonly Role[]>> = {
  customer: [],
  organizer: [],
  operator: [],
  'operator-repair': ['operator'],
};

/**
 * The roles named in a claim value (an array of strings, or one space- or comma-separated string), implications
 * included.
 */
export function rolesFrom(claim: unknown): Set<Role> {
  const names = Array.isArray(claim)
    ? claim.filter((x): x is string => typeof x === 'string')
    : typeof claim === 'string'
      ? claim.split(/[\s,]+/)
      : [];
  const roles = new Set<Role>();
  for (const name of names) {
    if ((ROLES as readonly string[]).includes(name)) {
      roles.add(name as Role);
      for (const implied of IMPLIES[name as Role]) roles.add(implied);
    }
  }
  return roles;
}

export function hasRole(principal: Principal | undefined, role: Role): boolean {
  return principal !== undefined && principal.roles.has(role);
}

/** The verified caller of this request. Throws a 401 problem when there is none (a public path). */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new ProblemError('unauthorized', 'this request needs a bearer token');
  return principal;
}

/** The caller, or undefined on a public path. */
export function maybePrincipal(res: Response): Principal | undefined {
  return res.locals.principal as Principal | undefined;
}

/** The actor recorded in Events rows and logs for a person's action: `<role>:<sub>`. */
export function actorOf(principal: Principal, as: 'customer' | 'operator' | 'organizer'): string {
  return `${as}:${principal.sub}`;
}
