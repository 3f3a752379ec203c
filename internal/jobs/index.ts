export { type JobDef, jobNamed, jobs } from './catalog.js';
export { type JobRun, runJob } from './run-job.js';
