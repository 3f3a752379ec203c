import { type Config, EXPLICIT_PERMISSIONS, type Permission } from '../config/index.js';
import type { Principal } from './jwt.js';

/**
 * Whether the caller holds a permission: through the role `admin` (all but the explicit ones), a role
 * named after the permission, or a role `auth.rolePermissions` grants it.
 */
export function hasPermission(
  principal: Principal,
  permission: Permission,
  grants: Config['auth']['rolePermissions'],
): boolean {
  const viaAdmin = !EXPLICIT_PERMISSIONS.includes(permission);
  return principal.roles.some(
    (r) => (viaAdmin && r === 'admin') || r === permission || grants[r]?.includes(permission) === true,
  );
}
