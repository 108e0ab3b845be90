/**
 * Security hygiene (issue 10, item 5): secrets on disk readable only by their owner, a
 * request id on every answer and every log line of its request, and no stack trace or SQL
 * in an HTTP error body, even when the code under it fails in a way nobody planned.
 *
 * Real parts: the filesystem, PostgreSQL (a database of its own, which the test breaks),
 * Express on loopback; the Temporal client points at a port where nothing listens.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadEnv } from '../../src/config';
import { createApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { freePort } from '../../src/ports';
import { resolveSecrets } from '../../src/secrets';
import { createStore } from '../../src/store';
import { signWebhookBody } from '../../src/whatsapp/signature';
import { createTestDatabase } from '../support/environment';

const API_KEY = 'security-admin-key';
const APP_SECRET = 'security-app-secret';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const modeOf = (p: string) => statSync(p).mode & 0o777;

describe('faults: security hygiene', function () {
  describe('generated secrets on disk', () => {
    const dirs: string[] = [];
    const scratch = () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-secrets-'));
      dirs.push(dir);
      return dir;
    };
    after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

    it('when the secrets are generated under a permissive umask, then the data directory is 0700 and the secrets file 0600', () => {
      const dataDir = path.join(scratch(), 'nested', 'data');
      const previous = process.umask(0);
      try {
        resolveSecrets(loadEnv({ DATA_DIR: dataDir }));
      } finally {
        process.umask(previous);
      }
      assert.equal(modeOf(dataDir).toString(8), '700');
      assert.equal(modeOf(path.join(dataDir, 'secrets.json')).toString(8), '600');
      const stored = JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8'));
      assert.ok(stored.apiKeys?.[0]?.startsWith('iak_') && stored.appSecret && stored.verifyToken && stored.adminPassword);
    });

    it('when a secrets file readable by others is found at start, then it is tightened to 0600 and its values are kept', () => {
      const dataDir = scratch();
      const file = path.join(dataDir, 'secrets.json');
      const values = { apiKeys: ['iak_kept'], appSecret: 'kept-secret', verifyToken: 'kept-token', adminPassword: 'kept-password-123' };
      writeFileSync(file, JSON.stringify(values), { mode: 0o644 });
      assert.equal(modeOf(file).toString(8), '644');
      const secrets = resolveSecrets(loadEnv({ DATA_DIR: dataDir }));
      assert.equal(modeOf(file).toString(8), '600');
      assert.deepEqual(
        [secrets.apiKeys, secrets.appSecret, secrets.verifyToken, secrets.adminPassword],
        [['iak_kept'], 'kept-secret', 'kept-token', 'kept-password-123'],
      );
    });

    it('when a secret is missing from the file, then the rewritten file is still 0600 and keeps the others', () => {
      const dataDir = scratch();
      const file = path.join(dataDir, 'secrets.json');
      writeFileSync(file, JSON.stringify({ appSecret: 'kept-secret' }), { mode: 0o664 });
      const secrets = resolveSecrets(loadEnv({ DATA_DIR: dataDir }));
      assert.equal(modeOf(file).toString(8), '600');
      assert.equal(secrets.appSecret, 'kept-secret');
      assert.ok(JSON.parse(readFileSync(file, 'utf8')).verifyToken);
    });
  });

  describe('HTTP answers and logs', () => {
    let server: Server;
    let baseUrl: string;
    let db: Awaited<ReturnType<typeof createTestDatabase>>['db'];
    let temporal: Client;
    const lines: Record<string, unknown>[] = [];

    before(async () => {
      ({ db } = await createTestDatabase());
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
          done();
        },
      });
      const log = createLogger('debug', 'json', sink);
      // A real client to a port where nothing listens: Temporal is simply not there. Without
      // the SDK's retry interceptor, so no retry timer outlives the test and fires on the closed channel.
      temporal = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: [] }) });
      const store = createStore(db);
      const app = createApp({
        store,
        temporal,
        intake: { accept: async () => undefined },
        log,
        taskQueue: 'security',
        graph: null,
        sandbox: true,
        apiKeys: [API_KEY],
        appSecret: APP_SECRET,
        verifyToken: 'security-verify-token',
      });
      server = app.listen(0, '127.0.0.1');
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await new Promise<void>((resolve) => {
        server?.close(() => resolve());
        server?.closeAllConnections();
      });
      await temporal?.connection.close();
    });

    const get = (p: string, headers: Record<string, string> = {}) =>
      fetch(`${baseUrl}${p}`, { headers: { authorization: `Bearer ${API_KEY}`, ...headers } });
    const linesWith = (requestId: string) => lines.filter((l) => l.requestId === requestId);

    it('when a request has no X-Request-Id, then every answer carries a generated one (200, 401, 404, 503)', async () => {
      const answers = await Promise.all([
        fetch(`${baseUrl}/api/openapi.json`),
        fetch(`${baseUrl}/api/conversations`),
        get('/api/no-such-route'),
        fetch(`${baseUrl}/healthz`),
      ]);
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 401, 404, 503],
      );
      const ids = answers.map((a) => a.headers.get('x-request-id') ?? '');
      for (const id of ids) assert.match(id, UUID);
      assert.equal(new Set(ids).size, ids.length, 'each request gets its own id');
    });

    it('when a sane X-Request-Id comes in, then it is echoed; when an unsafe one does, then it is replaced', async () => {
      const kept = await get('/api/openapi.json', { 'x-request-id': 'lb-7f3a.2026:edge_01' });
      assert.equal(kept.headers.get('x-request-id'), 'lb-7f3a.2026:edge_01');
      for (const unsafe of ['x'.repeat(129), 'two words', 'id"<script>', '']) {
        const answer = await get('/api/openapi.json', { 'x-request-id': unsafe });
        const id = answer.headers.get('x-request-id') ?? '';
        assert.match(id, UUID, `"${unsafe.slice(0, 20)}" must be replaced`);
      }
    });

    it('when a request logs (a webhook with a wrong signature), then its log line carries the request id of the answer', async () => {
      const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [] });
      const answer = await fetch(`${baseUrl}/webhooks/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, 'not-the-secret'), 'x-request-id': 'req-sig-1' },
        body,
      });
      assert.equal(answer.status, 403);
      assert.equal(answer.headers.get('x-request-id'), 'req-sig-1');
      const logged = linesWith('req-sig-1');
      assert.ok(
        logged.some((l) => l.msg === 'webhook signature rejected'),
        `log lines of the request: ${JSON.stringify(logged)}`,
      );
    });

    it('when a request fails inside PostgreSQL (a table is gone), then the body is generic, with no SQL or stack, and the log line has the details and the request id', async () => {
      await db.raw('ALTER TABLE conversations RENAME TO conversations_gone');
      try {
        const answer = await get('/api/conversations', { 'x-request-id': 'req-broken-1' });
        const text = await answer.text();
        assert.equal(answer.status, 500);
        assert.equal(answer.headers.get('x-request-id'), 'req-broken-1');
        assert.deepEqual(JSON.parse(text), { error: { code: 'internal', message: 'internal error', details: [] } });
        for (const leak of ['select', 'conversations', 'relation', 'at ', '.ts', 'knex', 'pg'])
          assert.ok(!text.toLowerCase().includes(leak), `body leaks "${leak}": ${text}`);
        const logged = linesWith('req-broken-1').find((l) => l.msg === 'unhandled error');
        assert.ok(logged, `no "unhandled error" line with the request id among ${lines.length} lines`);
        assert.match(JSON.stringify(logged.err), /conversations/, 'the log keeps what went wrong');
      } finally {
        await db.raw('ALTER TABLE conversations_gone RENAME TO conversations');
      }
    });

    it('when Temporal is unreachable, then /healthz answers 503 naming temporal as down and postgres as up', async () => {
      const started = Date.now();
      const answer = await fetch(`${baseUrl}/healthz`);
      const elapsed = Date.now() - started;
      assert.equal(answer.status, 503);
      assert.deepEqual(await answer.json(), { status: 'degraded', postgres: 'up', temporal: 'down', whatsappToken: 'sandbox' });
      assert.ok(elapsed < 3_000, `answered after ${elapsed} ms`);
    });
  });
});
