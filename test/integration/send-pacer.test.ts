import assert from 'node:assert/strict';
import { createSendPacer } from '../../src/whatsapp/send-pacer';
import { createTestDatabase } from '../support/environment';
import type { Database } from '../../src/db/knex';
import { createStore } from '../../src/store';

describe('send pacing (real PostgreSQL)', () => {
  let db: Database;
  before(async () => {
    ({ db } = await createTestDatabase());
  });
  /** Each pacer its own store, like separate worker replicas sharing one database. */
  const slotStore = () => createStore(db).sendSlots;

  it('spreads concurrent sends of one number at its throughput, shared by every sender', async () => {
    // Two pacers stand for two worker replicas sharing one budget.
    const replicaA = createSendPacer(slotStore(), { messagesPerSecondPerNumber: 100, contactIntervalMs: 0 });
    const replicaB = createSendPacer(slotStore(), { messagesPerSecondPerNumber: 100, contactIntervalMs: 0 });
    const slots: number[] = [];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 150 }, async (_, i) => {
        const { slotAt } = await (i % 2 ? replicaA : replicaB).waitForSlot('111', `contact-${i}`);
        slots.push(slotAt);
      }),
    );
    const elapsed = Date.now() - started;
    // 150 messages at 100/s need at least 1.49 s from the first slot to the last.
    assert.ok(elapsed >= 1450, `150 sends took only ${elapsed} ms`);
    // Every sender was given its own slot, 10 ms apart (the shared schedule); when the
    // sends then happen is up to the event loop (bench/send-pacing.ts measures that).
    slots.sort((a, b) => a - b);
    for (let i = 1; i < slots.length; i++) {
      assert.ok(slots[i] - slots[i - 1] >= 9.5, `slots ${i - 1} and ${i} are ${slots[i] - slots[i - 1]} ms apart`);
    }
  });

  it('keeps numbers independent', async () => {
    const pacer = createSendPacer(slotStore(), { messagesPerSecondPerNumber: 10, contactIntervalMs: 0 });
    const started = Date.now();
    await Promise.all(['201', '202', '203', '204', '205'].map((n) => pacer.waitForSlot(n, 'c')));
    assert.ok(Date.now() - started < 90, 'one message on each of five numbers goes out at once');
  });

  it('spaces messages to the same contact, in the order they asked', async () => {
    const pacer = createSendPacer(slotStore(), { messagesPerSecondPerNumber: 80, contactIntervalMs: 300 });
    const order: number[] = [];
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      await pacer.waitForSlot('301', 'same-contact');
      order.push(i);
      times.push(Date.now());
    }
    assert.deepEqual(order, [0, 1, 2]);
    assert.ok(times[1] - times[0] >= 280 && times[2] - times[1] >= 280, `gaps ${times[1] - times[0]} and ${times[2] - times[1]} ms`);
    const otherContact = Date.now();
    await pacer.waitForSlot('301', 'another-contact');
    assert.ok(Date.now() - otherContact < 100, 'another contact does not wait');
  });
});
