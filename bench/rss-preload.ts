/**
 * Preloaded into a measured Node process (`node --import <this file> ...`):
 * at exit, writes the process's peak resident set size in KiB
 * (`process.resourceUsage().maxRSS`) and the CPU time it used, user and
 * system, in seconds, as one line `<KiB> <user s> <system s>` to the file
 * named by BENCH_RSS_FILE (the same shape as `/usr/bin/time -f '%M %U %S'`).
 * Does nothing when the variable is unset; never throws into the host.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) {
  // The measured program must not see the variable (or pass it to its own children).
  delete process.env.BENCH_RSS_FILE;
  process.on('exit', () => {
    try {
      const u = process.resourceUsage();
      writeFileSync(file, `${u.maxRSS} ${u.userCPUTime / 1e6} ${u.systemCPUTime / 1e6}\n`);
    } catch {
      // A lost measurement shows as "?" in the report; the run itself must not fail.
    }
  });
}
