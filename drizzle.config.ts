import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes SQL migrations from internal/model; never edit their output by hand.
export default defineConfig({
  dialect: 'mysql',
  schema: './internal/model/tables.ts',
  out: './internal/model/migrations',
  casing: undefined,
});
