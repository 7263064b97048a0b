/** This machine's identity in the state database: who writes a catalog log, and part of its key. */
import { randomBytes } from 'node:crypto';
import type { Db } from './state-db.js';

/** machineId returns this state database's stable machine identity, made on first use. */
export function machineId(db: Db, hostname: string): string {
  const row = db.prepare('SELECT id FROM machine').get() as { id: string } | undefined;
  if (row) return row.id;
  const host = hostname.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 24) || 'host';
  const id = `${host}-${randomBytes(3).toString('hex')}`;
  db.prepare('INSERT INTO machine (id) VALUES (?)').run(id);
  return id;
}
