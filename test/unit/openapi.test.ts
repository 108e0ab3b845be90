import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { type AppDeps, createApp } from '../../src/http/app';
import { toConversation, toMessage } from '../../src/http/conversations-router';
import type { Conversation, Message } from '../../src/store';
import { type HttpMethod, type OperationObject, openApiDocument } from '../../src/http/openapi';
import { DEFAULT_AUTOMATION_SETTINGS } from '../../workflows/rules/automation-settings';

type Json = Record<string, unknown>;

const HTTP_METHODS: HttpMethod[] = ['get', 'put', 'post', 'delete', 'patch'];
const PUBLIC_ROUTES = ['GET /healthz', 'GET /webhooks/whatsapp', 'POST /webhooks/whatsapp', 'GET /api/openapi.json', 'POST /api/session'];

/** A dependency the test must never use: the app is only built and its routes read. */
function neverCalled(name: string): never {
  const fail = () => {
    throw new Error(`openapi test: ${name} was used`);
  };
  return new Proxy<object>(function stub() {}, { get: fail, apply: fail, construct: fail, set: fail }) as never;
}

function buildApp() {
  const deps: AppDeps = {
    store: neverCalled('store'),
    temporal: neverCalled('temporal'),
    intake: neverCalled('intake'),
    log: neverCalled('log'),
    graph: null,
    sandbox: true,
    taskQueue: 'unused',
    apiKeys: [],
    appSecret: 'unused',
    verifyToken: 'unused',
  };
  return createApp(deps);
}

// ---------------------------------------------------------------------------
// Routes registered in Express 5 (router 2.x): routes and nested routers
// ---------------------------------------------------------------------------

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
  slash?: boolean;
}

interface RegisteredRoute {
  method: string;
  /** OpenAPI form: `/api/conversations/{id}`. */
  path: string;
  params: string[];
}

function expressPathToOpenApi(path: string): { path: string; params: string[] } {
  // Splats (`*name`) and optional groups (`{…}`) have no OpenAPI equivalent.
  assert.doesNotMatch(path, /[*{}()]/, `route ${path} uses a pattern OpenAPI cannot describe`);
  const params: string[] = [];
  const converted = path.replace(/:([A-Za-z_$][\w$]*)/g, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: converted, params };
}

function registeredRoutes(stack: Layer[], prefix = ''): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  for (const layer of stack) {
    if (layer.route) {
      assert.equal(typeof layer.route.path, 'string', `a route under ${prefix || '/'} has a non-string path`);
      const methods = Object.keys(layer.route.methods).filter((m) => layer.route!.methods[m]);
      assert.ok(!methods.includes('_all'), `${prefix}${String(layer.route.path)} uses router.all(), which cannot be documented`);
      const { path, params } = expressPathToOpenApi(`${prefix}${String(layer.route.path)}`);
      for (const method of methods) routes.push({ method, path, params });
    } else if (Array.isArray(layer.handle?.stack)) {
      // A mounted router: `use(router)` has path '/' (slash), `use('/api', router)` its mount path.
      const mount = layer.slash ? '' : layer.rawPath;
      assert.equal(typeof mount, 'string', `a router under ${prefix || '/'} is mounted on a non-string path`);
      routes.push(...registeredRoutes(layer.handle.stack, `${prefix}${String(mount)}`));
    }
  }
  return routes;
}

function documentedOperations(): Array<{ method: string; path: string; operation: OperationObject }> {
  return Object.entries(openApiDocument.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => item[m]).map((method) => ({ method, path, operation: item[method]! })),
  );
}

const key = (r: { method: string; path: string }) => `${r.method.toUpperCase()} ${r.path}`;

/** Every `$ref` in the document, with where it was found. */
function refs(value: unknown, at = '#'): Array<{ ref: string; at: string }> {
  if (Array.isArray(value)) return value.flatMap((v, i) => refs(v, `${at}/${i}`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [{ ref: v, at }] : refs(v, `${at}/${k}`)));
}

function resolve(pointer: string): unknown {
  assert.ok(pointer.startsWith('#/'), `only local refs are expected, got ${pointer}`);
  return pointer
    .slice(2)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, segment) => (node && typeof node === 'object' ? (node as Json)[segment] : undefined), openApiDocument);
}

function schemaProperties(name: string): string[] {
  const schema = openApiDocument.components.schemas[name] as { properties?: Json };
  assert.ok(schema?.properties, `components.schemas.${name} has no properties`);
  return Object.keys(schema.properties).sort();
}

