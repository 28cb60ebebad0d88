// The demand and strategy logic of a Flow, in virtual time: a hot
// Observable stands in for the socket, handlers are cold Observables that
// take a fixed number of frames, and the Connection records when the Flow
// paused and resumed its producer.
import { filter, retry, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { BufferOverflowError } from '../src/errors.js';
import { Flow, type Strategy } from '../src/flow.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A Flow over `source`, logging pauses, resumes and drops with their frame. */
function flowOver(testScheduler: TestScheduler, source: Observable<string>, strategy: Strategy) {
  const log: string[] = [];
  const flow = new Flow<string>(
    (sink) => {
      const subscription = source.subscribe({ next: (v) => sink.push(v), error: (e) => sink.error(e), complete: () => sink.complete() });
      // Like a socket: pausing a paused producer changes nothing.
      let paused = false;
      return {
        pause: () => paused || (paused = true, log.push(`pause@${testScheduler.now()}`)),
        resume: () => paused && (paused = false, log.push(`resume@${testScheduler.now()}`)),
        disconnect: () => subscription.unsubscribe(),
      };
    },
    { strategy, onDrop: (v) => log.push(`drop ${v}@${testScheduler.now()}`) },
  );
  return { flow, log };
}

describe('Flow (marbles)', () => {
  it('without consume() it passes values through as they come', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ hot, expectObservable }) => {
      const { flow, log } = flowOver(testScheduler, hot('-abc-|'), 'pause');
      expectObservable(flow.values$).toBe('-abc-|');
      testScheduler.flush();
      expect(log).toEqual([]);
    });
  });

  it("'pause': pauses when the consumer is busy, resumes once the queue is delivered, loses nothing", () => {
    const testScheduler = scheduler();
    testScheduler.run(({ hot, cold, expectObservable }) => {
      const { flow, log } = flowOver(testScheduler, hot('-abc----|'), 'pause');
      const out = flow.values$.pipe(flow.consume((v: string) => cold('--(v|)', { v })));
      expectObservable(out).toBe('---a-b-c|');
      testScheduler.flush();
      expect(log).toEqual(['pause@2', 'resume@5']);
      expect(flow.counters()).toMatchObject({ received: 3, delivered: 3, libraryDrops: 0, queuePeak: 2, pauses: 1 });
    });
  });

  it('a value filter() drops takes no slot: the next one goes at once', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ hot, cold, expectObservable }) => {
      const { flow, log } = flowOver(testScheduler, hot('-abcd---|'), 'pause');
      const out = flow.values$.pipe(
        filter((v) => v !== 'b' && v !== 'c'),
        flow.consume((v: string) => cold('--(v|)', { v })),
      );
      expectObservable(out).toBe('---a--d-|');
      testScheduler.flush();
      // b and c were queued behind a, then filtered out in the same frame a finished.
      expect(log).toEqual(['pause@2', 'resume@3']);
    });
  });

  it('concurrency runs that many handlers at once', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ hot, cold, expectObservable }) => {
      const { flow, log } = flowOver(testScheduler, hot('-abcd----|'), 'pause');
      const out = flow.values$.pipe(flow.consume((v: string) => cold('---(v|)', { v }), { concurrency: 2 }));
      expectObservable(out).toBe('----ab-cd|');
      testScheduler.flush();
      expect(log).toEqual(['pause@3', 'resume@5']);
    });
  });

  const lossy: [string, Strategy, string, string[]][] = [
    ["{ buffer: 1, overflow: 'drop-newest' }", { buffer: 1, overflow: 'drop-newest' }, '----a--b|', ['drop c@3', 'drop d@4']],
    ["{ buffer: 1, overflow: 'drop-oldest' }", { buffer: 1, overflow: 'drop-oldest' }, '----a--d|', ['drop b@3', 'drop c@4']],
    ["'latest'", 'latest', '----a--d|', ['drop b@3', 'drop c@4']],
  ];
  for (const [name, strategy, expected, drops] of lossy) {
    it(`${name} drops what it says, never pauses`, () => {
      const testScheduler = scheduler();
      testScheduler.run(({ hot, cold, expectObservable }) => {
        const { flow, log } = flowOver(testScheduler, hot('-abcd---|'), strategy);
        expectObservable(flow.values$.pipe(flow.consume((v: string) => cold('---(v|)', { v })))).toBe(expected);
        testScheduler.flush();
        expect(log).toEqual(drops);
        expect(flow.counters()).toMatchObject({ received: 4, delivered: 2, libraryDrops: 2, queuePeak: 1, pauses: 0 });
      });
    });
  }

  it("{ buffer: 1, overflow: 'error' } errors at the first overflow", () => {
    const testScheduler = scheduler();
    testScheduler.run(({ hot, cold, expectObservable }) => {
      const { flow, log } = flowOver(testScheduler, hot('-abcd---|'), { buffer: 1, overflow: 'error' });
      expectObservable(flow.values$.pipe(flow.consume((v: string) => cold('---(v|)', { v })))).toBe(
        '---#',
        undefined,
        new BufferOverflowError(1),
      );
      testScheduler.flush();
      expect(log).toEqual(['drop c@3']);
      // b was still queued when the stream ended: counted as a library drop too.
      expect(flow.counters()).toMatchObject({ received: 3, delivered: 1, libraryDrops: 2, queueLength: 0 });
    });
  });

  it('an onDrop that throws at an overflow errors once: retry() resubscribes and the new subscription goes on', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ hot, cold, expectObservable }) => {
      const source = hot('-abcd---|');
      const flow = new Flow<string>(
        (sink) => {
          const subscription = source.subscribe({ next: (v) => sink.push(v), complete: () => sink.complete() });
          return { pause() {}, resume() {}, disconnect: () => subscription.unsubscribe() };
        },
        {
          strategy: { buffer: 1, overflow: 'error' },
          onDrop: () => {
            throw new Error('from onDrop');
          },
        },
      );
      // c overflows at 3: the onDrop error (not also the overflow) ends the first subscription.
      const out = flow.values$.pipe(flow.consume((v: string) => cold('---(v|)', { v })), retry(1));
      expectObservable(out).toBe('-------d|');
    });
  });

  it('a completing producer completes after the queue is delivered and the handlers finished', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ hot, cold, expectObservable }) => {
      const { flow } = flowOver(testScheduler, hot('-abc|'), 'pause');
      expectObservable(flow.values$.pipe(flow.consume((v: string) => cold('--(v|)', { v })))).toBe('---a-b-(c|)');
    });
  });

  it('a handler error errors the stream and disconnects the producer', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const source = hot('-abc----|');
      const { flow } = flowOver(testScheduler, source, 'pause');
      const out = flow.values$.pipe(flow.consume((v: string) => (v === 'b' ? cold('-#', undefined, 'bad b') : cold('--(v|)', { v }))));
      expectObservable(out).toBe('---a#', undefined, 'bad b');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });
});
