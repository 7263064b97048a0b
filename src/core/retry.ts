/**
 * Retrying with exponential backoff and full jitter, for errors that
 * {@link classify} calls retryable (5xx, SlowDown, resets, timeouts,
 * checksum mismatches). Anything else is thrown at once.
 */
import { classify } from '../errors.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  /** Backoff before the second attempt; doubles each time. */
  baseMs: number;
  /** Upper bound of one backoff. */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 200, maxMs: 10_000 };

/**
 * withRetry runs `fn` until it succeeds, throws a non-retryable error, or the
 * attempts are used up (then the last error is thrown). `onRetry` hears of each
 * retry, for logs. An aborted `signal` stops waiting and rethrows.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: { policy?: RetryPolicy; signal?: AbortSignal; onRetry?: (err: unknown, attempt: number, delayMs: number) => void } = {},
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= policy.attempts || classify(err) !== 'retry' || options.signal?.aborted) throw err;
      const delay = Math.random() * Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      options.onRetry?.(err, attempt, delay);
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : undefined);
    }
  }
}
