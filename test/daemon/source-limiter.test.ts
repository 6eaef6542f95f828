import { strict as assert } from 'node:assert';
import { SourceLimiter } from '../../src/daemon/source-limiter.js';

describe('SourceLimiter (refused deliveries per source)', () => {
  it('allows a burst of refusals, then refuses the source until it earns budget back', () => {
    let now = 0;
    const l = new SourceLimiter({ burst: 3, perSecond: 2, now: () => now });
    for (let i = 0; i < 3; i++) {
      assert.ok(l.allows('10.0.0.1'));
      l.charge('10.0.0.1');
    }
    assert.equal(l.allows('10.0.0.1'), false);
    assert.ok(l.allows('10.0.0.2'), 'another source is not affected');
    now += 500; // one refusal earned back
    assert.ok(l.allows('10.0.0.1'));
    l.charge('10.0.0.1');
    assert.equal(l.allows('10.0.0.1'), false);
  });

  it('treats an IPv4-mapped address as the IPv4 one and a whole IPv6 /64 as one source', () => {
    const l = new SourceLimiter({ burst: 1, perSecond: 0.01, now: () => 0 });
    l.charge('::ffff:192.0.2.7');
    assert.equal(l.allows('192.0.2.7'), false);
    l.charge('2001:db8:1:2::1');
    assert.equal(l.allows('2001:db8:1:2:ffff::9'), false, 'same /64');
    assert.ok(l.allows('2001:db8:1:3::1'), 'another /64');
  });

  it('forgets the least recently charged sources beyond its bound', () => {
    const l = new SourceLimiter({ burst: 1, perSecond: 0.01, maxSources: 2, now: () => 0 });
    l.charge('10.0.0.1');
    l.charge('10.0.0.2');
    l.charge('10.0.0.3');
    assert.equal(l.size, 2);
    assert.ok(l.allows('10.0.0.1'), 'the oldest was forgotten');
    assert.equal(l.allows('10.0.0.3'), false);
  });
});
