export { type RateDecision, type RateLimiter, rateLimiter } from './leased-window.js';
