/**
 * Send pacing figures: how fast one number's messages go out under a burst (target: the
 * configured throughput, 80/s by default) and the spacing to one contact (about 6 s).
 * Real PostgreSQL (embedded). Prints figures; asserts nothing.
 *   npm run bench -- send-pacing            (MESSAGES=400 SENDERS=32)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createDatabase, migrateToLatest } from '../src/db/knex';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { freePort } from '../src/ports';
import { createSendPacer } from '../src/whatsapp/send-pacer';
import { createSendSlotStore } from '../src/store';

const MESSAGES = Number(process.env.MESSAGES ?? 400);
const SENDERS = Number(process.env.SENDERS ?? 32);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-bench-pg-'));
  const pg = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), database: 'bench', log: pino({ level: 'silent' }) });
  const db = createDatabase(pg.url, SENDERS);
  try {
    await migrateToLatest(db);
    const pacer = createSendPacer(createSendSlotStore(db), { messagesPerSecondPerNumber: 80, contactIntervalMs: 6000 });
    const sentAt: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (next < MESSAGES) {
          const i = next++;
          await pacer.waitForSlot('bench-number', `contact-${i}`);
          sentAt.push(performance.now());
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    sentAt.sort((a, b) => a - b);
    let worstSecond = 0;
    for (let i = 0, j = 0; i < sentAt.length; i++) {
      while (sentAt[i] - sentAt[j] >= 1000) j++;
      worstSecond = Math.max(worstSecond, i - j + 1);
    }
    console.log(
      `number pacing: messages=${MESSAGES} senders=${SENDERS} rate=${(MESSAGES / seconds).toFixed(1)}/s (limit 80/s) busiest 1-second window=${worstSecond} messages`,
    );

    const contactTimes: number[] = [];
    const contactPacer = createSendPacer(createSendSlotStore(db), { messagesPerSecondPerNumber: 80, contactIntervalMs: 6000 });
    for (let i = 0; i < 3; i++) {
      await contactPacer.waitForSlot('bench-number-2', 'one-contact');
      contactTimes.push(performance.now());
    }
    console.log(
      `contact pacing: gaps between 3 messages to one contact = ${contactTimes
        .slice(1)
        .map((t, i) => ((t - contactTimes[i]) / 1000).toFixed(2))
        .join(' s, ')} s (target ≈ 6 s)`,
    );
  } finally {
    await db.destroy();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
