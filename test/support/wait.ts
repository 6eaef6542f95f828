/** Polls `fn` every `everyMs` until it returns a truthy value; rejects with `what` after `ms`. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, what = 'condition', ms = 20_000, everyMs = 100): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`${what} not reached in ${ms} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
