// One transaction on a pooled connection: committed when `work` resolves, rolled back when it
// throws. A connection that cannot even roll back (the server went away) is dropped from the
// pool instead of being handed to the next caller.
import type pg from 'pg';

export async function inTransaction<T>(
  pool: Pick<pg.Pool, 'connect'>,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollback: unknown) => (broken = rollback as Error));
    throw error;
  } finally {
    client.release(broken);
  }
}
