export { type Counter, hitAll, type RateDecision } from './fixed-window.js';
