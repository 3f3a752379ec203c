export { hit, type RateDecision } from './fixed-window.js';
