/** The machine facts a heartbeat carries, in the reference's spelling (Rust's `std::env::consts`). */
import os from 'node:os';

const ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'x86', arm: 'arm', riscv64: 'riscv64', s390x: 's390x', ppc64: 'powerpc64' };
const OS: Record<string, string> = { linux: 'linux', darwin: 'macos', win32: 'windows', freebsd: 'freebsd', openbsd: 'openbsd' };

export const osArch = (): string => ARCH[os.arch()] ?? os.arch();
export const osName = (): string => OS[process.platform] ?? process.platform;

/** CPU busy share (0-100) of all cores since the previous reading (the first: since boot). */
export class CpuUsage {
  #last = totals();

  read(): number {
    const now = totals();
    const total = now.total - this.#last.total;
    const idle = now.idle - this.#last.idle;
    this.#last = now;
    if (total <= 0) return 0;
    return Math.round(Math.min(100, Math.max(0, (1 - idle / total) * 100)) * 100) / 100;
  }
}

function totals(): { total: number; idle: number } {
  let total = 0;
  let idle = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
    idle += t.idle;
  }
  return { total, idle };
}

const ADJECTIVES = ['amber', 'brisk', 'calm', 'daring', 'eager', 'gentle', 'hidden', 'lucky', 'mellow', 'nimble', 'quiet', 'rapid', 'silent', 'sunny', 'swift', 'wild'];
const NOUNS = ['badger', 'brook', 'cedar', 'comet', 'falcon', 'harbor', 'lagoon', 'meadow', 'otter', 'pebble', 'pine', 'river', 'summit', 'thistle', 'willow', 'wren'];

/** A name people can tell apart in a list of hosts: `swift-otter-4821`. */
export function friendlyName(): string {
  const pick = (words: string[]) => words[Math.floor(Math.random() * words.length)];
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
}
