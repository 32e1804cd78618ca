/**
 * Shared by the bench servers that keep sessions in PostgreSQL (cello.js, express-session.js).
 *
 * The harness ends servers with SIGKILL, so a server cannot drop its own table: each one drops the
 * tables `<prefix><pid>` of servers that are gone.
 */
export async function dropStaleTables(pool, prefix) {
  const { rows } = await pool.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1", [`${prefix}%`]);
  for (const { tablename } of rows) {
    const pid = Number(tablename.slice(prefix.length));
    if (!Number.isSafeInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    await pool.query(`DROP TABLE IF EXISTS ${tablename}`);
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}
