/**
 * Authorization per route. A route declares who may call it by putting requireRole(...) first:
 *
 *   router.get('/sagas', requireRole('operator'), handler)
 *
 * The principal passes with any one of the roles listed (operator-repair implies operator). A
 * principal without them gets 403 problem+json (`WWW-Authenticate: Bearer error="insufficient_scope"`,
 * RFC 6750 §3.1); a request without a principal never gets this far (401 first). Ownership (a
 * customer's own orders) is checked by the route: see ownsOrReads.
 */
import type { NextFunction, Request, Response } from 'express';
import { ProblemError } from '../problem';
import { REALM } from './authenticate';
import { hasRole, principalOf, type Principal, type Role } from './principal';

export function requireRole(...roles: [Role, ...Role[]]) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const principal = principalOf(res);
    if (roles.some((role) => hasRole(principal, role))) {
      next();
      return;
    }
    next(
      new ProblemError('forbidden', `this action needs the role ${roles.join(' or ')}`, undefined, {
        requiredRoles: roles,
        wwwAuthenticate: `Bearer realm="${REALM}", error="insufficient_scope"`,
      }),
    );
  };
}

/**
 * Whether the principal may see a customer's order or saga: an operator sees all, a customer only
 * its own. Callers answer 404 otherwise, so another customer's order does not show it exists.
 */
export function mayRead(principal: Principal, customerId: string): boolean {
  return hasRole(principal, 'operator') || (hasRole(principal, 'customer') && principal.sub === customerId);
}
