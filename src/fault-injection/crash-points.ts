/**
 * FAULT INJECTION, for the chaos run and the crash-recovery tests only; production leaves it off.
 *
 * Named places where a test can make this process die with SIGKILL, to prove recovery from a
 * crash at exactly that instruction. Off unless FAULT_CRASH_AT names the point:
 * - `after-commit:<EVENT>`: the saga step is committed (its Events row), the order item (the
 *   projection) not updated, the commands not sent;
 * - `after-projection:<EVENT>`: committed and projected, the commands not sent;
 * - `after-effect:<COMMAND>`: a participant acted, its reply not sent.
 * With FAULT_CRASH_ONCE_FILE set, only the first process to get there dies (it creates the file),
 * so the restarted worker can finish the job.
 *
 * Cost when off: the environment is read once, when this module loads (a process's env is fixed
 * at its start, which is when the tests and the chaos runner set it); each call is then one
 * comparison with `undefined`.
 */
import { openSync, closeSync } from 'node:fs';

const armedAt: string | undefined = process.env.FAULT_CRASH_AT || undefined;
const onceFile: string | undefined = process.env.FAULT_CRASH_ONCE_FILE || undefined;

/** Dies with SIGKILL here when FAULT_CRASH_AT names `name` (and, with a once-file, nobody died yet). */
export function crashPoint(name: string): void {
  if (armedAt === undefined || armedAt !== name) return;
  if (onceFile) {
    try {
      closeSync(openSync(onceFile, 'wx')); // fails if it exists: someone already crashed here
    } catch {
      return;
    }
  }
  process.kill(process.pid, 'SIGKILL');
}
