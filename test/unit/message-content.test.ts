import assert from 'node:assert/strict';
import { z } from 'zod';
import {
  describeMessageContent,
  fillQueuePlaceholders,
  hasQueuePlaceholders,
  iceBreakerPromptsSchema,
  messageContentSchema,
  validateMessageContent,
  zodIssuesToFieldIssues,
  type FieldIssue,
  type MessageContent,
} from '../../src/whatsapp/message-content';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function expectOk(value: unknown): MessageContent {
  const result = validateMessageContent(value);
  if (!result.ok) assert.fail(`expected valid content, got ${JSON.stringify(result.issues)}`);
  return result.value;
}

function issuesOf(value: unknown): FieldIssue[] {
  const result = validateMessageContent(value);
  if (result.ok) assert.fail(`expected issues, but ${JSON.stringify(value).slice(0, 200)} was accepted`);
  return result.issues;
}

/** Asserts an issue exists at exactly `field` and its message mentions every `mentions`. */
function expectIssue(value: unknown, field: string, ...mentions: string[]): FieldIssue {
  const issues = issuesOf(value);
  const hit = issues.find((i) => i.field === field);
  if (!hit) assert.fail(`expected an issue at ${field}, got ${JSON.stringify(issues)}`);
  for (const m of mentions) assert.ok(hit.message.includes(m), `message ${JSON.stringify(hit.message)} should mention ${JSON.stringify(m)}`);
  return hit;
}

function promptIssues(value: unknown): FieldIssue[] {
  const result = iceBreakerPromptsSchema.safeParse(value);
  if (result.success) assert.fail(`expected prompts ${JSON.stringify(value)} to be rejected`);
  return zodIssuesToFieldIssues(result.error, 'prompts');
}

const s = (n: number, ch = 'a') => ch.repeat(n);

/**
 * For a `min–max` character limit: max accepted, max+1 rejected naming the field and the
 * limit, and (for min 1) the empty string rejected too.
 */
function characterLimit(label: string, max: number, field: string, make: (value: string) => unknown): void {
  describe(`${label} (1–${max} characters)`, () => {
    it(`accepts exactly ${max}`, () => {
      expectOk(make(s(max)));
    });
    it(`accepts 1`, () => {
      expectOk(make('x'));
    });
    it(`rejects ${max + 1} at ${field}`, () => {
      expectIssue(make(s(max + 1)), field, `1–${max}`, `(got ${max + 1})`);
    });
    it(`rejects the empty string at ${field}`, () => {
      expectIssue(make(''), field, `1–${max}`, '(got 0)');
    });
  });
}

// Message builders: valid by default, one part overridden per test.

const text = (body: string, extra: Record<string, unknown> = {}) => ({ type: 'text', text: { body, ...extra } });

const reply = (title: string, id = `id-${title}`) => ({ type: 'reply', reply: { id, title } });

const buttonMessage = (over: Record<string, unknown> = {}) => ({
  type: 'interactive',
  interactive: {
    type: 'button',
    body: { text: 'Did that solve it?' },
    action: { buttons: [reply('Yes'), reply('No')] },
    ...over,
  },
});

const ctaMessage = (over: Record<string, unknown> = {}, params: Record<string, unknown> = {}) => ({
  type: 'interactive',
  interactive: {
    type: 'cta_url',
    body: { text: 'Track your order online' },
    action: { name: 'cta_url', parameters: { display_text: 'Track order', url: 'https://shop.example.com/track?o=1', ...params } },
    ...over,
  },
});

type Row = { id: string; title: string; description?: string };
type Section = { title?: string; rows: Row[] };

const rows = (n: number, prefix = 'r'): Row[] => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, title: `Option ${i}` }));

const listMessage = (over: Record<string, unknown> = {}, action: Record<string, unknown> = {}) => ({
  type: 'interactive',
  interactive: {
    type: 'list',
    body: { text: 'How satisfied are you?' },
    action: { button: 'Choose', sections: [{ title: 'Rating', rows: rows(5) }] as Section[], ...action },
    ...over,
  },
});

const oneRowList = (row: Partial<Row>) => listMessage({}, { sections: [{ rows: [{ id: 'r1', title: 'Row', ...row }] }] });
const oneSectionList = (section: Partial<Section>) => listMessage({}, { sections: [{ rows: rows(2), ...section }] });

