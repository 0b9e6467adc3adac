import type { Problem } from './types';

/** The server answered with a non-2xx status; `problem` is its parsed body. */
export class ApiError extends Error {
  constructor(
    readonly problem: Problem,
    /** Seconds from `Retry-After` (429/503), or null when absent/unparseable. */
    readonly retryAfter: number | null = null,
  ) {
    super(problem.code ?? problem.title ?? `HTTP ${problem.status}`);
    this.name = 'ApiError';
  }

  get status(): number {
    return this.problem.status;
  }

  get code(): string | undefined {
    return this.problem.code;
  }
}

/**
 * The server could not be reached, or something other than our server answered
 * (e.g. a captive portal's HTML login page with status 200). Callers treat both as
 * "offline": neither tells us anything about the user's session.
 */
export class NetworkError extends Error {
  constructor(
    message: string,
    readonly reason: 'unreachable' | 'unexpected_response',
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}
