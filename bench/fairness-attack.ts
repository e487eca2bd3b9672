/**
 * The attacker of the fairness benchmark (bench/fairness.ts), in a process of its own so that it
 * is as fast a client as it can be: `node bench/fairness-attack.ts <url> <attack>` attacks until
 * it is killed.
 *   spin    GET /spin (Host `hostile`) again and again: a guest looping without host calls
 *   stream  GET /endless, read as fast as it comes: a body without end to a fast reader
 *   grow    GET /grow: a guest filling memory to its limit
 *   flood   FLOOD_CONNECTIONS idle connections, opened again as the server closes them
 */
import { request } from 'node:http';
import { connect } from 'node:net';

const FLOOD_CONNECTIONS = 6000;
const [url, attack] = process.argv.slice(2);

function hostile(path: string): Promise<void> {
  return new Promise((resolve) => {
    const req = request(new URL(path, url), { headers: { host: 'hostile' }, agent: false }, (res) => {
      res.resume();
      res.on('end', resolve).on('error', resolve).on('aborted', resolve);
    });
    req.on('error', () => resolve());
    req.end();
  });
}

function idleConnection(): void {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  // Closed by the server (the cap, the idle timeout): open another one.
  socket.on('error', () => {}).on('close', () => setTimeout(idleConnection, 10));
}

if (attack === 'flood') {
  for (let i = 0; i < FLOOD_CONNECTIONS; i++) {
    idleConnection();
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
  }
} else {
  const path = { spin: '/spin', stream: '/endless', grow: '/grow' }[attack!];
  if (!path) throw new Error(`unknown attack ${attack}`);
  for (;;) await hostile(path);
}
