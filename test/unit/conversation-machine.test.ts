/**
 * SPEC §3 (R1–R12) as the pure conversation machine encodes them.
 *
 * Each test drives the machine the way the conversation workflow does: `initialState`,
 * the first `customer_message`, the `routed` outcome of the route command, then further
 * events, with `{ type: 'tick' }` delivered at the times the workflow would wake up
 * (it sleeps until `nextDeadline`, and also ticks after every batch of signals).
 * No Temporal, no database, no clock: every time below is explicit epoch milliseconds.
 */
import assert from 'node:assert/strict';
import { type AutomationSettings, type OutboundMessageContent, withDefaults } from '../../workflows/rules/automation-settings';
import {
  BOT_INACTIVITY_MS,
  CSAT_OPTIONS,
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
  csatRowId,
  dueTimers,
  FREE_FORM_OUTSIDE_WINDOW,
  initialState,
  judgeRequest,
  nextDeadline,
  openConversation,
  REQUEST_ALLOWED_IN,
  type ConversationRequest,
  parseCsatRowId,
  step,
} from '../../workflows/rules/conversation-machine';
import { HOUR, MINUTE, SECOND, SERVICE_WINDOW_MS, isWithinServiceWindow } from '../../workflows/rules/vocabulary';

// ---------------------------------------------------------------------------------------
// Fixtures

/** Monday 2 March 2026, 09:00 UTC: the moment the first message is processed. */
const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const CONVERSATION_ID = '5b0f2a64-3c1e-4d8a-9f7b-2e6c1a9d4b83';
const AGENT_A = 'agent-ada';
const AGENT_B = 'agent-bo';

const text = (body: string): OutboundMessageContent => ({ type: 'text', text: { body } });
const WELCOME = text('Welcome to Acme support!');
const UNASSIGNED = text('We are away right now; we will answer soon.');
const QUEUED = text('All agents are busy; you are in the queue.');
const REMINDER = text('Thanks for waiting, an agent is on it.');
const AGENT_TEXT = text('Hi, this is Ada. Let me check that for you.');
const BOT_TEXT = text('Please choose an option.');
const SURVEY_BODY = 'How did we do today?';
const SURVEY_BUTTON = 'Rate us';

type SettingsPatch = { [K in keyof AutomationSettings]?: Partial<AutomationSettings[K]> };

/**
 * Every automation off, with recognisable messages; a test turns on only the rules it is
 * about, so what it asserts cannot be explained by another rule.
 */
function settingsWith(patch: SettingsPatch = {}): AutomationSettings {
  const quiet: SettingsPatch = {
    routing: { mode: 'auto', preferLastAgent: true },
    welcome: { enabled: false, message: WELCOME },
    unassignedReply: { enabled: false, delaySeconds: 0, message: UNASSIGNED },
    queueReply: { enabled: false, message: QUEUED },
    reminder: { enabled: false, waitMinutes: 5, message: REMINDER },
    autoClose: { enabled: false, afterMinutes: 24 * 60 },
    csat: { enabled: false, body: SURVEY_BODY, buttonText: SURVEY_BUTTON },
  };
  const merged: Record<string, unknown> = {};
  for (const key of Object.keys(quiet) as (keyof AutomationSettings)[]) {
    merged[key] = { ...quiet[key], ...(patch[key] ?? {}) };
  }
  return withDefaults({ ...patch, ...(merged as SettingsPatch) });
}

/** A command in a few words, for assertions that read like the spec. */
function describeCommand(c: ConversationCommand): string {
  switch (c.type) {
    case 'route':
      return `route ${c.mode}`;
    case 'send_automation':
      return `send ${c.automation}`;
    case 'skip':
      return `skip ${c.automation}`;
    case 'send_reply':
      return `reply ${c.author}`;
    case 'close':
      return `close ${c.reason}`;
    case 'reassign':
      return `reassign ${c.reason}`;
  }
}
const names = (commands: ConversationCommand[]) => commands.map(describeCommand);

function find<T extends ConversationCommand['type']>(commands: ConversationCommand[], type: T): Extract<ConversationCommand, { type: T }> {
  const hit = commands.find((c) => c.type === type);
  if (!hit) assert.fail(`expected a ${type} command in ${JSON.stringify(names(commands))}`);
  return hit as Extract<ConversationCommand, { type: T }>;
}

interface FirstMessage {
  at?: number;
  sentAt?: number;
  isFirstContact?: boolean;
  opensServiceWindow?: boolean;
  messageId?: string;
}

/**
 * One conversation, driven the way the workflow drives the machine. `log` holds every
 * command in the order the workflow would carry it out, with the time it was produced.
 */
class Conversation {
  state: ConversationState;
  now: number;
  readonly log: { at: number; command: ConversationCommand }[] = [];
  /** Commands produced by the first customer message (R1 lives here). */
  readonly firstMessageCommands: ConversationCommand[];
  private messageCounter = 0;

  /**
   * Opens the conversation with the machine's own opening sequence, as the workflow does:
   * the first customer message's commands, then routing (carried on by `routed`).
   */
  constructor(settings: AutomationSettings, first: FirstMessage = {}) {
    const at = first.at ?? T0;
    this.now = at;
    const opening = openConversation(
      { conversationId: CONVERSATION_ID, phoneNumberId: '106540352242922', contactId: 'contact-1', settings, now: at },
      {
        messageId: first.messageId ?? `msg-${++this.messageCounter}`,
        sentAt: first.sentAt ?? at,
        opensServiceWindow: first.opensServiceWindow ?? true,
        isFirstContact: first.isFirstContact ?? false,
      },
      at,
    );
    this.state = opening.state;
    this.firstMessageCommands = opening.onFirstMessage;
    for (const command of [...opening.onFirstMessage, ...opening.routing]) this.log.push({ at, command });
  }

  apply(event: ConversationEvent, at: number = this.now): ConversationCommand[] {
    assert.ok(at >= this.now, `time must not run backwards (${at - T0} ms after T0 < ${this.now - T0})`);
    this.now = at;
    const { state, commands } = step(this.state, event, at);
    this.state = state;
    for (const command of commands) this.log.push({ at, command });
    return commands;
  }

  customerSays(at: number, options: Omit<FirstMessage, 'at'> = {}): ConversationCommand[] {
    return this.apply(
      {
        type: 'customer_message',
        messageId: options.messageId ?? `msg-${++this.messageCounter}`,
        sentAt: options.sentAt ?? at,
        opensServiceWindow: options.opensServiceWindow ?? true,
        isFirstContact: options.isFirstContact ?? false,
      },
      at,
    );
  }

  routed(status: 'bot' | 'unassigned' | 'queued' | 'assigned', at: number, agentId: string | null = status === 'assigned' ? AGENT_A : null) {
    return this.apply({ type: 'routed', status, agentId }, at);
  }

  /** Claimed, drained from the queue, or transferred. */
  assigned(agentId: string, at: number) {
    return this.apply({ type: 'assigned', agentId }, at);
  }

  agentReplies(at: number, agentId = this.state.agentId ?? AGENT_A) {
    return this.apply({ type: 'agent_reply', agentId, message: AGENT_TEXT, requestId: `req-${at}` }, at);
  }

  botReplies(at: number) {
    return this.apply({ type: 'bot_reply', message: BOT_TEXT, requestId: `bot-${at}` }, at);
  }

  close(by: 'agent' | 'admin', at: number) {
    return this.apply({ type: 'close', by, agentId: by === 'agent' ? this.state.agentId : null }, at);
  }

  changeSettings(patch: SettingsPatch, at: number) {
    const current = this.state.settings;
    const next = { ...current } as Record<string, unknown>;
    for (const key of Object.keys(patch) as (keyof AutomationSettings)[]) next[key] = { ...current[key], ...patch[key] };
    return this.apply({ type: 'settings_changed', settings: next as unknown as AutomationSettings }, at);
  }

  tick(at: number) {
    return this.apply({ type: 'tick' }, at);
  }

  /**
   * Lets time pass until `until`, waking at each `nextDeadline` like the workflow's timer.
   * Returns what fired, with when.
   */
  runUntil(until: number): { at: number; what: string }[] {
    const fired: { at: number; what: string }[] = [];
    for (let guard = 0; guard < 1_000; guard++) {
      const deadline = nextDeadline(this.state);
      if (deadline === null || deadline > until) {
        this.now = Math.max(this.now, until);
        return fired;
      }
      const at = Math.max(deadline, this.now);
      for (const command of this.tick(at)) fired.push({ at, what: describeCommand(command) });
    }
    assert.fail('the machine kept asking for ticks');
  }

  get deadline(): number | null {
    return nextDeadline(this.state);
  }

  get loggedNames(): string[] {
    return this.log.map((l) => describeCommand(l.command));
  }
}

/** A conversation held by AGENT_A from `assignedAt` (the first message came at T0). */
function assignedConversation(patch: SettingsPatch, assignedAt = T0 + SECOND): Conversation {
  const c = new Conversation(settingsWith(patch));
  c.routed('assigned', assignedAt, AGENT_A);
  return c;
}

const plainJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

// ---------------------------------------------------------------------------------------

