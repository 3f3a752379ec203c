import { z } from 'zod';

/**
 * What the admin routes need, one permission each (docs/api.md lists them). A token carries a permission
 * as a role of the same name, or through a role that `auth.rolePermissions` grants it; the role `admin`
 * has them all except the explicit ones.
 */
export const PERMISSIONS = [
  'orders:read',
  'orders:write',
  'orders:refund',
  'aftersale:review',
  'orders:export',
  'orders:unmask',
  'flashsales:read',
  'flashsales:write',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** Held only when granted by name (a role named after it, or auth.rolePermissions), never through `admin`. */
export const EXPLICIT_PERMISSIONS: readonly Permission[] = ['orders:unmask'];

/**
 * Role -> permissions. YAML: a mapping (`support: [orders:read]`); environment
 * (QIANFAN_AUTH__ROLE_PERMISSIONS): `support=orders:read; ops=orders:read,orders:write`.
 */
export const rolePermissionsSchema = z
  .preprocess(
    (v) =>
      typeof v === 'string'
        ? Object.fromEntries(
            v
              .split(';')
              .map((e) => e.trim())
              .filter(Boolean)
              .map((e) => {
                const [role = '', perms = ''] = e.split('=');
                return [
                  role.trim(),
                  perms
                    .split(',')
                    .map((p) => p.trim())
                    .filter(Boolean),
                ];
              }),
          )
        : v,
    z.record(
      z.string().regex(/^[\w.:-]{1,64}$/, 'a role name: 1-64 letters, digits, _ . : -'),
      z.array(z.enum(PERMISSIONS, { message: `a permission: one of ${PERMISSIONS.join(', ')}` })),
    ),
  )
  .default({});
