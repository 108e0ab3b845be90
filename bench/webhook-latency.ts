/**
 * Webhook acknowledgement latency (SPEC §5 target: median ≤ 250 ms) on the real service
 * parts: embedded PostgreSQL, the Temporal dev server, the worker and Express. Each
 * request is a signed text webhook from a new customer, so every one stores a message
 * and starts a conversation workflow. Prints figures; asserts nothing.
 *   npm run bench -- webhook-latency        (REQUESTS=400 CONCURRENCY=8)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadEnv } from '../src/config';
import { freePort } from '../src/ports';
import { startService } from '../src/service';
import { signWebhookBody } from '../src/whatsapp/signature';

const REQUESTS = Number(process.env.REQUESTS ?? 400);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);

function webhook(i: number): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'W',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550000000', phone_number_id: '106540352242922' },
              contacts: [{ profile: { name: `Bench ${i}` }, wa_id: `1555${String(i).padStart(7, '0')}` }],
              messages: [
                {
                  from: `1555${String(i).padStart(7, '0')}`,
                  id: `wamid.BENCH${i}-${Date.now()}`,
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  type: 'text',
                  text: { body: `hello ${i}` },
                },
              ],
            },
          },
        ],
      },
    ],
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-bench-'));
  const env = loadEnv({
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    TEMPORAL_DEV_SERVER_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    WHATSAPP_APP_SECRET: 'bench-secret',
    LOG_LEVEL: 'silent',
  });
  const service = await startService(env, 'all', pino({ level: 'silent' }));
  try {
    const url = `http://127.0.0.1:${env.PORT}/webhooks/whatsapp`;
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          const body = webhook(next++);
          const t0 = performance.now();
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, 'bench-secret') },
            body,
          });
          await response.arrayBuffer();
          if (response.status !== 200) throw new Error(`status ${response.status}`);
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    console.log(
      `webhook ack: requests=${REQUESTS} concurrency=${CONCURRENCY} throughput=${(REQUESTS / seconds).toFixed(0)}/s ` +
        `median=${percentile(latencies, 50).toFixed(1)} ms p90=${percentile(latencies, 90).toFixed(1)} ms p99=${percentile(latencies, 99).toFixed(1)} ms max=${latencies[latencies.length - 1].toFixed(1)} ms ` +
        `over 1 s: ${((latencies.filter((l) => l > 1000).length / REQUESTS) * 100).toFixed(2)}%`,
    );
  } finally {
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
