export { type Instance, instanceKey, type Registration, registerInstance } from './registry.js';
