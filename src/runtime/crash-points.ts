/**
 * Named places where a test can make this process die with SIGKILL, to prove recovery from a
 * crash at exactly that instruction. Off unless FAULT_CRASH_AT names the point, e.g.
 * `after-commit:SEATS_RESERVED` (saga step written, commands not sent) or `after-effect:ChargePayment`
 * (participant acted, reply not sent). With FAULT_CRASH_ONCE_FILE set, only the first process to get
 * there dies (it creates the file), so the restarted worker can finish the job.
 */
import { openSync, closeSync } from 'node:fs';

export function crashPoint(name: string): void {
  const target = process.env.FAULT_CRASH_AT;
  if (!target || target !== name) return;
  const onceFile = process.env.FAULT_CRASH_ONCE_FILE;
  if (onceFile) {
    try {
      closeSync(openSync(onceFile, 'wx')); // fails if it exists: someone already crashed here
    } catch {
      return;
    }
  }
  process.kill(process.pid, 'SIGKILL');
}
