export { type Principal, signDevToken, verifyToken } from './jwt.js';
