import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { runMigrations } from '../internal/model/index.js';
import { openDatabase } from '../internal/svc/index.js';
import { testConfig } from './helpers/config.js';

const EXPECTED_TABLES = [
  'after_sale_lines',
  'after_sale_log',
  'after_sales',
  'backfill_runs',
  'dead_letters',
  'flash_sale_tickets',
  'flash_sales',
  'idempotency_keys',
  'mq_tx_log',
  'order_hidden',
  'order_items',
  'order_notes',
  'order_status_log',
  'orders',
  'payments',
  'refunds',
  'shipment_items',
  'shipments',
  'skus',
];

// Runs against a scratch database so it can start from empty without touching the suite's database.
describe('migrations', () => {
  const base = testConfig().mysql;
  // Unbounded statements, as the CLI's migrate runs them: the second concurrent run waits in GET_LOCK.
  const cfg = { ...base, database: `${base.database}_migrate`, statementTimeoutMs: 0 };
  let admin: mysql.Connection;

  before(async () => {
    admin = await mysql.createConnection({ host: cfg.host, port: cfg.port, user: cfg.user, password: cfg.password });
    await admin.query(`DROP DATABASE IF EXISTS \`${cfg.database}\``);
    await admin.query(`CREATE DATABASE \`${cfg.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  });
  after(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${cfg.database}\``);
    await admin.end();
  });

  it('apply from empty, then are a no-op', async () => {
    const { db, pool } = await openDatabase(cfg);
    try {
      const first = await runMigrations(db, pool);
      assert.ok(first.applied >= 1);
      assert.equal(first.applied, first.total);
      const [rows] = await pool.query('SHOW TABLES');
      const tables = (rows as Record<string, string>[])
        .map((r) => Object.values(r)[0])
        .filter((t) => !t?.startsWith('__'));
      assert.deepEqual(tables.sort(), EXPECTED_TABLES);
      const second = await runMigrations(db, pool);
      assert.deepEqual(second, { applied: 0, total: first.total });
    } finally {
      await pool.end();
    }
  });

  it('two concurrent runs serialize on the lock and apply once', async () => {
    await admin.query(`DROP DATABASE \`${cfg.database}\``);
    await admin.query(`CREATE DATABASE \`${cfg.database}\``);
    const a = await openDatabase(cfg);
    const b = await openDatabase(cfg);
    try {
      const [ra, rb] = await Promise.all([runMigrations(a.db, a.pool), runMigrations(b.db, b.pool)]);
      assert.equal(ra.applied + rb.applied, ra.total);
    } finally {
      await a.pool.end();
      await b.pool.end();
    }
  });

  it('the committed migrations match the drizzle schema (drizzle-kit generate finds nothing to do)', () => {
    const out = execFileSync('npx', ['drizzle-kit', 'generate', '--config', 'drizzle.config.ts'], { encoding: 'utf8' });
    assert.match(out, /No schema changes/);
  });
});
