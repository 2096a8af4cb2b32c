/**
 * Roles of API keys (root and managed): what a bearer key may do. `admin` may do everything,
 * `admin:read` may read the admin API (its GET routes, the audit log included), `tokens:mint`
 * may only mint widget tokens. Routes name the role they need in the route table.
 */

export const ROLES = ['admin', 'admin:read', 'tokens:mint'] as const;
export type Role = (typeof ROLES)[number];

/** The roles each role includes besides itself. */
const INCLUDES: Readonly<Record<Role, readonly Role[]>> = {
  admin: ['admin:read', 'tokens:mint'],
  'admin:read': [],
  'tokens:mint': [],
};

/** True when a key holding `held` may call a route that requires `required`. */
export const roleAllows = (held: Role, required: Role): boolean =>
  held === required || INCLUDES[held].includes(required);
