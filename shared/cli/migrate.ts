/** npm run migrate [-- up|down|status]: dbmate against DATABASE_URL or the embedded Postgres. */
import { migrate, openDatabase } from '../dev/postgres';

const command = (process.argv[2] ?? 'up') as 'up' | 'down' | 'status';
if (!['up', 'down', 'status'].includes(command)) {
  console.error('usage: npm run migrate -- [up|down|status]');
  process.exit(2);
}
const db = await openDatabase();
try {
  process.stdout.write(await migrate(db.url, command));
} finally {
  await db.stop();
}
