export { type Registration, registerInstance, serviceKey } from './registry.js';
