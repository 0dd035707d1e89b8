/**
 * What the benchmarks read of a process from /proc (Linux; null where /proc is missing), and how
 * they stop the processes they start.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicksPerS: number | undefined;

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 when it cannot say). */
function clockTicks(): number {
  if (clockTicksPerS === undefined) {
    try {
      const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      clockTicksPerS = Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
    } catch {
      clockTicksPerS = 100;
    }
  }
  return clockTicksPerS;
}

/** CPU seconds (user + system, all threads) process `pid` has used so far. */
export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command name, in parentheses) may contain spaces: count from after its ')'.
    // What follows starts at field 3, so utime (field 14) and stime (field 15) are at 11 and 12.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / clockTicks() : null;
  } catch {
    return null;
  }
}

/** Resident set size of process `pid`, KiB (VmRSS of /proc/<pid>/status). */
export function rssKiB(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Stops a benchmark's child process: SIGTERM, then SIGKILL after 5 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
