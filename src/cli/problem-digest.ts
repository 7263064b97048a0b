/**
 * Warnings for people: every problem a run meets is named, but a flood (a
 * bucket of forged entries, a folder of unreadable files) must not bury the
 * summary. The first ones are printed as they come; past that, problems are
 * counted by their shape (message with numbers and quoted names blanked) and
 * each shape is printed once at the end, with its count and one example.
 */
import { formatCount, printable } from './format.js';

/** Problems printed one by one before the rest are grouped. */
export const SHOWN_PROBLEMS = 20;

interface Group {
  count: number;
  example: { path: string; message: string };
}

export class ProblemDigest {
  private seen = 0;
  private readonly groups = new Map<string, Group>();

  constructor(private readonly shown = SHOWN_PROBLEMS) {}

  /** add takes one problem; returns its line to print now, or undefined when it was grouped. */
  add(p: { path: string; message: string }): string | undefined {
    this.seen++;
    if (this.seen <= this.shown) return line(p);
    const key = shape(p.message);
    const g = this.groups.get(key);
    if (g) g.count++;
    else this.groups.set(key, { count: 1, example: p });
    return undefined;
  }

  /** summary is one line per group of the problems not printed, most common first (empty when none were grouped). */
  summary(): string[] {
    return [...this.groups.values()]
      .sort((a, b) => b.count - a.count)
      .map((g) => (g.count === 1 ? line(g.example) : printable(`warning: ${formatCount(g.count)} more like: ${g.example.path}: ${g.example.message}`)));
  }
}

function line(p: { path: string; message: string }): string {
  return printable(`warning: ${p.path}: ${p.message}`);
}

/** shape is what makes two messages the same warning: numbers and quoted names blanked. */
export function shape(message: string): string {
  return message.replace(/"[^"]*"|'[^']*'/g, '"…"').replace(/\d+/g, '#');
}
