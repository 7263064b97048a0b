/**
 * Preloaded into a measured Node process (`node --import <this file> ...`):
 * at exit, writes the process's peak resident set size in KiB
 * (`process.resourceUsage().maxRSS`) to the file named by BENCH_RSS_FILE.
 * Does nothing when the variable is unset; never throws into the host.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) {
  // The measured program must not see the variable (or pass it to its own children).
  delete process.env.BENCH_RSS_FILE;
  process.on('exit', () => {
    try {
      writeFileSync(file, `${process.resourceUsage().maxRSS}\n`);
    } catch {
      // A lost measurement shows as "?" in the report; the run itself must not fail.
    }
  });
}
