import { type Command, InvalidArgumentError } from 'commander';
import { signDevToken } from '../../internal/auth/index.js';
import { CliError } from '../cli-error.js';
import { cliConfig } from '../context.js';

const parseUser = (v: string) => {
  if (!/^\d{1,19}$/.test(v)) throw new InvalidArgumentError('expected a numeric user id, e.g. 1001');
  return v;
};
const parseTtl = (v: string) => {
  const m = /^(\d+)([smhd])$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected a duration like 30m, 12h or 7d');
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
};

export function tokenCommand(program: Command): void {
  program
    .command('token')
    .description('mint a development JWT (HS256 with auth.jwtSecret) for calling the HTTP API')
    .addHelpText('after', '\nExample:\n  qianfan-order token --user 1001 --roles user,admin --ttl 12h')
    .requiredOption('-u, --user <id>', 'user id (the token subject)', parseUser)
    .option('-r, --roles <roles>', 'comma-separated roles, e.g. user,admin', 'user')
    .option('-t, --ttl <duration>', 'lifetime, e.g. 30m, 12h, 7d', parseTtl, 86400)
    .action(async (opts: { user: string; roles: string; ttl: number }) => {
      const config = cliConfig();
      if (config.service.env === 'production') throw new CliError('refusing to mint tokens with a production config');
      const roles = opts.roles
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean);
      const token = await signDevToken(config.auth, { userId: opts.user, roles }, opts.ttl);
      process.stdout.write(`${token}\n`);
    });
}
