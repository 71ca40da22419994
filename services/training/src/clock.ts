/**
 * The service's notion of "now". Production reads the system clock; integration tests move it to run a
 * class's sessions and its end without waiting for real days to pass.
 */
export class Clock {
  private offsetMs = 0;
  private fixed: Date | null = null;

  now(): Date {
    return this.fixed ? new Date(this.fixed) : new Date(Date.now() + this.offsetMs);
  }

  /** Test hook: freeze the clock at `at` (null thaws it). */
  set(at: Date | null): void {
    this.fixed = at;
  }

  /** Test hook: run the clock `ms` ahead of (or behind) the system clock. */
  shift(ms: number): void {
    this.offsetMs = ms;
    this.fixed = null;
  }
}

const CHINA_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The calendar date (YYYY-MM-DD) of an instant in China Standard Time, where classes are held. */
export function chinaDate(at: Date): string {
  return CHINA_DATE.format(at);
}
