/**
 * The dev launcher's reaper (scripts/dev.ts): a tiny detached process, in its own process group,
 * that outlives the launcher. The launcher writes to its stdin, one line each:
 *   `group <pid>`  a process group it started (an engine: DynamoDB Local, the emulator, redis-server)
 *   `proc <pid>`   a process it started (the service)
 *   `forget <pid>` that one was stopped by the launcher itself
 * When stdin ends (the launcher exited, however: normal exit, crash, SIGKILL, its terminal or
 * parent gone), whatever is still listed gets SIGTERM, then SIGKILL after GRACE_MS, and the
 * reaper exits. Plain JavaScript, no dependency, so it starts in milliseconds.
 */
const GRACE_MS = 5000;
const listed = new Map(); // pid -> 'group' | 'proc'
let buffer = '';

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const signal = (pid, kind, sig) => {
  try {
    process.kill(kind === 'group' ? -pid : pid, sig);
  } catch {
    /* gone already */
  }
};

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  const lines = buffer.split('\n');
  buffer = lines.pop() ?? '';
  for (const line of lines) {
    const [verb, raw] = line.trim().split(/\s+/);
    const pid = Number(raw);
    if (!Number.isInteger(pid) || pid <= 1) continue;
    if (verb === 'group' || verb === 'proc') listed.set(pid, verb);
    else if (verb === 'forget') listed.delete(pid);
  }
});
process.stdin.on('error', () => undefined);
process.stdin.on('close', reap);
process.stdin.on('end', reap);
// The launcher's terminal closing must not take the reaper with it before it has reaped.
for (const sig of ['SIGHUP', 'SIGINT', 'SIGTERM']) process.on(sig, () => undefined);

let reaping = false;
async function reap() {
  if (reaping) return;
  reaping = true;
  for (const [pid, kind] of listed) signal(pid, kind, 'SIGTERM');
  const deadline = Date.now() + GRACE_MS;
  while (Date.now() < deadline && [...listed.keys()].some(alive)) await new Promise((r) => setTimeout(r, 100));
  for (const [pid, kind] of listed) if (alive(pid)) signal(pid, kind, 'SIGKILL');
  process.exit(0);
}