const media = (type: 'image' | 'video' | 'document', object: Record<string, unknown>) => ({ type, [type]: object });

// ---------------------------------------------------------------------------

describe('message content validator', () => {
  describe('text', () => {
    characterLimit('text body', 4096, 'message.text.body', (body) => text(body));

    it('counts UTF-16 code units, so 2048 emoji (4096 units) fit and 2049 do not', () => {
      expectOk(text(s(2048, '😀')));
      expectIssue(text(s(2049, '😀')), 'message.text.body', '1–4096', '(got 4098)');
    });

    it('accepts WhatsApp formatting and emoji in the body', () => {
      const body = 'Hi *there* _friend_, ~old~ ```mono``` `code` 😀🇧🇷❤️1️⃣\n* item\n> quote';
      assert.deepEqual(expectOk(text(body)), { type: 'text', text: { body } });
    });

    it('accepts preview_url and rejects a non-boolean one', () => {
      expectOk(text('See https://example.com', { preview_url: true }));
      expectIssue(text('x', { preview_url: 'yes' }), 'message.text.preview_url', 'true or false');
    });

    it('reports a missing body as required', () => {
      expectIssue({ type: 'text', text: {} }, 'message.text.body', 'required');
      expectIssue({ type: 'text' }, 'message.text', 'required');
    });

    it('rejects a non-string body', () => {
      expectIssue(text(42 as unknown as string), 'message.text.body', 'must be text', 'number');
    });
  });

  describe('shape', () => {
    it('rejects an unknown message type at message.type, listing the supported ones', () => {
      const issue = expectIssue({ type: 'audio', audio: { id: '1' } }, 'message.type', '"audio"');
      for (const t of ['text', 'image', 'video', 'document', 'interactive']) assert.ok(issue.message.includes(`"${t}"`));
    });

    it('reports a missing type as required', () => {
      expectIssue({ text: { body: 'hi' } }, 'message.type', 'required');
    });

    it('rejects non-objects', () => {
      expectIssue(null, 'message', 'object');
      expectIssue('hello', 'message', 'object');
      expectIssue([], 'message', 'object');
    });

    it('rejects unknown keys, one issue per key at the key’s own path', () => {
      expectIssue(text('hi', { bdy: 'typo' }), 'message.text.bdy', 'unknown field', 'body');
      expectIssue({ ...text('hi'), to: '+5511999990000' }, 'message.to', 'unknown field');
      expectIssue(media('image', { id: '1', capton: 'x' }), 'message.image.capton', 'unknown field');
      expectIssue(buttonMessage({ fotter: { text: 'x' } }), 'message.interactive.fotter', 'unknown field');
      const issues = issuesOf({ ...text('hi'), messaging_product: 'whatsapp', recipient_type: 'individual' });
      assert.deepEqual(issues.map((i) => i.field).sort(), ['message.messaging_product', 'message.recipient_type']);
    });

    it('rejects a type whose payload sits under another key', () => {
      const issues = issuesOf({ type: 'image', video: { id: '1' } });
      assert.ok(issues.some((i) => i.field === 'message.image' && i.message === 'is required'));
      assert.ok(issues.some((i) => i.field === 'message.video' && i.message.includes('unknown field')));
    });

    it('reports every problem in one pass', () => {
      const issues = issuesOf(
        buttonMessage({
          footer: { text: s(61) },
          action: { buttons: [reply(s(21)), reply('No'), reply('No', 'x'), reply('Maybe')] },
        }),
      );
      const fields = issues.map((i) => i.field);
      assert.ok(fields.includes('message.interactive.footer.text'));
      assert.ok(fields.includes('message.interactive.action.buttons[0].reply.title'));
      assert.ok(fields.includes('message.interactive.action.buttons[2].reply.title'));
      assert.ok(fields.includes('message.interactive.action.buttons[3]'));
    });

    it('uses the given field prefix', () => {
      const result = validateMessageContent(text(''), 'body.rules[2].message');
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.issues[0]?.field, 'body.rules[2].message.text.body');
    });
  });

  describe('media', () => {
    for (const type of ['image', 'video', 'document'] as const) {
      describe(type, () => {
        it('accepts an id or an https link', () => {
          expectOk(media(type, { id: '1234567890' }));
          expectOk(media(type, { link: 'https://cdn.example.com/files/a.bin?v=2' }));
        });

        it('requires exactly one of id or link (neither)', () => {
          expectIssue(media(type, {}), `message.${type}`, 'exactly one of id or link', 'neither');
          expectIssue(media(type, { caption: 'x' }), `message.${type}`, 'exactly one of id or link');
        });

        it('requires exactly one of id or link (both)', () => {
          expectIssue(media(type, { id: '1', link: 'https://example.com/a' }), `message.${type}`, 'exactly one of id or link', 'both');
        });

        it('rejects a plain http link', () => {
          expectIssue(media(type, { link: 'http://example.com/a.png' }), `message.${type}.link`, 'absolute https URL');
        });

        it('rejects relative, non-URL, other-scheme and space-containing links', () => {
          for (const link of [
            '/files/a.png',
            'example.com/a.png',
            'ftp://example.com/a',
            'https:/a.png',
            'https://exa mple.com/a',
            ' https://example.com/a',
            '',
          ]) {
            expectIssue(media(type, { link }), `message.${type}.link`, 'absolute https URL');
          }
        });

        it('rejects an empty id', () => {
          expectIssue(media(type, { id: '' }), `message.${type}.id`, 'empty');
        });

        characterLimit(`${type} caption`, 1024, `message.${type}.caption`, (caption) => media(type, { id: '1', caption }));
      });
    }

    characterLimit('document filename', 240, 'message.document.filename', (filename) => media('document', { id: '1', filename }));

    it('rejects filename on image and video', () => {
      expectIssue(media('image', { id: '1', filename: 'a.png' }), 'message.image.filename', 'unknown field');
      expectIssue(media('video', { id: '1', filename: 'a.mp4' }), 'message.video.filename', 'unknown field');
    });
  });

  describe('interactive', () => {
    it('rejects an unknown interactive type', () => {
      expectIssue(
        { type: 'interactive', interactive: { type: 'carousel' } },
        'message.interactive.type',
        '"carousel"',
        '"button"',
        '"list"',
        '"cta_url"',
      );
    });

    describe('reply buttons', () => {
      it('accepts 1, 2 and 3 buttons', () => {
        expectOk(buttonMessage({ action: { buttons: [reply('Yes')] } }));
        expectOk(buttonMessage());
        expectOk(buttonMessage({ action: { buttons: [reply('Yes'), reply('No'), reply('Maybe')] } }));
      });

      it('rejects 4 buttons at the fourth, naming the limit', () => {
        expectIssue(
          buttonMessage({ action: { buttons: [reply('A'), reply('B'), reply('C'), reply('D')] } }),
          'message.interactive.action.buttons[3]',
          'at most 3 buttons',
          '(got 4)',
        );
      });

      it('rejects 0 buttons', () => {
        expectIssue(buttonMessage({ action: { buttons: [] } }), 'message.interactive.action.buttons', '1–3');
      });

      characterLimit('button title', 20, 'message.interactive.action.buttons[0].reply.title', (title) =>
        buttonMessage({ action: { buttons: [reply(title, 'b1')] } }),
      );

      characterLimit('button id', 256, 'message.interactive.action.buttons[0].reply.id', (id) =>
        buttonMessage({ action: { buttons: [reply('Yes', id)] } }),
      );

      it('rejects duplicate titles at the repeat', () => {
        expectIssue(
          buttonMessage({ action: { buttons: [reply('Yes', 'a'), reply('Yes', 'b')] } }),
          'message.interactive.action.buttons[1].reply.title',
          'must be unique ("Yes" appears twice)',
        );
      });

      it('rejects duplicate ids at the repeat', () => {
        const issues = issuesOf(buttonMessage({ action: { buttons: [reply('A', 'same'), reply('B', 'x'), reply('C', 'same')] } }));
        assert.deepEqual(issues, [{ field: 'message.interactive.action.buttons[2].reply.id', message: 'must be unique ("same" appears twice)' }]);
      });

      it('accepts emoji in a title', () => {
        expectOk(buttonMessage({ action: { buttons: [reply('👍 Yes'), reply('👎 No')] } }));
      });

      it('requires type "reply"', () => {
        expectIssue(
          buttonMessage({ action: { buttons: [{ type: 'url', reply: { id: 'a', title: 'A' } }] } }),
          'message.interactive.action.buttons[0].type',
          '"reply"',
        );
      });

      characterLimit('button body', 1024, 'message.interactive.body.text', (t) => buttonMessage({ body: { text: t } }));
      characterLimit('button header text', 60, 'message.interactive.header.text', (t) => buttonMessage({ header: { type: 'text', text: t } }));
      characterLimit('button footer', 60, 'message.interactive.footer.text', (t) => buttonMessage({ footer: { text: t } }));

      it('accepts media headers by id or https link', () => {
        expectOk(buttonMessage({ header: { type: 'image', image: { id: '123' } } }));
        expectOk(buttonMessage({ header: { type: 'video', video: { link: 'https://example.com/v.mp4' } } }));
        expectOk(buttonMessage({ header: { type: 'document', document: { link: 'https://example.com/a.pdf', filename: 'a.pdf' } } }));
      });

      it('applies exactly-one-of and https to media headers', () => {
        expectIssue(buttonMessage({ header: { type: 'image', image: {} } }), 'message.interactive.header.image', 'exactly one of id or link');
        expectIssue(
          buttonMessage({ header: { type: 'image', image: { id: '1', link: 'https://example.com/a.png' } } }),
          'message.interactive.header.image',
          'exactly one of id or link',
        );
        expectIssue(
          buttonMessage({ header: { type: 'image', image: { link: 'http://example.com/a.png' } } }),
          'message.interactive.header.image.link',
          'absolute https URL',
        );
      });

      it('rejects a caption on a media header and an unknown header type', () => {
        expectIssue(
          buttonMessage({ header: { type: 'image', image: { id: '1', caption: 'x' } } }),
          'message.interactive.header.image.caption',
          'unknown field',
        );
        expectIssue(buttonMessage({ header: { type: 'location' } }), 'message.interactive.header.type', '"location"');
      });

      it('requires a body', () => {
        const { body: _body, ...withoutBody } = buttonMessage().interactive;
        expectIssue({ type: 'interactive', interactive: withoutBody }, 'message.interactive.body', 'required');
      });
    });

    describe('cta_url', () => {
      it('accepts a valid message, with a text or image header', () => {
        expectOk(ctaMessage());
        expectOk(ctaMessage({ header: { type: 'text', text: 'Your order' }, footer: { text: 'Thanks' } }));
        expectOk(ctaMessage({ header: { type: 'image', image: { link: 'https://example.com/banner.png' } } }));
      });

      characterLimit('cta display text', 20, 'message.interactive.action.parameters.display_text', (display_text) =>
        ctaMessage({}, { display_text }),
      );
      characterLimit('cta body', 1024, 'message.interactive.body.text', (t) => ctaMessage({ body: { text: t } }));
      characterLimit('cta header text', 60, 'message.interactive.header.text', (t) => ctaMessage({ header: { type: 'text', text: t } }));
      characterLimit('cta footer', 60, 'message.interactive.footer.text', (t) => ctaMessage({ footer: { text: t } }));

      it('requires an absolute https url', () => {
        for (const url of ['http://shop.example.com', 'shop.example.com', '/track', 'javascript:alert(1)', 'mailto:a@b.c']) {
          expectIssue(ctaMessage({}, { url }), 'message.interactive.action.parameters.url', 'absolute https URL');
        }
        expectIssue(ctaMessage({}, { url: undefined }), 'message.interactive.action.parameters.url', 'required');
      });

      it('requires action.name "cta_url"', () => {
        const msg = ctaMessage();
        (msg.interactive.action as Record<string, unknown>).name = 'url';
        expectIssue(msg, 'message.interactive.action.name', '"cta_url"');
      });
    });

    describe('list', () => {
      it('accepts a valid list, without header or with a text header', () => {
        expectOk(listMessage());
        expectOk(listMessage({ header: { type: 'text', text: 'Survey' }, footer: { text: 'Thank you' } }));
      });

      for (const header of [
        { type: 'image', image: { id: '1' } },
        { type: 'video', video: { link: 'https://example.com/v.mp4' } },
        { type: 'document', document: { id: '1' } },
      ]) {
        it(`rejects a ${header.type} header with a clear message`, () => {
          expectIssue(listMessage({ header }), 'message.interactive.header.type', 'plain text', `"${header.type}"`);
        });
      }

      characterLimit('list header text', 60, 'message.interactive.header.text', (t) => listMessage({ header: { type: 'text', text: t } }));
      characterLimit('list body', 4096, 'message.interactive.body.text', (t) => listMessage({ body: { text: t } }));
      characterLimit('list footer', 60, 'message.interactive.footer.text', (t) => listMessage({ footer: { text: t } }));
      characterLimit('list button', 20, 'message.interactive.action.button', (button) => listMessage({}, { button }));
      characterLimit('row id', 200, 'message.interactive.action.sections[0].rows[0].id', (id) => oneRowList({ id }));
      characterLimit('row title', 24, 'message.interactive.action.sections[0].rows[0].title', (title) => oneRowList({ title }));
      characterLimit('row description', 72, 'message.interactive.action.sections[0].rows[0].description', (description) =>
        oneRowList({ description }),
      );
      characterLimit('section title', 24, 'message.interactive.action.sections[0].title', (title) => oneSectionList({ title }));

      it('accepts 10 sections and rejects 11 at the eleventh', () => {
        const sections = (n: number) => Array.from({ length: n }, (_, i) => ({ title: `Section ${i}`, rows: [{ id: `r${i}`, title: 'Row' }] }));
        expectOk(listMessage({}, { sections: sections(10) }));
        expectIssue(listMessage({}, { sections: sections(11) }), 'message.interactive.action.sections[10]', 'at most 10 sections', '(got 11)');
      });

      it('rejects zero sections and a section with zero rows', () => {
        expectIssue(listMessage({}, { sections: [] }), 'message.interactive.action.sections', '1–10 sections');
        expectIssue(listMessage({}, { sections: [{ rows: [] }] }), 'message.interactive.action.sections[0].rows', 'at least 1 row');
      });

      it('accepts 10 rows in total across sections', () => {
        expectOk(
          listMessage(
            {},
            {
              sections: [
                { title: 'A', rows: rows(4, 'a') },
                { title: 'B', rows: rows(6, 'b') },
              ],
            },
          ),
        );
        expectOk(listMessage({}, { sections: [{ rows: rows(10) }] }));
      });

      it('rejects 11 rows in total across sections, at the eleventh row', () => {
        expectIssue(
          listMessage(
            {},
            {
              sections: [
                { title: 'A', rows: rows(4, 'a') },
                { title: 'B', rows: rows(7, 'b') },
              ],
            },
          ),
          'message.interactive.action.sections[1].rows[6]',
          'at most 10 rows in total',
          '(got 11)',
        );
        expectIssue(listMessage({}, { sections: [{ rows: rows(11) }] }), 'message.interactive.action.sections[0].rows[10]', 'at most 10 rows');
      });

      it('requires a section title when there is more than one section', () => {
        const issues = issuesOf(listMessage({}, { sections: [{ title: 'A', rows: rows(1, 'a') }, { rows: rows(1, 'b') }] }));
        assert.deepEqual(issues, [
          {
            field: 'message.interactive.action.sections[1].title',
            message: 'is required when the list has more than one section (this list has 2)',
          },
        ]);
      });

      it('does not require a title for a single section', () => {
        expectOk(listMessage({}, { sections: [{ rows: rows(3) }] }));
      });

      it('rejects a row id repeated in another section', () => {
        expectIssue(
          listMessage(
            {},
            {
              sections: [
                { title: 'A', rows: [{ id: 'dup', title: 'One' }] },
                { title: 'B', rows: [{ id: 'dup', title: 'Two' }] },
              ],
            },
          ),
          'message.interactive.action.sections[1].rows[0].id',
          'must be unique across the list ("dup" appears twice)',
        );
      });

      it('reports a third repeat as appearing 3 times', () => {
        const issues = issuesOf(
          oneSectionList({
            rows: [
              { id: 'x', title: 'a' },
              { id: 'x', title: 'b' },
              { id: 'x', title: 'c' },
            ],
          }),
        );
        assert.deepEqual(
          issues.map((i) => i.field),
          ['message.interactive.action.sections[0].rows[1].id', 'message.interactive.action.sections[0].rows[2].id'],
        );
        assert.ok(issues.every((i) => i.message.includes('3 times')));
      });

      it('accepts the CSAT survey shape (5 fixed rows)', () => {
        const survey = listMessage(
          { body: { text: 'How did we do?' } },
          {
            button: 'Rate us',
            sections: [
              {
                rows: [
                  { id: 'csat-5', title: '5 Very satisfied' },
                  { id: 'csat-4', title: '4 Satisfied' },
                  { id: 'csat-3', title: '3 Neutral' },
                  { id: 'csat-2', title: '2 Dissatisfied' },
                  { id: 'csat-1', title: '1 Very dissatisfied' },
                ],
              },
            ],
          },
        );
        expectOk(survey);
      });
    });
  });

  describe('ice breakers', () => {
    it('accepts up to 4 prompts, and none', () => {
      assert.ok(iceBreakerPromptsSchema.safeParse([]).success);
      assert.ok(iceBreakerPromptsSchema.safeParse(['Track my order', 'Talk to a person', 'Opening hours', 'Return a product']).success);
    });

    it('rejects 5 prompts at the fifth', () => {
      const issues = promptIssues(['a', 'b', 'c', 'd', 'e']);
      assert.deepEqual(issues, [{ field: 'prompts[4]', message: 'at most 4 prompts (got 5)' }]);
    });

    it('accepts 80 characters and rejects 81 and empty', () => {
      assert.ok(iceBreakerPromptsSchema.safeParse([s(80)]).success);
      assert.deepEqual(promptIssues(['ok', s(81)]), [{ field: 'prompts[1]', message: 'must be 1–80 characters (got 81)' }]);
      assert.deepEqual(promptIssues(['']), [{ field: 'prompts[0]', message: 'must be 1–80 characters (got 0)' }]);
    });

    for (const [kind, prompt, emoji] of [
      ['a face', 'Hello 😀', '😀'],
      ['a package', 'Where is my 📦?', '📦'],
      ['a flag', 'Entregas no Brasil 🇧🇷', '🇧🇷'],
      ['a heart with VS16', 'We ❤️ you', '❤️'],
      ['a heart without VS16', 'We ❤ you', '❤'],
      ['a keycap', 'Press 1️⃣ for sales', '1️⃣'],
      ['a keycap without VS16', 'Press 1\u20E3', '1\u20E3'],
      ['a skin-tone ZWJ sequence', 'Ask 👩🏽‍💻 support', '👩🏽‍💻'],
      ['©️ in emoji presentation', 'Brand©️', '©️'],
    ] as const) {
      it(`rejects ${kind}, naming the prompt index and quoting it`, () => {
        const issues = promptIssues(['Fine', 'Also fine', prompt]);
        assert.equal(issues.length, 1);
        assert.equal(issues[0]?.field, 'prompts[2]');
        assert.ok(issues[0]?.message.startsWith('must not contain emoji'));
        assert.ok(issues[0]?.message.includes(JSON.stringify(prompt)), issues[0]?.message);
        assert.ok(issues[0]?.message.includes(`contains ${emoji}`), issues[0]?.message);
      });
    }

    it('gives the example message from the brief', () => {
      assert.deepEqual(promptIssues(['a', 'b', 'Where is my 📦?']), [
        { field: 'prompts[2]', message: 'must not contain emoji ("Where is my 📦?" contains 📦)' },
      ]);
    });

    it('accepts accents, CJK, punctuation, digits, # and *', () => {
      const prompts = [
        '¿Dónde está mi pedido? Ação, façade, naïve',
        '注文の状況を確認する / 我的订单在哪里',
        'Order #123 * 2 — 50% off! (R$ 49,90) "quoted" & more…',
        '0123456789 # * ©2025 Acme™',
      ];
      const result = iceBreakerPromptsSchema.safeParse(prompts);
      assert.ok(result.success, JSON.stringify(!result.success && result.error.issues));
    });

    it('rejects non-string prompts', () => {
      assert.equal(promptIssues(['ok', 7])[0]?.field, 'prompts[1]');
    });
  });

  describe('zodIssuesToFieldIssues', () => {
    const schema = z.strictObject({ rules: z.array(z.strictObject({ 'delay-ms': z.number(), name: z.string() })) });

    it('formats nested paths with indexes and quotes non-identifier keys', () => {
      const result = schema.safeParse({
        rules: [
          { 'delay-ms': 1, name: 'a' },
          { 'delay-ms': 'x', name: 'b' },
        ],
      });
      assert.ok(!result.success);
      assert.deepEqual(
        zodIssuesToFieldIssues(result.error, 'body').map((i) => i.field),
        ['body.rules[1]["delay-ms"]'],
      );
    });

    it('splits unrecognized keys into one issue each, with a readable default', () => {
      const result = schema.safeParse({ rules: [], extra: 1, other: 2 });
      assert.ok(!result.success);
      assert.deepEqual(zodIssuesToFieldIssues(result.error, 'body'), [
        { field: 'body.extra', message: 'unknown field' },
        { field: 'body.other', message: 'unknown field' },
      ]);
    });

    it('works with an empty prefix', () => {
      const result = schema.safeParse({ rules: [{ 'delay-ms': 1 }] });
      assert.ok(!result.success);
      assert.equal(zodIssuesToFieldIssues(result.error, '')[0]?.field, 'rules[0].name');
    });
  });

  describe('messageContentSchema', () => {
    it('can be embedded in a larger schema and keeps its messages', () => {
      const body = z.strictObject({ message: messageContentSchema });
      const result = body.safeParse({ message: buttonMessage({ action: { buttons: [reply(s(21))] } }) });
      assert.ok(!result.success);
      assert.deepEqual(zodIssuesToFieldIssues(result.error, 'body'), [
        { field: 'body.message.interactive.action.buttons[0].reply.title', message: 'must be 1–20 characters (got 21)' },
      ]);
    });
  });

  describe('describeMessageContent', () => {
    it('previews text, media and interactive content', () => {
      assert.equal(describeMessageContent(expectOk(text('Hi *there*'))), 'Hi *there*');
      assert.equal(describeMessageContent(expectOk(media('image', { id: '1', caption: 'Your receipt' }))), '[image] Your receipt');
      assert.equal(describeMessageContent(expectOk(media('video', { link: 'https://example.com/v.mp4' }))), '[video]');
      assert.equal(describeMessageContent(expectOk(media('document', { id: '1', filename: 'invoice.pdf' }))), '[document] invoice.pdf');
      assert.equal(describeMessageContent(expectOk(buttonMessage())), 'Did that solve it?');
      assert.equal(describeMessageContent(expectOk(ctaMessage())), 'Track your order online');
      assert.equal(describeMessageContent(expectOk(listMessage())), 'How satisfied are you?');
    });

    it('collapses whitespace and truncates long text without splitting emoji', () => {
      assert.equal(describeMessageContent(expectOk(text('line one\n\n  line two'))), 'line one line two');
      const preview = describeMessageContent(expectOk(text(s(300, '😀'))), 10);
      assert.equal(preview, `${s(9, '😀')}…`);
    });
  });

  describe('R15 queue placeholders', () => {
    it('when a queue message holds {{position}} and {{ahead}}, then every text the customer reads is filled and ids are left alone', () => {
      const message = {
        type: 'interactive',
        interactive: {
          type: 'button',
          header: { type: 'text', text: 'Place {{position}}' },
          body: { text: 'You are number {{position}}; {{ahead}} ahead. {{position}}!' },
          action: { buttons: [{ type: 'reply', reply: { id: 'wait', title: 'I will wait' } }] },
        },
      };
      assert.equal(hasQueuePlaceholders(message), true);
      const filled = fillQueuePlaceholders(message, { position: 3, ahead: 2 });
      assert.equal(filled.interactive.header.text, 'Place 3');
      assert.equal(filled.interactive.body.text, 'You are number 3; 2 ahead. 3!');
      assert.deepEqual(filled.interactive.action, message.interactive.action);
      assert.equal(message.interactive.body.text.includes('{{position}}'), true, 'the original is not changed');
    });

    it('when a message has no placeholder, then it is left as it is', () => {
      const message = { type: 'image', image: { link: 'https://example.com/a.png', caption: 'position: {{positions}}' } };
      assert.equal(hasQueuePlaceholders(message), false);
      assert.deepEqual(fillQueuePlaceholders(message, { position: 1, ahead: 0 }), message);
    });
  });
});
