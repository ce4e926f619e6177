import { connect } from 'node:net';

/**
 * A few raw RESP commands against the machine's Redis, so the bench can give its gateways a
 * logical database of their own (BullMQ queues, rate-limit keys) without sharing keys with other
 * engineers' runs, and remove its BullMQ keys afterwards. Never FLUSHDB/FLUSHALL.
 */
async function command(host: string, port: number, db: number, args: Array<string | number>): Promise<string> {
  const encode = (parts: Array<string | number>) => `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(String(p))}\r\n${p}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis ${host}:${port} did not answer`));
    }, 5_000);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      // Two replies: SELECT's +OK, then ours (an integer or a status line).
      const lines = data.split('\r\n');
      if (lines.length >= 3) {
        clearTimeout(timer);
        socket.end();
        if (lines[0] !== '+OK') return reject(new Error(`redis SELECT ${db}: ${lines[0]}`));
        if (lines[1]!.startsWith('-')) return reject(new Error(`redis: ${lines[1]!.slice(1)}`));
        resolve(lines[1]!.replace(/^[:+]/, ''));
      }
    });
    socket.write(encode(['SELECT', db]) + encode(args));
  });
}

/** A random empty logical database among 1-15 (0 is everybody's default), so two runs rarely meet. */
export async function pickEmptyRedisDb(host: string, port: number): Promise<number> {
  const empty: number[] = [];
  for (let db = 1; db <= 15; db++) if (Number(await command(host, port, db, ['DBSIZE'])) === 0) empty.push(db);
  if (!empty.length) throw new Error('no empty Redis logical database (1-15) for the bench');
  return empty[Math.floor(Math.random() * empty.length)]!;
}

/** Deletes the keys under `pattern` in `db` (the bench's own database); returns how many. */
export async function deleteKeys(host: string, port: number, db: number, pattern: string): Promise<number> {
  const script = "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) n = n + 1 end return n";
  return Number(await command(host, port, db, ['EVAL', script, 0, pattern]));
}
