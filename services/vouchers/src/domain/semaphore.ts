/**
 * A counting semaphore. Claims of one template all update the same row, so running more than a few of
 * their transactions at once only parks pooled connections on that row's lock; queueing them here keeps
 * the rest of the pool free for everything else.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }

  get idle(): boolean {
    return this.active === 0 && this.waiting.length === 0;
  }
}
