import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthPenalty } from './auth-penalty.ts';

function recording(options: { maxAddresses?: number } = {}) {
  let clock = 0;
  const slept: number[] = [];
  const penalty = new AuthPenalty({
    ...options,
    now: () => clock,
    sleep: async (ms) => {
      slept.push(ms);
    },
  });
  return { penalty, slept, advance: (ms: number) => (clock += ms) };
}

const fail = async () => undefined;
const succeed = async () => 'alice';

describe('AuthPenalty', () => {
  it('delays each attempt after a failure from the same address: 2, 4, 8, 15, 15 s', async () => {
    const { penalty, slept } = recording();
    for (let i = 0; i < 6; i += 1) assert.equal(await penalty.attempt('192.0.2.1', fail), undefined);
    assert.deepEqual(slept, [2000, 4000, 8000, 15000, 15000]);
  });

  it('counts before the check: parallel guesses queue up behind growing delays', async () => {
    const { penalty, slept } = recording();
    let checking = 0;
    let most = 0;
    const guess = async () => {
      checking += 1;
      most = Math.max(most, checking);
      await new Promise((resolve) => setImmediate(resolve));
      checking -= 1;
      return undefined;
    };
    await Promise.all(Array.from({ length: 20 }, () => penalty.attempt('192.0.2.1', guess)));
    assert.equal(slept.length, 19, 'every guess but the first waited');
    assert.deepEqual(slept.slice(0, 4), [2000, 4000, 8000, 15000]);
    assert.equal(penalty.failures('192.0.2.1'), 20);
  });

  it("a success wakes the same user's attempts waiting from that address; a guess behind successes is checked, and the attempt after its failure waits", async () => {
    // Sleeps that never end on their own: only a wake, or the attempts ahead settling, lets an attempt through.
    const slept: number[] = [];
    const penalty = new AuthPenalty({ now: () => 0, sleep: (ms) => (slept.push(ms), new Promise<void>(() => undefined)) });
    const done: string[] = [];
    const login = (user: string, result: string | undefined) => penalty.attempt('192.0.2.1', async () => result, user).then((value) => done.push(`${user}:${value ?? 'no'}`));
    const first = login('Alice', 'alice');
    const parallel = Array.from({ length: 7 }, () => login('alice', 'alice'));
    const guess = login('mallory', undefined);
    void login('bob', 'bob');
    await first;
    await Promise.all(parallel);
    await Promise.race([guess, new Promise((_, reject) => setTimeout(() => reject(new Error('the guess behind the successes was never checked')), 1000).unref())]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(done, ['Alice:alice', ...Array.from({ length: 7 }, () => 'alice:alice'), 'mallory:no'], 'bob waits out the failure ahead of him');
    assert.deepEqual(slept.slice(-1), [2000], "bob's wait is the one failure's 2 s");
    assert.equal(penalty.failures('192.0.2.1'), 1);
  });

  it('several users behind one address log in one after another, none waiting out a penalty', async () => {
    const slept: number[] = [];
    const penalty = new AuthPenalty({ now: () => 0, sleep: (ms) => (slept.push(ms), new Promise<void>(() => undefined)) });
    let checking = 0;
    let most = 0;
    const login = (user: string) =>
      penalty.attempt('192.0.2.1', async () => {
        checking += 1;
        most = Math.max(most, checking);
        await new Promise((resolve) => setTimeout(resolve, 5));
        checking -= 1;
        return user;
      }, user);
    const users = ['alice', 'bob', 'carol', 'dave'];
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('a login still waits out a penalty after 1 s')), 1000).unref());
    assert.deepEqual(await Promise.race([Promise.all(users.map(login)), timeout]), users);
    assert.equal(most, 1, 'checked one at a time, as guesses would be');
    assert.equal(slept.length, 3, 'the three behind the first were held only until the ones ahead had settled');
  });

  it('parallel guesses are checked one at a time: behind a failure the next waits its delay', async () => {
    const slept: number[] = [];
    const penalty = new AuthPenalty({ now: () => 0, sleep: (ms) => (slept.push(ms), new Promise<void>(() => undefined)) });
    let checks = 0;
    const guesses = Array.from({ length: 20 }, () => penalty.attempt('192.0.2.1', async () => void (checks += 1)));
    await guesses[0];
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(checks, 1, 'only the first guess was checked: the rest wait out the delay its failure asks for');
    assert.equal(penalty.failures('192.0.2.1'), 1);
  });

  it('a check that throws counts as a failure', async () => {
    const { penalty, slept } = recording();
    await assert.rejects(penalty.attempt('192.0.2.1', async () => Promise.reject(new Error('users file unreadable'))));
    assert.equal(penalty.failures('192.0.2.1'), 1);
    assert.equal(await penalty.attempt('192.0.2.1', succeed), 'alice');
    assert.deepEqual(slept, [2000]);
  });

  it('penalises the address, not the user: another address logs in at once, and a success clears', async () => {
    const { penalty, slept } = recording();
    await penalty.attempt('192.0.2.1', fail);
    await penalty.attempt('192.0.2.1', fail);
    assert.equal(await penalty.attempt('198.51.100.7', succeed), 'alice');
    assert.deepEqual(slept, [2000]);
    assert.equal(await penalty.attempt('192.0.2.1', succeed), 'alice');
    assert.equal(penalty.failures('192.0.2.1'), 0);
  });

  it('forgets a penalty after its timeout, and only the least recently seen address when full', async () => {
    const { penalty, advance } = recording({ maxAddresses: 2 });
    await penalty.attempt('a', fail);
    await penalty.attempt('b', fail);
    await penalty.attempt('a', fail);
    await penalty.attempt('c', fail);
    assert.equal(penalty.failures('a'), 2);
    assert.equal(penalty.failures('b'), 0, 'b was the least recently seen');
    assert.equal(penalty.failures('c'), 1);
    advance(60 * 60_000 + 1);
    assert.equal(penalty.failures('a'), 0);
  });
});
