import type { Command } from 'commander';
import { jobNamed, jobs, runJob } from '../../internal/jobs/index.js';
import { printJson } from '../args.js';
import { CliError, EXIT } from '../cli-error.js';
import { cliConfig, withContext } from '../context.js';

/** `qianfan-order job list|run`: the scheduled jobs, and one run of a job by hand. */
export function jobCommand(program: Command): void {
  const job = program.command('job').description('the scheduled jobs of the job process');
  job
    .command('list')
    .description('every job with its schedule (config jobs.*), lease and what it does')
    .option('--json', 'one JSON document on stdout')
    .addHelpText('after', '\nExample:\n  qianfan-order job list --json')
    .action((opts: { json?: boolean }) => {
      const config = cliConfig();
      const rows = jobs.map((j) => ({
        name: j.name,
        schedule: config.jobs[j.configKey],
        leaseMs: j.leaseMs,
        does: j.does,
      }));
      if (opts.json) return printJson(rows);
      for (const r of rows) process.stdout.write(`${r.name.padEnd(24)} ${r.schedule.padEnd(18)} ${r.does}\n`);
    });
  job
    .command('run')
    .description('run one tick of a job now, honouring its lease (refused while another instance runs it)')
    .argument('<name>', `one of: ${jobs.map((j) => j.name).join(', ')}`)
    .option('--dry-run', 'say whether the job could run now (its lease is free), run nothing')
    .option('--json', 'the run as one JSON document on stdout')
    .addHelpText('after', '\nExample:\n  qianfan-order job run close-expired-orders')
    .action(async (name: string, opts: { dryRun?: boolean; json?: boolean }) => {
      const def = jobNamed(name);
      if (!def) throw new CliError(`no job '${name}'; see qianfan-order job list`, EXIT.USAGE);
      if (opts.dryRun) {
        await withContext(async (ctx) => {
          const held = (await ctx.redis.exists(`lock:job:${def.name}`)) === 1;
          process.stdout.write(
            `${name}: ${held ? 'running on another instance now' : 'would run now'} (${def.does})\n`,
          );
        });
        return;
      }
      await withContext(
        async (ctx) => {
          const r = await runJob(ctx, def);
          if (opts.json) printJson(r);
          else if (r.status === 'ok')
            process.stdout.write(`${name}: ok in ${r.ms} ms, ${r.items} items: ${JSON.stringify(r.result)}\n`);
          else if (r.status === 'skipped') process.stdout.write(`${name}: skipped (${r.reason})\n`);
          if (r.status === 'failed')
            throw new CliError(`${name} failed: ${r.error} (see the log; run it again once fixed)`);
          if (r.status === 'skipped')
            throw new CliError(`${name} is running on another instance; try again when it ends`);
        },
        { mq: true },
      );
    });
}
