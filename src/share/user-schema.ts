/**
 * The shape of a users-registry object (user-registry.ts), checked with zod.
 * Loaded only when an object is read or written: most commands never do, and
 * zod is a noticeable share of a command's start-up.
 */
import { z } from 'zod';
import { userNameProblem } from '../config/user-name.js';

/** What the shapes depend on, given by user-registry.ts (which loads this module lazily, not the other way). */
export interface UserFacts {
  maxMachines: number;
  rootProblem(root: string): string | undefined;
}

/** makeSchemas builds the validators of a user object and of one machine's entry. */
export function makeSchemas({ maxMachines: MAX_MACHINES, rootProblem }: UserFacts) {
  const isoTime = z.iso.datetime({ offset: true });

  const machineSchema = z.object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1–64 letters, digits, dots, dashes or underscores'),
    os: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'must be a short lowercase OS name'),
    root: z.string().superRefine((s, ctx) => {
      const why = rootProblem(s);
      if (why) ctx.addIssue({ code: 'custom', message: why });
    }),
    firstSeen: isoTime,
    lastSeen: isoTime,
    version: z.string().regex(/^[A-Za-z0-9.+-]{1,64}$/, 'must be a version like 1.2.3').optional(),
  });

  const userSchema = z.object({
    v: z.literal(1),
    name: z.string().superRefine((s, ctx) => {
      const why = userNameProblem(s);
      if (why) ctx.addIssue({ code: 'custom', message: why });
    }),
    machines: z.array(machineSchema).max(MAX_MACHINES),
  });
  return { machineSchema, userSchema };
}
