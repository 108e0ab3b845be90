/**
 * The recorded workflow histories in test/fixtures/histories/: their file format, shared by
 * the recorder (record-histories.ts) and the replay test (replay.test.ts).
 *
 * One history per file, `<name>.json`:
 *
 *   { "name", "workflowType", "workflowId", "runId", "status", "recordedFrom", "history" }
 *
 * `history` is exactly what `historyToJSON` writes (the format of `temporal workflow show
 * --output json` and of the Web UI's download). The workflow id is kept beside it because a
 * history does not carry it and the conversation workflow's behaviour depends on it (it
 * tells its own assignments from other conversations' by workflow id). A bare history file
 * (just `{ "events": [...] }`) is accepted too; it is replayed under the workflow id its
 * first event names, if any.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { History } from '@temporalio/common/lib/proto-utils';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

export const HISTORIES_DIR = path.resolve(__dirname, '../fixtures/histories');

/**
 * The business phone-number ids of the test data (PHONE_NUMBER_ID of
 * test/support/conversation-harness.ts): the only digit strings of phone-number length a
 * committed history may hold.
 */
export const TEST_PHONE_NUMBER_IDS: ReadonlySet<string> = new Set(['106540352242922']);

export interface RecordedHistory {
  /** The file name without `.json`: `<scenario>` or `<scenario>--<part>`. */
  name: string;
  workflowType: string;
  workflowId: string;
  runId: string;
  /** The run's status when it was recorded: RUNNING (in flight), COMPLETED, CONTINUED_AS_NEW, … */
  status: string;
  /** The commit the recorded workflow code came from (`+dirty` when it had local changes). */
  recordedFrom: string;
  /** As `historyToJSON` writes it (events with string ids, enums by name, payloads in base64). */
  history: { events: Record<string, unknown>[] };
}

interface JsonEvent {
  workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string }; workflowId?: string; originalExecutionRunId?: string };
}

/** The names of every history file, sorted. */
export function historyFiles(dir = HISTORIES_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function loadHistory(file: string, dir = HISTORIES_DIR): RecordedHistory {
  const name = path.basename(file, '.json');
  let parsed: Partial<RecordedHistory> & { events?: Record<string, unknown>[] };
  try {
    parsed = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  } catch (error) {
    throw new Error(`history ${name} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const history = parsed.history ?? (parsed.events ? { events: parsed.events } : undefined);
  const first = history?.events?.[0] as JsonEvent | undefined;
  const started = first?.workflowExecutionStartedEventAttributes;
  if (!history || !started) throw new Error(`history ${name} does not start with a WorkflowExecutionStarted event`);
  return {
    name,
    workflowType: started.workflowType?.name ?? parsed.workflowType ?? 'unknown',
    workflowId: parsed.workflowId ?? started.workflowId ?? `replay-${name}`,
    runId: parsed.runId ?? started.originalExecutionRunId ?? '',
    status: parsed.status ?? 'unknown',
    recordedFrom: parsed.recordedFrom ?? 'unknown',
    history,
  };
}

/*
 * JSON <-> History, as `historyToJSON` / `historyFromJSON` of @temporalio/common/lib/proto-utils
 * do it (protobufjs's ProtoJSON over the generated root), but with the protobufjs copy that
 * @temporalio/proto itself loads. In this install npm keeps protobufjs 7 at the top (for
 * @grpc/proto-loader) and a separate protobufjs 8 under each of @temporalio/common, /proto
 * and /worker; the SDK's helpers then pair common's ProtoJSON with proto's reflection types,
 * and its `instanceof Type` check throws "type must be a Type". That also breaks
 * `Worker.runReplayHistory` on a JSON history (it calls `historyFromJSON`), so the replay
 * test hands the replayer decoded History objects. Output and input are the same JSON.
 */
interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(
  require.resolve('protobufjs/ext/protojson', { paths: [path.dirname(require.resolve('@temporalio/proto/package.json'))] }),
) as ProtoJson;
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

/** The JSON text of a history, exactly as `historyToJSON` writes it. */
export function historyToJSON(history: History): string {
  return JSON.stringify(protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
}

/** A history as the replayer takes it, decoded from its JSON (as `historyFromJSON` does). */
export function replayable(recorded: RecordedHistory): History {
  const history = protojson.fromJson(historyType, recorded.history, { ignoreUnknownFields: true }) as History | null;
  if (!history?.events?.length) throw new Error(`history ${recorded.name} holds no events`);
  return history;
}

/**
 * Strings in a history that look like phone numbers (7 to 15 digits in a row, with or
 * without `+`) and are not in `allowed` (the test data's business phone-number ids). Looks
 * inside every JSON payload too: activity inputs and results, signal arguments, search
 * attributes. Only digit runs standing on their own count, so hex (checksums, UUIDs) does not.
 */
export function phoneNumberLikeStrings(value: unknown, allowed: ReadonlySet<string>): string[] {
  const found = new Set<string>();
  const visitString = (s: string) => {
    for (const match of s
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '-')
      .matchAll(/(?<![0-9a-z+])\+?\d{7,15}(?![0-9a-z])/gi)) {
      if (!allowed.has(match[0].replace(/^\+/, ''))) found.add(match[0]);
    }
  };
  const visit = (v: unknown, key = ''): void => {
    if (typeof v === 'string') {
      // Event ids, timestamps, durations ("315360000s") and the recording's commit (an
      // abbreviated hash may be all digits, "0101587+dirty") are not phone numbers.
      if (key === 'eventId' || key === 'recordedFrom' || /^\d{4}-\d\d-\d\dT/.test(v) || /^\d+(\.\d+)?s$/.test(v)) return;
      visitString(v);
    } else if (Array.isArray(v)) {
      for (const item of v) visit(item, key);
    } else if (v && typeof v === 'object') {
      const obj = v as Record<string, unknown>;
      const metadata = obj.metadata as Record<string, string> | undefined;
      if (typeof obj.data === 'string' && metadata && typeof metadata.encoding === 'string') {
        const encoding = Buffer.from(metadata.encoding, 'base64').toString('utf8');
        const data = Buffer.from(obj.data, 'base64').toString('utf8');
        if (encoding.startsWith('json')) visit(JSON.parse(data));
        else visitString(data);
        return;
      }
      for (const [k, child] of Object.entries(obj)) visit(child, k);
    }
  };
  visit(value);
  return [...found];
}
