/**
 * Preloaded into a measured Node process (`node --import <this file> ...`):
 * at exit, writes the process's peak resident set size in KiB (see
 * peakRssKiB) and the CPU time it used, user and
 * system, in seconds, as one line `<KiB> <user s> <system s>` to the file
 * named by BENCH_RSS_FILE (the same shape as `/usr/bin/time -f '%M %U %S'`).
 * Does nothing when the variable is unset; never throws into the host.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * peakRssKiB is the peak resident set of this process. On Linux it is read
 * from /proc (VmHWM of the current address space): getrusage's maxRSS also
 * counts, after exec, the high-water mark of the address space forked from
 * the parent — the bench's own process — and so reports at least its size.
 */
function peakRssKiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1]) return Number(m[1]);
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS;
}

const file = process.env.BENCH_RSS_FILE;
if (file) {
  // The measured program must not see the variable (or pass it to its own children).
  delete process.env.BENCH_RSS_FILE;
  process.on('exit', () => {
    try {
      const u = process.resourceUsage();
      writeFileSync(file, `${peakRssKiB()} ${u.userCPUTime / 1e6} ${u.systemCPUTime / 1e6}\n`);
    } catch {
      // A lost measurement shows as "?" in the report; the run itself must not fail.
    }
  });
}
