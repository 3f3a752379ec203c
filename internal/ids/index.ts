export { EPOCH_MS, IdGenerator, idTime, type ProcessName, processSlots } from './snowflake.js';