describe('OpenAPI document', () => {
  describe('shape (OpenAPI 3.1)', () => {
    it('has the required top-level fields', () => {
      assert.match(openApiDocument.openapi, /^3\.1\.\d+$/);
      assert.equal(typeof openApiDocument.info.title, 'string');
      assert.equal(typeof openApiDocument.info.version, 'string');
      assert.ok(Object.keys(openApiDocument.paths).length > 0);
      assert.deepEqual(openApiDocument.components.securitySchemes.bearerAuth, {
        type: 'http',
        scheme: 'bearer',
        description: openApiDocument.components.securitySchemes.bearerAuth.description,
      });
      assert.deepEqual(openApiDocument.security, [{ bearerAuth: [] }]);
    });

    it('is plain JSON (what the endpoint serves is the document itself)', () => {
      assert.deepEqual(JSON.parse(JSON.stringify(openApiDocument)), openApiDocument);
    });

    it('has well-formed operations: unique ids, parameters, a success response each', () => {
      const ids = new Set<string>();
      for (const { method, path, operation } of documentedOperations()) {
        const where = key({ method, path });
        assert.match(path, /^\//, where);
        assert.ok(operation.operationId && !ids.has(operation.operationId), `${where}: missing or duplicate operationId`);
        ids.add(operation.operationId);
        assert.ok(operation.summary, `${where}: no summary`);
        const statuses = Object.keys(operation.responses);
        assert.ok(
          statuses.every((s) => /^[1-5]\d\d$/.test(s)),
          `${where}: bad status in ${statuses.join(', ')}`,
        );
        assert.ok(
          statuses.some((s) => s.startsWith('2')),
          `${where}: no success response`,
        );
        for (const response of Object.values(operation.responses)) {
          assert.ok('$ref' in response || response.description, `${where}: a response has no description`);
        }
        const seen = new Set<string>();
        for (const p of operation.parameters ?? []) {
          assert.ok(['path', 'query', 'header', 'cookie'].includes(p.in), `${where}: parameter ${p.name} in ${p.in}`);
          assert.ok(!seen.has(`${p.in}:${p.name}`), `${where}: parameter ${p.name} listed twice`);
          seen.add(`${p.in}:${p.name}`);
          assert.equal(typeof p.schema, 'object', `${where}: parameter ${p.name} has no schema`);
          if (p.in === 'path') assert.equal(p.required, true, `${where}: path parameter ${p.name} must be required`);
        }
      }
    });

    it('resolves every $ref inside the document', () => {
      const all = refs(openApiDocument);
      assert.ok(all.length > 0);
      for (const { ref, at } of all) assert.notEqual(resolve(ref), undefined, `${at}: $ref ${ref} does not resolve`);
    });

    it('describes errors with the SPEC §6 shape', () => {
      const error = openApiDocument.components.schemas.Error as { properties: { error: { properties: Json; required: string[] } } };
      assert.deepEqual(Object.keys(error.properties.error.properties).sort(), ['code', 'details', 'message']);
      assert.deepEqual([...error.properties.error.required].sort(), ['code', 'details', 'message']);
    });

    it('needs the API key everywhere except health, webhooks and this document', () => {
      for (const { method, path, operation } of documentedOperations()) {
        const isPublic = PUBLIC_ROUTES.includes(key({ method, path }));
        if (isPublic) assert.deepEqual(operation.security, [], `${key({ method, path })} should need no API key`);
        else {
          assert.equal(operation.security, undefined, `${key({ method, path })} should use the bearer scheme`);
          assert.ok(operation.responses['401'], `${key({ method, path })} should document 401`);
        }
      }
    });
  });

  describe('against the Express app', () => {
    const app = buildApp();
    const routes = registeredRoutes((app as unknown as { router: { stack: Layer[] } }).router.stack);

    it('documents exactly the routes the app registers', () => {
      assert.ok(routes.length > 10, `only ${routes.length} routes found: did the Express internals change?`);
      const registered = routes.map(key).sort();
      const documented = documentedOperations().map(key).sort();
      assert.deepEqual(
        { undocumented: registered.filter((r) => !documented.includes(r)), notServed: documented.filter((d) => !registered.includes(d)) },
        { undocumented: [], notServed: [] },
      );
      assert.equal(new Set(registered).size, registered.length, 'a route is registered twice');
    });

    it('documents the path parameters each route has, and no others', () => {
      for (const { method, path, operation } of documentedOperations()) {
        const fromTemplate = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
        const fromParameters = (operation.parameters ?? [])
          .filter((p) => p.in === 'path')
          .map((p) => p.name)
          .sort();
        assert.deepEqual(fromParameters, fromTemplate, `${key({ method, path })}: parameters vs template`);
        const route = routes.find((r) => key(r) === key({ method, path }));
        if (route) assert.deepEqual([...route.params].sort(), fromParameters, `${key({ method, path })}: parameters vs route`);
      }
    });

    describe('served', () => {
      let server: Server;
      let base: string;
      before(async () => {
        server = app.listen(0, '127.0.0.1');
        await new Promise<void>((resolve) => server.once('listening', () => resolve()));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      });
      after(async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });

      it('at /api/openapi.json without an API key, while the rest of /api needs one', async () => {
        const doc = await fetch(`${base}/api/openapi.json`);
        assert.equal(doc.status, 200);
        assert.match(doc.headers.get('content-type') ?? '', /^application\/json/);
        assert.deepEqual(await doc.json(), JSON.parse(JSON.stringify(openApiDocument)));

        const agents = await fetch(`${base}/api/agents`);
        assert.equal(agents.status, 401);
      });
    });
  });

  describe('response schemas against the code that shapes responses', () => {
    it('Conversation has the fields toConversation returns', () => {
      assert.deepEqual(schemaProperties('Conversation'), Object.keys(toConversation({} as Conversation)).sort());
    });

    it('Message has the fields toMessage returns', () => {
      assert.deepEqual(schemaProperties('Message'), Object.keys(toMessage({} as Message)).sort());
    });

    it('AutomationSettings has the blocks and fields of the defaults', () => {
      const schema = openApiDocument.components.schemas.AutomationSettings as { properties: Record<string, { properties: Json }> };
      const documented = Object.fromEntries(Object.entries(schema.properties).map(([block, s]) => [block, Object.keys(s.properties).sort()]));
      const defaults = Object.fromEntries(Object.entries(DEFAULT_AUTOMATION_SETTINGS).map(([block, v]) => [block, Object.keys(v).sort()]));
      assert.deepEqual(documented, defaults);
    });
  });
});