describe('conversation machine (SPEC §3)', () => {
  describe('opening and routing (R3, as the machine sees it)', () => {
    for (const mode of ['auto', 'manual', 'bot'] as const) {
      it(`asks to route the new conversation in the number's mode (${mode})`, () => {
        const opened = initialState({
          conversationId: CONVERSATION_ID,
          phoneNumberId: 'p',
          contactId: 'c',
          settings: settingsWith({ routing: { mode } }),
          now: T0,
        });
        assert.deepEqual(opened.commands, [{ type: 'route', mode }]);
        assert.equal(opened.state.status, 'routing');
        assert.equal(opened.state.agentId, null);
        assert.equal(opened.state.openedAt, T0);
        assert.equal(nextDeadline(opened.state), null);
      });
    }

    it('takes the routing outcome as the status, with the agent only when assigned', () => {
      const assigned = new Conversation(settingsWith());
      assigned.routed('assigned', T0 + SECOND, AGENT_A);
      assert.equal(assigned.state.status, 'assigned');
      assert.equal(assigned.state.agentId, AGENT_A);
      assert.equal(assigned.state.assignedAt, T0 + SECOND);

      for (const status of ['unassigned', 'queued', 'bot'] as const) {
        const c = new Conversation(settingsWith());
        c.routed(status, T0 + SECOND, null);
        assert.equal(c.state.status, status);
        assert.equal(c.state.agentId, null);
        assert.equal(c.state.assignedAt, null);
      }
    });

    it('a queued or unassigned conversation that gets an agent becomes assigned to that agent', () => {
      const c = new Conversation(settingsWith());
      c.routed('queued', T0 + SECOND);
      assert.deepEqual(c.assigned(AGENT_B, T0 + 5 * MINUTE), []);
      assert.equal(c.state.status, 'assigned');
      assert.equal(c.state.agentId, AGENT_B);
      assert.equal(c.state.assignedAt, T0 + 5 * MINUTE);
    });

    it('an agent reply is sent as the agent, with its request id', () => {
      const c = assignedConversation({});
      const commands = c.agentReplies(T0 + MINUTE);
      assert.deepEqual(commands, [{ type: 'send_reply', author: 'agent', agentId: AGENT_A, message: AGENT_TEXT, requestId: `req-${T0 + MINUTE}` }]);
    });
  });

  describe('R1 welcome message', () => {
    it('greets a contact never seen before on their first message, before anything else', () => {
      const c = new Conversation(settingsWith({ welcome: { enabled: true }, unassignedReply: { enabled: true, delaySeconds: 0 } }), {
        isFirstContact: true,
      });
      assert.deepEqual(c.firstMessageCommands, [{ type: 'send_automation', automation: 'welcome', message: WELCOME }]);
      c.routed('unassigned', T0 + SECOND);
      // The workflow applies the first message before it carries out the route command.
      assert.deepEqual(c.loggedNames, ['send welcome', 'route auto', 'send unassigned_reply']);
    });

    it('greets first contact whatever the routing outcome (assigned, queued, bot)', () => {
      for (const [mode, status] of [
        ['auto', 'assigned'],
        ['auto', 'queued'],
        ['bot', 'bot'],
      ] as const) {
        const c = new Conversation(settingsWith({ routing: { mode }, welcome: { enabled: true } }), { isFirstContact: true });
        c.routed(status, T0 + SECOND);
        assert.equal(c.loggedNames[0], 'send welcome', `${mode}/${status}`);
        assert.equal(c.loggedNames.filter((n) => n === 'send welcome').length, 1);
      }
    });

    it('is not sent when disabled', () => {
      const c = new Conversation(settingsWith({ welcome: { enabled: false } }), { isFirstContact: true });
      assert.deepEqual(c.firstMessageCommands, []);
      c.routed('assigned', T0 + SECOND);
      assert.deepEqual(c.loggedNames, ['route auto']);
    });

    it('is not sent to a contact the number has seen before', () => {
      const c = new Conversation(settingsWith({ welcome: { enabled: true } }), { isFirstContact: false });
      assert.deepEqual(c.firstMessageCommands, []);
    });

    it('is not sent again when the first message is delivered twice', () => {
      const c = new Conversation(settingsWith({ welcome: { enabled: true } }), { isFirstContact: true, messageId: 'wamid-first' });
      c.routed('assigned', T0 + SECOND);
      assert.deepEqual(c.customerSays(T0 + 2 * SECOND, { isFirstContact: true, messageId: 'wamid-first' }), []);
      assert.deepEqual(c.loggedNames, ['send welcome', 'route auto']);
    });

    it('is not sent for later messages of the conversation', () => {
      const c = new Conversation(settingsWith({ welcome: { enabled: true } }), { isFirstContact: true });
      c.routed('assigned', T0 + SECOND);
      assert.deepEqual(c.customerSays(T0 + MINUTE), []);
    });
  });

  describe('duplicate deliveries', () => {
    it('a redelivered message id changes nothing and commands nothing', () => {
      const c = assignedConversation({ reminder: { enabled: true }, autoClose: { enabled: true, afterMinutes: 60 } });
      c.customerSays(T0 + 10 * SECOND, { messageId: 'wamid-2' });
      c.agentReplies(T0 + MINUTE);
      const before = c.state;
      const result = step(
        before,
        { type: 'customer_message', messageId: 'wamid-2', sentAt: T0 + 10 * SECOND, opensServiceWindow: true, isFirstContact: false },
        T0 + 2 * MINUTE,
      );
      assert.deepEqual(result.commands, []);
      assert.deepEqual(result.state, before);
    });

    it('a redelivered old message neither cancels a pending auto-close nor starts a reminder stretch', () => {
      const c = assignedConversation({ reminder: { enabled: true, waitMinutes: 5 }, autoClose: { enabled: true, afterMinutes: 60 } });
      c.customerSays(T0 + 10 * SECOND, { messageId: 'wamid-2' });
      c.agentReplies(T0 + MINUTE);
      c.customerSays(T0 + 2 * MINUTE, { messageId: 'wamid-2' });
      assert.equal(c.deadline, T0 + MINUTE + 60 * MINUTE);
      assert.deepEqual(c.runUntil(T0 + 3 * HOUR), [{ at: T0 + 61 * MINUTE, what: 'close auto_close' }]);
    });

    it('a redelivered message does not keep a bot conversation alive', () => {
      const c = new Conversation(settingsWith({ routing: { mode: 'bot' } }), { messageId: 'wamid-1' });
      c.routed('bot', T0 + SECOND);
      c.customerSays(T0 + 5 * MINUTE, { messageId: 'wamid-1' });
      assert.equal(c.deadline, T0 + SECOND + BOT_INACTIVITY_MS);
    });

    it('distinct message ids are each applied, even with the same timestamp', () => {
      const c = assignedConversation({ autoClose: { enabled: true, afterMinutes: 60 } });
      c.agentReplies(T0 + MINUTE);
      c.customerSays(T0 + 2 * MINUTE, { messageId: 'wamid-x', sentAt: T0 + 2 * MINUTE });
      c.agentReplies(T0 + 3 * MINUTE);
      c.customerSays(T0 + 4 * MINUTE, { messageId: 'wamid-y', sentAt: T0 + 2 * MINUTE });
      assert.equal(c.state.lastAgentReplyAwaitingCustomer, null, 'the second message cancelled the auto-close');
    });
  });

  describe('a closed conversation', () => {
    it('ignores every event: same state, no command, no timer', () => {
      const c = assignedConversation({
        welcome: { enabled: true },
        unassignedReply: { enabled: true },
        queueReply: { enabled: true },
        reminder: { enabled: true, waitMinutes: 1 },
        autoClose: { enabled: true, afterMinutes: 1 },
        csat: { enabled: true },
      });
      c.customerSays(T0 + 10 * SECOND);
      c.close('agent', T0 + MINUTE);
      const closed = c.state;
      assert.equal(closed.status, 'closed');
      assert.equal(nextDeadline(closed), null);
      const events: ConversationEvent[] = [
        { type: 'customer_message', messageId: 'after-close', sentAt: T0 + 2 * MINUTE, opensServiceWindow: true, isFirstContact: true },
        { type: 'routed', status: 'unassigned', agentId: null },
        { type: 'routed', status: 'queued', agentId: null },
        { type: 'routed', status: 'assigned', agentId: AGENT_B },
        { type: 'assigned', agentId: AGENT_B },
        { type: 'agent_reply', agentId: AGENT_A, message: AGENT_TEXT, requestId: 'r1' },
        { type: 'bot_reply', message: BOT_TEXT, requestId: 'r2' },
        { type: 'bot_handover' },
        { type: 'bot_complete' },
        { type: 'close', by: 'admin', agentId: null },
        { type: 'close', by: 'agent', agentId: AGENT_A },
        { type: 'settings_changed', settings: settingsWith({ reminder: { enabled: true, waitMinutes: 1 } }) },
        { type: 'tick' },
      ];
      for (const event of events) {
        for (const at of [T0 + 2 * MINUTE, T0 + 30 * HOUR]) {
          const result = step(closed, event, at);
          assert.equal(result.state, closed, `${event.type} changed a closed conversation`);
          assert.deepEqual(result.commands, [], `${event.type} commanded something on a closed conversation`);
        }
      }
    });
  });

  describe('R4 unassigned auto-reply', () => {
    it('delay 0: sent the moment the conversation enters unassigned, and nothing stays armed', () => {
      const c = new Conversation(settingsWith({ unassignedReply: { enabled: true, delaySeconds: 0 } }));
      const commands = c.routed('unassigned', T0 + SECOND);
      assert.deepEqual(commands, [{ type: 'send_automation', automation: 'unassigned_reply', message: UNASSIGNED }]);
      assert.equal(c.deadline, null);
      assert.deepEqual(c.runUntil(T0 + 2 * HOUR), []);
    });

    it('delay N seconds: due exactly N seconds after the conversation entered unassigned (not after the message)', () => {
      const c = new Conversation(settingsWith({ unassignedReply: { enabled: true, delaySeconds: 90 } }));
      const entry = T0 + 2 * SECOND;
      assert.deepEqual(c.routed('unassigned', entry), []);
      assert.equal(c.deadline, entry + 90 * SECOND);
      assert.deepEqual(dueTimers(c.state), [{ rule: 'unassigned_reply', at: entry + 90 * SECOND }]);
      assert.deepEqual(c.tick(entry + 90 * SECOND - 1), [], 'not a millisecond early');
      assert.deepEqual(c.tick(entry + 90 * SECOND), [{ type: 'send_automation', automation: 'unassigned_reply', message: UNASSIGNED }]);
      assert.equal(c.deadline, null, 'sent once');
      assert.deepEqual(c.runUntil(T0 + HOUR), []);
    });

    it('the maximum delay (600 s) works the same way', () => {
      const c = new Conversation(settingsWith({ unassignedReply: { enabled: true, delaySeconds: 600 } }));
      c.routed('unassigned', T0 + SECOND);
      assert.deepEqual(c.runUntil(T0 + HOUR), [{ at: T0 + SECOND + 600 * SECOND, what: 'send unassigned_reply' }]);
    });

    it('is not sent when an agent takes the conversation before the delay ends', () => {
      const c = new Conversation(settingsWith({ unassignedReply: { enabled: true, delaySeconds: 120 } }));
      c.routed('unassigned', T0 + SECOND);
      c.assigned(AGENT_A, T0 + SECOND + 119 * SECOND);
      assert.equal(c.deadline, null);
      assert.deepEqual(c.tick(T0 + SECOND + 120 * SECOND), []);
    });

    it('is not sent when the conversation is closed before the delay ends', () => {
      const c = new Conversation(settingsWith({ unassignedReply: { enabled: true, delaySeconds: 120 } }));
      c.routed('unassigned', T0 + SECOND);
      assert.deepEqual(names(c.close('admin', T0 + MINUTE)), ['close admin']);
      assert.deepEqual(c.loggedNames, ['route auto', 'close admin']);
    });

    it('is not owed for an entry that happened while disabled, even when enabled later', () => {
      const c = new Conversation(settingsWith({ unassignedReply: { enabled: false, delaySeconds: 60 } }));
      c.routed('unassigned', T0 + SECOND);
      c.changeSettings({ unassignedReply: { enabled: true } }, T0 + 3 * HOUR);
      assert.equal(c.deadline, null);
      assert.deepEqual(c.tick(T0 + 3 * HOUR), []);
      assert.deepEqual(c.runUntil(T0 + 5 * HOUR), []);
    });

    it('is not sent when disabled', () => {
      const c = new Conversation(settingsWith({ unassignedReply: { enabled: false, delaySeconds: 0 } }));
      assert.deepEqual(c.routed('unassigned', T0 + SECOND), []);
      assert.equal(c.deadline, null);
      assert.deepEqual(c.runUntil(T0 + 3 * 24 * HOUR), []);
    });

    it('a further customer message while still unassigned does not send it again', () => {
      const c = new Conversation(settingsWith({ unassignedReply: { enabled: true, delaySeconds: 0 } }));
      c.routed('unassigned', T0 + SECOND);
      assert.deepEqual(c.customerSays(T0 + MINUTE), []);
      assert.equal(c.deadline, null);
    });

    it('is owed again on each new entry into unassigned, counted from that entry', () => {
      const c = new Conversation(settingsWith({ unassignedReply: { enabled: true, delaySeconds: 60 } }));
      const first = T0 + SECOND;
      c.routed('unassigned', first);
      assert.deepEqual(c.runUntil(first + 60 * SECOND), [{ at: first + 60 * SECOND, what: 'send unassigned_reply' }]);
      // Taken by an agent, then routed again (the conversation re-enters unassigned).
      c.assigned(AGENT_A, first + 2 * MINUTE);
      const second = first + 10 * MINUTE;
      c.routed('unassigned', second);
      assert.equal(c.deadline, second + 60 * SECOND);
      assert.deepEqual(c.runUntil(second + HOUR), [{ at: second + 60 * SECOND, what: 'send unassigned_reply' }]);
    });

    it('a reply not sent on one entry (agent took it) is owed afresh on the next entry', () => {
      const c = new Conversation(settingsWith({ unassignedReply: { enabled: true, delaySeconds: 60 } }));
      c.routed('unassigned', T0 + SECOND);
      c.assigned(AGENT_A, T0 + 30 * SECOND);
      const again = T0 + 5 * MINUTE;
      c.routed('unassigned', again);
      assert.deepEqual(c.runUntil(again + HOUR), [{ at: again + 60 * SECOND, what: 'send unassigned_reply' }]);
    });

    it('a bot handing over into unassigned enters unassigned: the reply is owed', () => {
      const c = new Conversation(settingsWith({ routing: { mode: 'bot' }, unassignedReply: { enabled: true, delaySeconds: 0 } }));
      c.routed('bot', T0 + SECOND);
      c.apply({ type: 'bot_handover' }, T0 + 2 * MINUTE);
      assert.deepEqual(names(c.routed('unassigned', T0 + 2 * MINUTE + 100)), ['send unassigned_reply']);
    });

    it('is not sent for an agent-assigned conversation', () => {
      const c = new Conversation(settingsWith({ unassignedReply: { enabled: true, delaySeconds: 0 } }));
      assert.deepEqual(c.routed('assigned', T0 + SECOND), []);
      assert.deepEqual(c.runUntil(T0 + HOUR), []);
    });
  });

  describe('R5 queue message', () => {
    it('is sent on entering the queue, instead of the unassigned reply', () => {
      const c = new Conversation(settingsWith({ queueReply: { enabled: true }, unassignedReply: { enabled: true, delaySeconds: 30 } }));
      assert.deepEqual(c.routed('queued', T0 + SECOND), [{ type: 'send_automation', automation: 'queue_reply', message: QUEUED }]);
      assert.equal(c.deadline, null, 'no unassigned reply is armed for a queued conversation');
      assert.deepEqual(c.runUntil(T0 + HOUR), []);
    });

    it('when disabled, a queued conversation gets neither the queue message nor the unassigned reply', () => {
      const c = new Conversation(settingsWith({ queueReply: { enabled: false }, unassignedReply: { enabled: true, delaySeconds: 0 } }));
      assert.deepEqual(c.routed('queued', T0 + SECOND), []);
      assert.deepEqual(c.runUntil(T0 + HOUR), []);
    });

    it('is sent again on each new entry into the queue, and not for messages while queued', () => {
      const c = new Conversation(settingsWith({ queueReply: { enabled: true } }));
      c.routed('queued', T0 + SECOND);
      assert.deepEqual(c.customerSays(T0 + MINUTE), []);
      c.assigned(AGENT_A, T0 + 2 * MINUTE);
      assert.deepEqual(names(c.routed('queued', T0 + 3 * MINUTE)), ['send queue_reply']);
    });

    it('a bot handing over into the queue sends it', () => {
      const c = new Conversation(settingsWith({ routing: { mode: 'bot' }, queueReply: { enabled: true } }));
      c.routed('bot', T0 + SECOND);
      assert.deepEqual(names(c.apply({ type: 'bot_handover' }, T0 + MINUTE)), ['route auto']);
      assert.deepEqual(names(c.routed('queued', T0 + MINUTE)), ['send queue_reply']);
    });

    it('leaving the queue for an agent sends nothing more', () => {
      const c = new Conversation(settingsWith({ queueReply: { enabled: true }, unassignedReply: { enabled: true } }));
      c.routed('queued', T0 + SECOND);
      assert.deepEqual(c.assigned(AGENT_A, T0 + 10 * MINUTE), []);
      assert.deepEqual(c.loggedNames, ['route auto', 'send queue_reply']);
    });
  });

  describe('R13 reassignment', () => {
    const X = 15;
    const on = { reassign: { enabled: true, afterMinutes: X, onAgentOffline: true } } satisfies SettingsPatch;

    it('when X passes without a reply, then it is taken from the agent, remembered, and routed again; the next agent gets the full X', () => {
      const assignedAt = T0 + SECOND;
      const c = assignedConversation(on, assignedAt);
      assert.deepEqual(dueTimers(c.state), [{ rule: 'reassign', at: assignedAt + X * MINUTE }]);
      assert.deepEqual(c.tick(assignedAt + X * MINUTE - 1), []);
      assert.deepEqual(c.tick(assignedAt + X * MINUTE), [{ type: 'reassign', fromAgentId: AGENT_A, reason: 'reassigned', waitingSince: T0 }]);
      assert.equal(c.state.status, 'routing');
      assert.deepEqual(c.state.excludedAgentIds, [AGENT_A]);
      const again = assignedAt + X * MINUTE + SECOND;
      c.routed('assigned', again, AGENT_B);
      assert.deepEqual(dueTimers(c.state), [{ rule: 'reassign', at: again + X * MINUTE }]);
    });

    it('when W < X, then the reminder and the reassignment both fire, each at its own time', () => {
      const c = assignedConversation({ ...on, reminder: { enabled: true, waitMinutes: 5 } });
      assert.deepEqual(c.runUntil(T0 + X * MINUTE + SECOND), [
        { at: T0 + SECOND + 5 * MINUTE, what: 'send reminder' },
        { at: T0 + SECOND + X * MINUTE, what: 'reassign reassigned' },
      ]);
    });

    it('when the agent replies before X, then nothing is due; when off (the default), then no timer', () => {
      const c = assignedConversation(on);
      c.agentReplies(T0 + MINUTE);
      assert.deepEqual(dueTimers(c.state), []);
      assert.deepEqual(dueTimers(assignedConversation({}).state), []);
    });

    it('when the agent goes offline, then only their conversation awaiting a reply is reassigned, and only with onAgentOffline', () => {
      assert.deepEqual(names(assignedConversation(on).apply({ type: 'agent_offline', agentId: AGENT_A })), ['reassign agent_offline']);
      assert.deepEqual(assignedConversation(on).apply({ type: 'agent_offline', agentId: AGENT_B }), [], 'another agent');
      const answered = assignedConversation(on);
      answered.agentReplies(T0 + MINUTE);
      assert.deepEqual(answered.apply({ type: 'agent_offline', agentId: AGENT_A }), [], 'not awaiting a reply');
      const notOnOffline = assignedConversation({ reassign: { enabled: true, onAgentOffline: false } });
      assert.deepEqual(notOnOffline.apply({ type: 'agent_offline', agentId: AGENT_A }), []);
    });

    it('when states or settings from before R13 lack the block, then nothing is due', () => {
      const c = assignedConversation({});
      const old = { ...c.state, settings: { ...c.state.settings, reassign: undefined } };
      assert.deepEqual(dueTimers(old), []);
      assert.deepEqual(step(old, { type: 'agent_offline', agentId: AGENT_A }, T0 + MINUTE).commands, []);
    });
  });

  describe('R7 reminder', () => {
    const W = 5;
    const on = { reminder: { enabled: true, waitMinutes: W } } satisfies SettingsPatch;

    it('routed straight to an agent: due W after the assignment (later than the message)', () => {
      const assignedAt = T0 + 1_500;
      const c = assignedConversation(on, assignedAt);
      assert.deepEqual(dueTimers(c.state), [{ rule: 'reminder', at: assignedAt + W * MINUTE }]);
      assert.deepEqual(c.tick(assignedAt + W * MINUTE - 1), []);
      assert.deepEqual(c.tick(assignedAt + W * MINUTE), [{ type: 'send_automation', automation: 'reminder', message: REMINDER }]);
    });

    it('due W after the first unanswered customer message when that is later than the assignment', () => {
      const c = assignedConversation(on);
      c.agentReplies(T0 + MINUTE);
      const first = T0 + 10 * MINUTE;
      c.customerSays(first);
      c.customerSays(first + 2 * MINUTE);
      c.customerSays(first + 4 * MINUTE);
      assert.equal(c.deadline, first + W * MINUTE, 'later messages of the stretch do not move it');
      assert.deepEqual(c.runUntil(first + HOUR), [{ at: first + W * MINUTE, what: 'send reminder' }]);
    });

    it('an agent who received a long-waiting conversation gets the full W', () => {
      const c = new Conversation(settingsWith({ ...on, routing: { mode: 'manual' } }));
      c.routed('unassigned', T0 + SECOND);
      c.customerSays(T0 + 10 * MINUTE);
      const claimedAt = T0 + 30 * MINUTE;
      assert.equal(c.runUntil(claimedAt).length, 0, 'no reminder while unassigned');
      c.assigned(AGENT_A, claimedAt);
      assert.equal(c.deadline, claimedAt + W * MINUTE);
      assert.deepEqual(c.tick(claimedAt), [], 'not due at once although the customer waited longer than W');
      assert.deepEqual(c.runUntil(claimedAt + HOUR), [{ at: claimedAt + W * MINUTE, what: 'send reminder' }]);
    });

    it('is sent once per unanswered stretch', () => {
      const c = assignedConversation(on);
      assert.equal(c.runUntil(T0 + SECOND + W * MINUTE).length, 1);
      c.customerSays(T0 + 7 * MINUTE);
      c.customerSays(T0 + 20 * MINUTE);
      assert.equal(c.deadline, null);
      assert.deepEqual(c.runUntil(T0 + 5 * HOUR), []);
      assert.deepEqual(c.loggedNames, ['route auto', 'send reminder']);
    });

    it('an agent reply ends the stretch: no reminder at the old deadline', () => {
      const c = assignedConversation(on);
      c.agentReplies(T0 + SECOND + W * MINUTE - 1);
      assert.equal(c.deadline, null);
      assert.deepEqual(c.runUntil(T0 + HOUR), []);
    });

    it('after an agent reply, the next customer message starts a new stretch with its own reminder', () => {
      const c = assignedConversation(on);
      assert.equal(c.runUntil(T0 + 10 * MINUTE).length, 1);
      c.agentReplies(T0 + 11 * MINUTE);
      const next = T0 + 20 * MINUTE;
      c.customerSays(next);
      assert.equal(c.deadline, next + W * MINUTE);
      assert.deepEqual(c.runUntil(next + HOUR), [{ at: next + W * MINUTE, what: 'send reminder' }]);
      assert.deepEqual(c.loggedNames, ['route auto', 'send reminder', 'reply agent', 'send reminder']);
    });

    it('a transfer gives the new agent the full W', () => {
      const c = assignedConversation(on);
      const transferAt = T0 + 3 * MINUTE;
      c.assigned(AGENT_B, transferAt);
      assert.equal(c.state.agentId, AGENT_B);
      assert.equal(c.deadline, transferAt + W * MINUTE);
      assert.deepEqual(c.tick(T0 + SECOND + W * MINUTE), [], "nothing at the first agent's deadline");
      assert.deepEqual(c.runUntil(T0 + HOUR), [{ at: transferAt + W * MINUTE, what: 'send reminder' }]);
    });

    it('is not sent while unassigned, queued or with the bot', () => {
      for (const status of ['unassigned', 'queued'] as const) {
        const c = new Conversation(settingsWith({ reminder: { enabled: true, waitMinutes: 1 } }));
        c.routed(status, T0 + SECOND);
        c.customerSays(T0 + MINUTE);
        assert.equal(c.deadline, null, status);
        assert.deepEqual(c.runUntil(T0 + 2 * 24 * HOUR), [], status);
      }
      const bot = new Conversation(settingsWith({ routing: { mode: 'bot' }, reminder: { enabled: true, waitMinutes: 1 } }));
      bot.routed('bot', T0 + SECOND);
      assert.deepEqual(
        dueTimers(bot.state).map((t) => t.rule),
        ['bot_timeout'],
      );
    });

    it('is not sent when disabled', () => {
      const c = assignedConversation({ reminder: { enabled: false, waitMinutes: 1 } });
      assert.equal(c.deadline, null);
      assert.deepEqual(c.runUntil(T0 + 24 * HOUR), []);
    });

    it('is not armed when no customer message is waiting for an answer', () => {
      const c = assignedConversation(on);
      c.agentReplies(T0 + MINUTE);
      assert.equal(c.deadline, null);
    });

    it('the maximum W (24 h) is honoured', () => {
      const c = assignedConversation({ reminder: { enabled: true, waitMinutes: 24 * 60 } }, T0);
      assert.deepEqual(c.runUntil(T0 + 2 * 24 * HOUR), [{ at: T0 + 24 * HOUR, what: 'send reminder' }]);
    });
  });

  describe('R8 bot conversations', () => {
    const bot = (patch: SettingsPatch = {}) => {
      const c = new Conversation(settingsWith({ ...patch, routing: { mode: 'bot' } }));
      c.routed('bot', T0 + SECOND);
      return c;
    };

    it('a bot-mode number routes to the bot, which has 10 minutes from entry', () => {
      const c = bot();
      assert.deepEqual(c.loggedNames, ['route bot']);
      assert.equal(c.state.status, 'bot');
      assert.equal(BOT_INACTIVITY_MS, 10 * MINUTE);
      assert.equal(c.deadline, T0 + SECOND + 10 * MINUTE);
    });

    it('each customer message restarts the 10 minutes', () => {
      const c = bot();
      c.customerSays(T0 + 8 * MINUTE);
      assert.equal(c.deadline, T0 + 18 * MINUTE);
      assert.deepEqual(c.tick(T0 + SECOND + 10 * MINUTE), []);
    });

    it('each bot reply is sent as the bot and restarts the 10 minutes', () => {
      const c = bot();
      const commands = c.botReplies(T0 + 4 * MINUTE);
      assert.deepEqual(commands, [{ type: 'send_reply', author: 'bot', agentId: null, message: BOT_TEXT, requestId: `bot-${T0 + 4 * MINUTE}` }]);
      assert.equal(c.deadline, T0 + 14 * MINUTE);
    });

    it('closes as bot_timeout exactly 10 minutes after the last activity, without a survey', () => {
      const c = bot({ csat: { enabled: true } });
      c.botReplies(T0 + 2 * MINUTE);
      assert.deepEqual(c.tick(T0 + 12 * MINUTE - 1), []);
      assert.deepEqual(c.tick(T0 + 12 * MINUTE), [{ type: 'close', reason: 'bot_timeout', agentId: null }]);
      assert.equal(c.state.status, 'closed');
      assert.equal(c.state.closeReason, 'bot_timeout');
      assert.equal(c.deadline, null);
    });

    it('complete: closes as bot_completed, without a survey', () => {
      const c = bot({ csat: { enabled: true } });
      assert.deepEqual(c.apply({ type: 'bot_complete' }, T0 + 3 * MINUTE), [{ type: 'close', reason: 'bot_completed', agentId: null }]);
      assert.equal(c.state.status, 'closed');
      assert.equal(c.state.closeReason, 'bot_completed');
    });

    it('an admin closing a bot conversation does not survey it', () => {
      const c = bot({ csat: { enabled: true } });
      assert.deepEqual(names(c.close('admin', T0 + 3 * MINUTE)), ['close admin']);
    });

    it('handover: routes as R3 auto whatever the number mode, and the bot timer stops', () => {
      const c = bot();
      assert.deepEqual(c.apply({ type: 'bot_handover' }, T0 + 3 * MINUTE), [{ type: 'route', mode: 'auto' }]);
      assert.equal(c.state.status, 'routing');
      assert.equal(c.deadline, null);
      assert.deepEqual(c.runUntil(T0 + HOUR), []);
    });

    it('after a handover to an agent, the conversation is a human one: reminder, auto-close and survey apply', () => {
      const c = bot({ reminder: { enabled: true, waitMinutes: 5 }, autoClose: { enabled: true, afterMinutes: 60 }, csat: { enabled: true } });
      c.customerSays(T0 + 2 * MINUTE);
      c.apply({ type: 'bot_handover' }, T0 + 3 * MINUTE);
      c.routed('assigned', T0 + 3 * MINUTE + 200, AGENT_A);
      assert.deepEqual(c.runUntil(T0 + 9 * MINUTE), [{ at: T0 + 8 * MINUTE + 200, what: 'send reminder' }]);
      c.agentReplies(T0 + 10 * MINUTE);
      assert.deepEqual(c.runUntil(T0 + 3 * HOUR), [
        { at: T0 + 70 * MINUTE, what: 'close auto_close' },
        { at: T0 + 70 * MINUTE, what: 'send csat' },
      ]);
    });

    it('is never auto-closed by R9 nor reminded by R7: the only timer is the fixed 10 minutes', () => {
      const c = bot({
        reminder: { enabled: true, waitMinutes: 1 },
        autoClose: { enabled: true, afterMinutes: 1 },
        unassignedReply: { enabled: true },
      });
      c.customerSays(T0 + MINUTE);
      c.botReplies(T0 + 2 * MINUTE);
      assert.deepEqual(c.runUntil(T0 + HOUR), [{ at: T0 + 12 * MINUTE, what: 'close bot_timeout' }]);
    });

    it('settings changes do not move the fixed 10 minutes', () => {
      const c = bot();
      c.changeSettings({ autoClose: { enabled: true, afterMinutes: 1 }, reminder: { enabled: true, waitMinutes: 1 } }, T0 + MINUTE);
      assert.equal(c.deadline, T0 + SECOND + 10 * MINUTE);
    });
  });

  describe('R9 auto-close', () => {
    const T = 60;
    const on = { autoClose: { enabled: true, afterMinutes: T } } satisfies SettingsPatch;

    it("closes T after the agent's reply when the customer does not answer", () => {
      const c = assignedConversation(on);
      const reply = T0 + 2 * MINUTE;
      c.agentReplies(reply);
      assert.deepEqual(dueTimers(c.state), [{ rule: 'auto_close', at: reply + T * MINUTE }]);
      assert.deepEqual(c.tick(reply + T * MINUTE - 1), []);
      assert.deepEqual(c.tick(reply + T * MINUTE), [{ type: 'close', reason: 'auto_close', agentId: AGENT_A }]);
      assert.equal(c.state.status, 'closed');
      assert.equal(c.state.closeReason, 'auto_close');
    });

    it('each agent reply moves the deadline', () => {
      const c = assignedConversation(on);
      c.agentReplies(T0 + 2 * MINUTE);
      c.agentReplies(T0 + 40 * MINUTE);
      assert.equal(c.deadline, T0 + 40 * MINUTE + T * MINUTE);
      assert.deepEqual(c.tick(T0 + 2 * MINUTE + T * MINUTE), []);
    });

    it('a customer reply cancels it', () => {
      const c = assignedConversation(on);
      c.agentReplies(T0 + 2 * MINUTE);
      c.customerSays(T0 + 50 * MINUTE);
      assert.equal(c.deadline, null);
      assert.deepEqual(c.runUntil(T0 + 3 * 24 * HOUR), []);
    });

    it("an agent reply after the customer's answer re-arms it from that reply", () => {
      const c = assignedConversation(on);
      c.agentReplies(T0 + 2 * MINUTE);
      c.customerSays(T0 + 50 * MINUTE);
      c.agentReplies(T0 + 55 * MINUTE);
      assert.deepEqual(c.runUntil(T0 + 5 * HOUR), [{ at: T0 + 55 * MINUTE + T * MINUTE, what: 'close auto_close' }]);
    });

    it('is not armed while the customer spoke last; an automated reminder does not count as an agent reply', () => {
      const c = assignedConversation({ ...on, reminder: { enabled: true, waitMinutes: 5 } });
      assert.deepEqual(c.runUntil(T0 + 3 * 24 * HOUR), [{ at: T0 + SECOND + 5 * MINUTE, what: 'send reminder' }]);
      assert.equal(c.state.status, 'assigned');
    });

    it('unassigned and queued conversations are never auto-closed', () => {
      for (const status of ['unassigned', 'queued'] as const) {
        const c = new Conversation(settingsWith({ autoClose: { enabled: true, afterMinutes: 1 } }));
        c.routed(status, T0 + SECOND);
        assert.equal(c.deadline, null, status);
        assert.deepEqual(c.runUntil(T0 + 4 * 24 * HOUR), [], status);
        assert.equal(c.state.status, status);
      }
    });

    it('is not armed when disabled', () => {
      const c = assignedConversation({ autoClose: { enabled: false, afterMinutes: 1 } });
      c.agentReplies(T0 + MINUTE);
      assert.equal(c.deadline, null);
      assert.deepEqual(c.runUntil(T0 + 4 * 24 * HOUR), []);
    });

    it('the longest time (72 h) is honoured', () => {
      const c = assignedConversation({ autoClose: { enabled: true, afterMinutes: 72 * 60 } });
      c.agentReplies(T0 + MINUTE);
      assert.deepEqual(c.runUntil(T0 + 5 * 24 * HOUR), [{ at: T0 + MINUTE + 72 * HOUR, what: 'close auto_close' }]);
    });
  });

  describe('R10 satisfaction survey', () => {
    const on = { csat: { enabled: true } } satisfies SettingsPatch;

    it('is sent when the assigned agent closes the conversation, after the close', () => {
      const c = assignedConversation(on);
      const commands = c.close('agent', T0 + 10 * MINUTE);
      assert.deepEqual(names(commands), ['close agent', 'send csat']);
      assert.deepEqual(commands[0], { type: 'close', reason: 'agent', agentId: AGENT_A });
    });

    it('R16: when the window has closed and csat.template is set, then the survey is the template, its buttons the five scores', () => {
      const c = assignedConversation({ csat: { enabled: true, template: { name: 'csat_survey', language: 'en' } } });
      const commands = c.close('agent', T0 + 24 * HOUR + SECOND);
      assert.deepEqual(names(commands), ['close agent', 'send csat']);
      const message = find(commands, 'send_automation').message as {
        type: string;
        template: { name: string; components: { parameters: { payload: string }[] }[] };
      };
      assert.equal(message.type, 'template');
      assert.equal(message.template.name, 'csat_survey');
      assert.deepEqual(
        message.template.components.map((b) => parseCsatRowId(b.parameters[0].payload)?.score),
        [5, 4, 3, 2, 1],
      );
    });

    it('R16: when the window is still open (exactly 24 h), then the list survey is sent even with a template set', () => {
      const c = assignedConversation({ csat: { enabled: true, template: { name: 'csat_survey', language: 'en' } } });
      const commands = c.close('agent', T0 + 24 * HOUR);
      assert.equal((find(commands, 'send_automation').message as { type: string }).type, 'interactive');
    });

    it('R16: when the window has closed and no template is set, then the survey is skipped with the reason', () => {
      const c = assignedConversation(on);
      const commands = c.close('agent', T0 + 24 * HOUR + SECOND);
      assert.deepEqual(names(commands), ['close agent', 'skip csat']);
    });

    it('is sent when an admin closes an assigned conversation', () => {
      const c = assignedConversation(on);
      const commands = c.close('admin', T0 + 10 * MINUTE);
      assert.deepEqual(names(commands), ['close admin', 'send csat']);
      assert.equal(find(commands, 'close').agentId, AGENT_A, 'the close names the agent who held it');
    });

    it('is sent when R9 auto-closes the conversation', () => {
      const c = assignedConversation({ ...on, autoClose: { enabled: true, afterMinutes: 30 } });
      c.agentReplies(T0 + MINUTE);
      assert.deepEqual(c.runUntil(T0 + HOUR), [
        { at: T0 + 31 * MINUTE, what: 'close auto_close' },
        { at: T0 + 31 * MINUTE, what: 'send csat' },
      ]);
    });

    it('is sent to the agent holding the conversation at close, after a transfer', () => {
      const c = assignedConversation(on);
      c.assigned(AGENT_B, T0 + 5 * MINUTE);
      const commands = c.close('agent', T0 + 10 * MINUTE);
      assert.deepEqual(names(commands), ['close agent', 'send csat']);
      assert.equal(find(commands, 'close').agentId, AGENT_B);
    });

    it('is not sent when disabled', () => {
      const c = assignedConversation({ csat: { enabled: false } });
      assert.deepEqual(names(c.close('agent', T0 + 10 * MINUTE)), ['close agent']);
    });

    it('is not sent for conversations closed while unassigned or queued', () => {
      for (const status of ['unassigned', 'queued'] as const) {
        const c = new Conversation(settingsWith(on));
        c.routed(status, T0 + SECOND);
        assert.deepEqual(names(c.close('admin', T0 + 10 * MINUTE)), ['close admin'], status);
      }
    });

    it('is not sent for bot conversations, however they end', () => {
      const ends: [string, (c: Conversation) => ConversationCommand[]][] = [
        ['complete', (c) => c.apply({ type: 'bot_complete' }, T0 + MINUTE)],
        ['timeout', (c) => c.tick(T0 + SECOND + BOT_INACTIVITY_MS)],
        ['admin', (c) => c.close('admin', T0 + MINUTE)],
      ];
      for (const [how, end] of ends) {
        const c = new Conversation(settingsWith({ ...on, routing: { mode: 'bot' } }));
        c.routed('bot', T0 + SECOND);
        const commands = end(c);
        assert.equal(commands.length, 1, how);
        assert.equal(commands[0].type, 'close', how);
      }
    });

    it('is an interactive list with the configured texts and five fixed rows, 5 to 1, whose ids parse back', () => {
      const c = assignedConversation(on);
      const survey = find(c.close('agent', T0 + 10 * MINUTE), 'send_automation');
      assert.equal(survey.automation, 'csat');
      const message = survey.message as {
        type: string;
        interactive: {
          type: string;
          header?: unknown;
          body: { text: string };
          action: { button: string; sections: { title?: string; rows: { id: string; title: string; description?: string }[] }[] };
        };
      };
      assert.equal(message.type, 'interactive');
      assert.equal(message.interactive.type, 'list');
      assert.equal(message.interactive.header, undefined);
      assert.equal(message.interactive.body.text, SURVEY_BODY);
      assert.equal(message.interactive.action.button, SURVEY_BUTTON);
      assert.equal(message.interactive.action.sections.length, 1);
      const rows = message.interactive.action.sections[0].rows;
      assert.deepEqual(
        rows.map((r) => r.title),
        ['5 Very satisfied', '4 Satisfied', '3 Neutral', '2 Dissatisfied', '1 Very dissatisfied'],
      );
      assert.deepEqual(
        rows.map((r) => parseCsatRowId(r.id)),
        [5, 4, 3, 2, 1].map((score) => ({ conversationId: CONVERSATION_ID, score })),
      );
      assert.deepEqual(
        rows.map((r) => r.id),
        [5, 4, 3, 2, 1].map((score) => csatRowId(CONVERSATION_ID, score)),
      );
      assert.deepEqual(
        CSAT_OPTIONS.map((o) => o.score),
        [5, 4, 3, 2, 1],
      );
      // Within the list limits of SPEC §4.
      assert.equal(new Set(rows.map((r) => r.id)).size, 5);
      for (const r of rows) {
        assert.ok(r.id.length >= 1 && r.id.length <= 200, r.id);
        assert.ok(r.title.length >= 1 && r.title.length <= 24, r.title);
      }
    });

    it('uses the body and button text in force when it is sent', () => {
      const c = assignedConversation(on);
      c.changeSettings({ csat: { enabled: true, body: 'Rate Ada', buttonText: 'Choose' } }, T0 + MINUTE);
      const survey = find(c.close('agent', T0 + 10 * MINUTE), 'send_automation');
      const interactive = (survey.message as unknown as { interactive: { body: { text: string }; action: { button: string } } }).interactive;
      assert.equal(interactive.body.text, 'Rate Ada');
      assert.equal(interactive.action.button, 'Choose');
    });

    it('parseCsatRowId refuses ids that are not survey rows', () => {
      for (const id of [
        '',
        `${CONVERSATION_ID}:5`,
        `csat:${CONVERSATION_ID}:0`,
        `csat:${CONVERSATION_ID}:6`,
        `csat:${CONVERSATION_ID}:5:extra`,
        `csat:${CONVERSATION_ID}:55`,
        'csat:not-a-conversation:5',
        `CSAT:${CONVERSATION_ID}:5`,
        'order:1234',
      ]) {
        assert.equal(parseCsatRowId(id), null, id);
      }
    });
  });

  describe('R11 customer-service window', () => {
    it('an automation due exactly 24 h after the last window-opening message is still sent', () => {
      const c = assignedConversation({ reminder: { enabled: true, waitMinutes: 24 * 60 } }, T0);
      assert.equal(c.deadline, T0 + SERVICE_WINDOW_MS);
      assert.deepEqual(names(c.tick(T0 + SERVICE_WINDOW_MS)), ['send reminder']);
    });

    it('one millisecond later it is not sent but recorded as a skip, with the message and the reason', () => {
      const c = assignedConversation({ reminder: { enabled: true, waitMinutes: 24 * 60 } }, T0 + 1);
      const commands = c.tick(T0 + SERVICE_WINDOW_MS + 1);
      assert.equal(commands.length, 1);
      const skip = find(commands, 'skip');
      assert.equal(skip.automation, 'reminder');
      assert.deepEqual(skip.message, REMINDER);
      assert.match(skip.reason, /24-hour/);
      assert.match(skip.reason, /window/);
      assert.equal(c.state.reminderSentInStretch, true, 'a skipped reminder is not retried');
      assert.equal(c.deadline, null);
    });

    it('a timer is judged at its deadline when it fires on time (within a second), and at the moment it fires when overdue', () => {
      const onTime = assignedConversation({ reminder: { enabled: true, waitMinutes: 24 * 60 } }, T0);
      assert.deepEqual(names(onTime.tick(T0 + SERVICE_WINDOW_MS + 500)), ['send reminder'], 'due at exactly 24 h, fired 0.5 s late');
      const overdue = assignedConversation({ reminder: { enabled: true, waitMinutes: 24 * 60 } }, T0);
      assert.deepEqual(names(overdue.tick(T0 + SERVICE_WINDOW_MS + 5 * SECOND)), ['skip reminder'], 'the window had closed when it finally fired');
      const autoClosed = assignedConversation({ csat: { enabled: true }, autoClose: { enabled: true, afterMinutes: 1 } });
      autoClosed.agentReplies(T0 + SERVICE_WINDOW_MS - MINUTE);
      assert.deepEqual(names(autoClosed.tick(T0 + SERVICE_WINDOW_MS + 300)), ['close auto_close', 'send csat']);
    });

    it('the survey at close: sent at exactly 24 h, skipped one millisecond later', () => {
      const atLimit = assignedConversation({ csat: { enabled: true } });
      assert.deepEqual(names(atLimit.close('agent', T0 + SERVICE_WINDOW_MS)), ['close agent', 'send csat']);
      const late = assignedConversation({ csat: { enabled: true } });
      assert.deepEqual(names(late.close('agent', T0 + SERVICE_WINDOW_MS + 1)), ['close agent', 'skip csat']);
    });

    it('an auto-close long after the last customer message closes, and the survey is skipped', () => {
      const c = assignedConversation({ csat: { enabled: true }, autoClose: { enabled: true, afterMinutes: 24 * 60 } });
      c.agentReplies(T0 + 2 * HOUR);
      assert.deepEqual(c.runUntil(T0 + 3 * 24 * HOUR), [
        { at: T0 + 26 * HOUR, what: 'close auto_close' },
        { at: T0 + 26 * HOUR, what: 'skip csat' },
      ]);
    });

    it('is measured from the time the customer sent the message (Meta timestamp), not when it was processed', () => {
      const c = new Conversation(settingsWith({ csat: { enabled: true } }), { at: T0 + 10 * MINUTE, sentAt: T0 });
      c.routed('assigned', T0 + 10 * MINUTE);
      assert.equal(c.state.lastCustomerMessageAt, T0);
      assert.deepEqual(names(c.close('agent', T0 + SERVICE_WINDOW_MS + 1)), ['close agent', 'skip csat']);
    });

    it('each window-opening customer message extends it', () => {
      const c = assignedConversation({ csat: { enabled: true } });
      c.customerSays(T0 + 20 * HOUR);
      assert.deepEqual(names(c.close('agent', T0 + 20 * HOUR + SERVICE_WINDOW_MS)), ['close agent', 'send csat']);
    });

    it('messages that do not open the window do not extend it', () => {
      const c = assignedConversation({ csat: { enabled: true } });
      c.customerSays(T0 + 20 * HOUR, { opensServiceWindow: false });
      assert.equal(c.state.lastCustomerMessageAt, T0);
      assert.equal(isWithinServiceWindow(c.state.lastCustomerMessageAt, T0 + SERVICE_WINDOW_MS + 1), false);
      assert.deepEqual(names(c.close('agent', T0 + SERVICE_WINDOW_MS + 1)), ['close agent', 'skip csat']);
    });

    it('an older message delivered late does not pull the window back', () => {
      const c = assignedConversation({ csat: { enabled: true } });
      c.customerSays(T0 + 5 * HOUR);
      c.customerSays(T0 + 6 * HOUR, { sentAt: T0 + HOUR });
      assert.equal(c.state.lastCustomerMessageAt, T0 + 5 * HOUR);
      assert.deepEqual(names(c.close('agent', T0 + 5 * HOUR + SERVICE_WINDOW_MS)), ['close agent', 'send csat']);
    });

    it('the welcome is a service message too: skipped when the first message is already more than 24 h old', () => {
      const c = new Conversation(settingsWith({ welcome: { enabled: true } }), { isFirstContact: true, sentAt: T0 - SERVICE_WINDOW_MS - 1 });
      assert.deepEqual(names(c.firstMessageCommands), ['skip welcome']);
    });

    it('a conversation with no window-opening message at all gets no automated message', () => {
      const c = new Conversation(settingsWith({ unassignedReply: { enabled: true, delaySeconds: 0 } }), { opensServiceWindow: false });
      assert.equal(c.state.lastCustomerMessageAt, null);
      assert.deepEqual(names(c.routed('unassigned', T0 + SECOND)), ['skip unassigned_reply']);
    });

    it('agent and bot replies are not automations: the machine does not gate them', () => {
      const c = assignedConversation({});
      assert.deepEqual(names(c.agentReplies(T0 + 2 * SERVICE_WINDOW_MS)), ['reply agent']);
    });
  });

  describe('R12 settings changes apply to open conversations', () => {
    it('a longer reminder wait moves the deadline from the same starting moment', () => {
      const c = assignedConversation({ reminder: { enabled: true, waitMinutes: 5 } });
      assert.deepEqual(
        c.changeSettings({ reminder: { enabled: true, waitMinutes: 10 } }, T0 + 2 * MINUTE),
        [],
        'a settings change commands nothing by itself',
      );
      assert.equal(c.deadline, T0 + SECOND + 10 * MINUTE);
      assert.deepEqual(c.runUntil(T0 + HOUR), [{ at: T0 + SECOND + 10 * MINUTE, what: 'send reminder' }]);
    });

    it('a shorter wait that has already elapsed fires at the next tick', () => {
      const c = assignedConversation({ reminder: { enabled: true, waitMinutes: 5 } });
      const changeAt = T0 + 4 * MINUTE;
      c.changeSettings({ reminder: { enabled: true, waitMinutes: 2 } }, changeAt);
      assert.equal(c.deadline, T0 + SECOND + 2 * MINUTE, 'measured from the same moment, so already due');
      // The workflow ticks right after applying the signal.
      assert.deepEqual(names(c.tick(changeAt)), ['send reminder']);
    });

    it('a new auto-close time is measured from the same agent reply', () => {
      const c = assignedConversation({ autoClose: { enabled: true, afterMinutes: 60 } });
      c.agentReplies(T0 + 10 * MINUTE);
      c.changeSettings({ autoClose: { enabled: true, afterMinutes: 120 } }, T0 + 30 * MINUTE);
      assert.equal(c.deadline, T0 + 130 * MINUTE);
      c.changeSettings({ autoClose: { enabled: true, afterMinutes: 15 } }, T0 + 40 * MINUTE);
      assert.equal(c.deadline, T0 + 25 * MINUTE);
      assert.deepEqual(names(c.tick(T0 + 40 * MINUTE)), ['close auto_close']);
    });

    it('a new unassigned-reply delay is measured from the same entry', () => {
      const c = new Conversation(settingsWith({ unassignedReply: { enabled: true, delaySeconds: 60 } }));
      const entry = T0 + SECOND;
      c.routed('unassigned', entry);
      c.changeSettings({ unassignedReply: { enabled: true, delaySeconds: 300 } }, entry + 30 * SECOND);
      assert.equal(c.deadline, entry + 300 * SECOND);
      assert.deepEqual(c.tick(entry + 60 * SECOND), []);
      assert.deepEqual(c.runUntil(entry + HOUR), [{ at: entry + 300 * SECOND, what: 'send unassigned_reply' }]);
    });

    it('disabling a rule removes its timer', () => {
      const reminder = assignedConversation({ reminder: { enabled: true, waitMinutes: 5 } });
      reminder.changeSettings({ reminder: { enabled: false } }, T0 + MINUTE);
      assert.equal(reminder.deadline, null);
      assert.deepEqual(reminder.runUntil(T0 + 24 * HOUR), []);

      const autoClose = assignedConversation({ autoClose: { enabled: true, afterMinutes: 60 } });
      autoClose.agentReplies(T0 + MINUTE);
      autoClose.changeSettings({ autoClose: { enabled: false } }, T0 + 2 * MINUTE);
      assert.equal(autoClose.deadline, null);
      assert.deepEqual(autoClose.runUntil(T0 + 4 * 24 * HOUR), []);
      assert.equal(autoClose.state.status, 'assigned');

      const unassigned = new Conversation(settingsWith({ unassignedReply: { enabled: true, delaySeconds: 120 } }));
      unassigned.routed('unassigned', T0 + SECOND);
      unassigned.changeSettings({ unassignedReply: { enabled: false } }, T0 + MINUTE);
      assert.equal(unassigned.deadline, null);
      assert.deepEqual(unassigned.runUntil(T0 + HOUR), []);
    });

    it('re-enabling the reminder re-arms it from the same starting moment', () => {
      const c = assignedConversation({ reminder: { enabled: true, waitMinutes: 5 } });
      c.changeSettings({ reminder: { enabled: false } }, T0 + MINUTE);
      c.changeSettings({ reminder: { enabled: true, waitMinutes: 10 } }, T0 + 2 * MINUTE);
      assert.equal(c.deadline, T0 + SECOND + 10 * MINUTE);
    });

    it('an unassigned reply disabled while owed is forgotten, not sent when re-enabled', () => {
      const c = new Conversation(settingsWith({ unassignedReply: { enabled: true, delaySeconds: 120 } }));
      c.routed('unassigned', T0 + SECOND);
      c.changeSettings({ unassignedReply: { enabled: false } }, T0 + MINUTE);
      c.changeSettings({ unassignedReply: { enabled: true } }, T0 + 90 * SECOND);
      assert.equal(c.deadline, null);
      assert.deepEqual(c.runUntil(T0 + HOUR), []);
    });

    it('the message sent is the one in force when the timer fires', () => {
      const c = assignedConversation({ reminder: { enabled: true, waitMinutes: 5 } });
      const updated = text('Still with us? Ada will answer shortly.');
      c.changeSettings({ reminder: { enabled: true, waitMinutes: 5, message: updated } }, T0 + MINUTE);
      assert.deepEqual(c.runUntil(T0 + HOUR).length, 1);
      assert.deepEqual(
        find(
          c.log.map((l) => l.command),
          'send_automation',
        ).message,
        updated,
      );
    });

    it('turning the survey on while a conversation is open applies at its close', () => {
      const c = assignedConversation({ csat: { enabled: false } });
      c.changeSettings({ csat: { enabled: true } }, T0 + MINUTE);
      assert.deepEqual(names(c.close('agent', T0 + 10 * MINUTE)), ['close agent', 'send csat']);
    });
  });

  describe('conversation actions: who may do what in which status (SPEC §6)', () => {
    const REQUESTS: ConversationRequest[] = [
      { type: 'claim', agentId: AGENT_A },
      { type: 'assign', agentId: AGENT_A },
      { type: 'agent_reply', agentId: AGENT_A, message: AGENT_TEXT },
      { type: 'close', agentId: AGENT_A },
      { type: 'close', agentId: null },
      { type: 'bot_reply', message: BOT_TEXT },
      { type: 'bot_handover' },
      { type: 'bot_complete' },
    ];
    const inStatus = (status: 'bot' | 'unassigned' | 'queued' | 'assigned', agentId: string | null = status === 'assigned' ? AGENT_A : null) => {
      const c = new Conversation(settingsWith());
      c.routed(status, T0, agentId);
      return c.state;
    };
    const label = (r: ConversationRequest) => `${r.type}${'agentId' in r ? (r.agentId ? ' by an agent' : ' by an admin') : ''}`;

    for (const status of ['bot', 'unassigned', 'queued', 'assigned'] as const) {
      for (const request of REQUESTS) {
        const allowedHere = REQUEST_ALLOWED_IN[request.type].includes(status);
        it(`when a conversation is ${status}, then ${label(request)} is ${allowedHere ? 'not refused by its status' : 'refused, naming the status'}`, () => {
          const verdict = judgeRequest(inStatus(status), CONVERSATION_ID, request);
          if (!allowedHere) {
            assert.deepEqual(verdict, {
              verdict: 'refused',
              reason: `the conversation is ${status}, not ${REQUEST_ALLOWED_IN[request.type].join(' or ')}`,
            });
          } else {
            assert.ok(verdict.verdict !== 'refused' || !verdict.reason.startsWith(`the conversation is ${status}`), JSON.stringify(verdict));
          }
        });
      }
    }

    describe('R16: free-form agent replies and templates against the 24-hour window', () => {
      const TEMPLATE = { type: 'template', template: { name: 'order_update', language: { code: 'en' } } };
      const assigned = () => inStatus('assigned');
      const lastCustomer = () => assigned().lastCustomerMessageAt!;
      const reply = (message: typeof AGENT_TEXT): ConversationRequest => ({ type: 'agent_reply', agentId: AGENT_A, message });

      it('when exactly 24 h have passed since the customer wrote, then a free-form reply is still allowed', () => {
        assert.deepEqual(judgeRequest(assigned(), CONVERSATION_ID, reply(AGENT_TEXT), lastCustomer() + 24 * HOUR), { verdict: 'allowed' });
      });

      it('when 24 h and 1 ms have passed, then a free-form reply is refused saying a template is needed', () => {
        assert.deepEqual(judgeRequest(assigned(), CONVERSATION_ID, reply(AGENT_TEXT), lastCustomer() + 24 * HOUR + 1), {
          verdict: 'refused',
          reason: FREE_FORM_OUTSIDE_WINDOW,
        });
        assert.match(FREE_FORM_OUTSIDE_WINDOW, /template/);
      });

      it('when the window has closed, then a template reply is allowed; and inside it too', () => {
        assert.deepEqual(judgeRequest(assigned(), CONVERSATION_ID, reply(TEMPLATE), lastCustomer() + 30 * 24 * HOUR), { verdict: 'allowed' });
        assert.deepEqual(judgeRequest(assigned(), CONVERSATION_ID, reply(TEMPLATE), lastCustomer() + MINUTE), { verdict: 'allowed' });
      });

      it('when another agent replies outside the window, then the refusal names the holder first', () => {
        const other: ConversationRequest = { type: 'agent_reply', agentId: AGENT_B, message: AGENT_TEXT };
        const verdict = judgeRequest(assigned(), CONVERSATION_ID, other, lastCustomer() + 48 * HOUR);
        assert.deepEqual(verdict, { verdict: 'refused', reason: `the conversation is assigned to ${AGENT_A}, not ${AGENT_B}` });
      });

      it('when no time is given (the main loop judging again at its turn), then the window is not judged', () => {
        assert.deepEqual(judgeRequest(assigned(), CONVERSATION_ID, reply(AGENT_TEXT)), { verdict: 'allowed' });
      });
    });

    it('when the conversation is closed, named by an older id or not opened, then every action is refused as closed', () => {
      const closed = new Conversation(settingsWith());
      closed.routed('assigned', T0);
      closed.close('agent', T0 + SECOND);
      for (const request of REQUESTS) {
        for (const [state, id] of [
          [closed.state, CONVERSATION_ID],
          [inStatus('assigned'), '00000000-0000-4000-8000-000000000000'],
          [null, CONVERSATION_ID],
        ] as const) {
          assert.deepEqual(judgeRequest(state, id, request), { verdict: 'refused', reason: 'the conversation is closed' }, label(request));
        }
      }
    });

    it('when routing is under way, then every action waits for its outcome', () => {
      const c = new Conversation(settingsWith());
      assert.equal(c.state.status, 'routing');
      for (const request of REQUESTS) assert.deepEqual(judgeRequest(c.state, CONVERSATION_ID, request), { verdict: 'wait' }, label(request));
    });

    it('when another agent holds the conversation, then an agent may neither reply nor close, and an admin may close', () => {
      const state = inStatus('assigned', AGENT_B);
      for (const request of [REQUESTS[2], REQUESTS[3]]) {
        assert.deepEqual(judgeRequest(state, CONVERSATION_ID, request), {
          verdict: 'refused',
          reason: `the conversation is assigned to ${AGENT_B}, not ${AGENT_A}`,
        });
      }
      assert.deepEqual(judgeRequest(state, CONVERSATION_ID, { type: 'close', agentId: null }), { verdict: 'allowed' });
      assert.deepEqual(judgeRequest(state, CONVERSATION_ID, { type: 'assign', agentId: AGENT_A }), { verdict: 'allowed' }, 'an admin transfers');
    });

    it('when the agent holds the conversation, then they may reply and close', () => {
      for (const request of [REQUESTS[2], REQUESTS[3]])
        assert.deepEqual(judgeRequest(inStatus('assigned'), CONVERSATION_ID, request), { verdict: 'allowed' });
    });

    it('when an agent acts on a waiting conversation, then the database is asked whether it is already theirs', () => {
      for (const status of ['queued', 'unassigned'] as const) {
        for (const request of [REQUESTS[2], REQUESTS[3]]) {
          assert.deepEqual(
            judgeRequest(inStatus(status), CONVERSATION_ID, request),
            { verdict: 'confirm_assignment', agentId: AGENT_A },
            `${status} ${label(request)}`,
          );
        }
      }
    });

    it('when an agent closes a bot conversation, then it is refused: only an admin or the bot ends it', () => {
      const verdict = judgeRequest(inStatus('bot'), CONVERSATION_ID, { type: 'close', agentId: AGENT_A });
      assert.equal(verdict.verdict, 'refused');
      assert.deepEqual(judgeRequest(inStatus('bot'), CONVERSATION_ID, { type: 'close', agentId: null }), { verdict: 'allowed' });
    });
  });

  describe('the opening sequence', () => {
    it('when a conversation opens with a first message from a new contact, then the welcome comes before routing', () => {
      const opening = openConversation(
        { conversationId: CONVERSATION_ID, phoneNumberId: 'p', contactId: 'c', settings: settingsWith({ welcome: { enabled: true } }), now: T0 },
        { messageId: 'm1', sentAt: T0, opensServiceWindow: true, isFirstContact: true },
        T0 + SECOND,
      );
      assert.deepEqual(names(opening.onFirstMessage), ['send welcome']);
      assert.deepEqual(names(opening.routing), ['route auto']);
      assert.equal(opening.state.status, 'routing');
      assert.equal(opening.state.unansweredSince, T0 + SECOND, 'R7 counts from the first message');
      assert.equal(opening.state.openedAt, T0);
    });

    it('when a conversation opens without a message, then it only routes', () => {
      const opening = openConversation(
        { conversationId: CONVERSATION_ID, phoneNumberId: 'p', contactId: 'c', settings: settingsWith({ routing: { mode: 'bot' } }), now: T0 },
        null,
        T0,
      );
      assert.deepEqual([names(opening.onFirstMessage), names(opening.routing)], [[], ['route bot']]);
      assert.equal(opening.state.unansweredSince, null);
    });
  });

  describe('state is plain JSON (it must survive continue-as-new)', () => {
    it('round-trips through JSON unchanged at every step of a long conversation, and resumes identically', () => {
      const everything = settingsWith({
        routing: { mode: 'bot' },
        welcome: { enabled: true },
        unassignedReply: { enabled: true, delaySeconds: 30 },
        queueReply: { enabled: true },
        reminder: { enabled: true, waitMinutes: 5 },
        autoClose: { enabled: true, afterMinutes: 60 },
        csat: { enabled: true },
      });
      const c = new Conversation(everything, { isFirstContact: true });
      const check = (label: string) => assert.deepEqual(plainJson(c.state), c.state, label);
      check('opened');
      let t = T0;
      const at = (ms: number) => (t += ms);
      c.routed('bot', at(SECOND));
      check('bot');
      c.botReplies(at(MINUTE));
      c.customerSays(at(MINUTE));
      c.customerSays(at(SECOND), { opensServiceWindow: false });
      check('bot exchange');
      c.apply({ type: 'bot_handover' }, at(MINUTE));
      check('handover');
      c.routed('queued', at(100));
      check('queued');
      c.assigned(AGENT_A, at(10 * MINUTE));
      check('assigned');
      c.runUntil(at(6 * MINUTE));
      check('reminder sent');
      for (let i = 0; i < 250; i++) {
        c.agentReplies(at(SECOND));
        c.customerSays(at(SECOND));
        c.customerSays(t, { messageId: `msg-${i % 3}` });
      }
      check('many messages');
      c.assigned(AGENT_B, at(MINUTE));
      c.changeSettings({ reminder: { enabled: true, waitMinutes: 15 }, autoClose: { enabled: true, afterMinutes: 120 } }, at(MINUTE));
      check('transfer and settings change');

      // A resumed machine (continue-as-new) behaves exactly like the original.
      const resumed = plainJson(c.state);
      const events: [ConversationEvent, number][] = [
        [{ type: 'agent_reply', agentId: AGENT_B, message: AGENT_TEXT, requestId: 'after' }, at(MINUTE)],
        [{ type: 'tick' }, at(3 * HOUR)],
      ];
      let original = c.state;
      let copy = resumed;
      for (const [event, when] of events) {
        const a = step(original, event, when);
        const b = step(copy, event, when);
        assert.deepEqual(b, a);
        original = a.state;
        copy = b.state;
      }
      assert.equal(original.status, 'closed');
      assert.equal(original.closeReason, 'auto_close');
      assert.deepEqual(plainJson(original), original);
    });
  });
});
