import { strict as assert } from 'node:assert';
import { backoffDelay, retry } from '../../src/core/retry.js';
import { PermanentError, RetriableError } from '../../src/core/errors.js';

describe('retry', () => {
  const fast = { initialDelayMs: 1, maxDelayMs: 5, factor: 2 };

  it('retries a retriable error and returns the first success', async () => {
    let calls = 0;
    const out = await retry(async () => {
      calls++;
      if (calls < 3) throw new RetriableError('FLAKY', 'try again');
      return 'ok';
    }, { ...fast, retries: 5 });
    assert.equal(out, 'ok');
    assert.equal(calls, 3);
  });

  it('does not retry a permanent error', async () => {
    let calls = 0;
    await assert.rejects(
      retry(async () => {
        calls++;
        throw new PermanentError('BAD', 'no');
      }, { ...fast, retries: 5 }),
      /no/,
    );
    assert.equal(calls, 1);
  });

  it('gives up after the configured number of attempts', async () => {
    let calls = 0;
    await assert.rejects(retry(async () => {
      calls++;
      throw new RetriableError('DOWN', 'down');
    }, { ...fast, retries: 4 }));
    assert.equal(calls, 4);
  });

  it('grows the delay exponentially with jitter and caps it', () => {
    const opts = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2 };
    assert.equal(backoffDelay(1, { ...opts, random: () => 0 }), 50);
    assert.equal(backoffDelay(1, { ...opts, random: () => 0.999 }), 100);
    assert.equal(backoffDelay(3, { ...opts, random: () => 0.999 }), 400);
    assert.equal(backoffDelay(10, { ...opts, random: () => 0.999 }), 1000);
  });

  it('waits at least as long as the remote side asked (Retry-After)', () => {
    const err = new RetriableError('THROTTLED', 'slow down', { retryAfterMs: 5000 });
    assert.equal(backoffDelay(1, { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, random: () => 0 }, err), 5000);
  });
});
