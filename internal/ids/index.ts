export { idString, MAX_ID, parseId } from './parse.js';
export { EPOCH_MS, IdGenerator, idTime, type ProcessName, processSlots } from './snowflake.js';
