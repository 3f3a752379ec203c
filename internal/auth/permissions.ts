import type { Config, Permission } from '../config/index.js';
import type { Principal } from './jwt.js';

/**
 * Whether the caller holds a permission: through the role `admin` (all of them), a role named after the
 * permission, or a role `auth.rolePermissions` grants it.
 */
export function hasPermission(
  principal: Principal,
  permission: Permission,
  grants: Config['auth']['rolePermissions'],
): boolean {
  return principal.roles.some((r) => r === 'admin' || r === permission || grants[r]?.includes(permission) === true);
}
