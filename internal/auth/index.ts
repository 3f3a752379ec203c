export { type Principal, signDevToken, verifyToken } from './jwt.js';
export { hasPermission } from './permissions.js';
