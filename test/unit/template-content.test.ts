/**
 * Template messages (SPEC §4 template row, R16) at their limits: what an agent or a bot may
 * send by name, checked before it reaches Meta, with the field named when refused.
 */
import assert from 'node:assert/strict';
import { describeMessageContent, validateMessageContent, validateReplyContent, type FieldIssue } from '../../src/whatsapp/message-content';

const template = (name: string, code = 'en', components?: unknown) => ({
  type: 'template',
  template: { name, language: { code }, ...(components === undefined ? {} : { components }) },
});
const body = (...texts: string[]) => [{ type: 'body', parameters: texts.map((text) => ({ type: 'text', text })) }];

function issuesOf(value: unknown): FieldIssue[] {
  const result = validateReplyContent(value);
  if (result.ok) assert.fail(`expected ${JSON.stringify(value).slice(0, 120)} to be refused`);
  return result.issues;
}

function expectIssueAt(value: unknown, field: string, mention: string): void {
  const hit = issuesOf(value).find((i) => i.field === field);
  assert.ok(hit, `an issue at ${field}: ${JSON.stringify(issuesOf(value))}`);
  assert.ok(hit.message.includes(mention), `${JSON.stringify(hit.message)} mentions ${mention}`);
}

describe('template message content (replies)', () => {
  it('when the name is 512 characters of a-z0-9_, then it is accepted; 513, then refused at template.name', () => {
    assert.equal(validateReplyContent(template('a'.repeat(512))).ok, true);
    expectIssueAt(template('a'.repeat(513)), 'message.template.name', '1–512');
  });

  it('when the name has capitals, spaces or dashes, or is empty, then it is refused at template.name', () => {
    for (const name of ['Order_update', 'order update', 'order-update', '']) expectIssueAt(template(name), 'message.template.name', 'a-z');
  });

  it('when the language is "en" or "pt_BR", then it is accepted; "EN", "pt-BR" or "english", then refused at language.code', () => {
    assert.equal(validateReplyContent(template('csat_survey', 'en')).ok, true);
    assert.equal(validateReplyContent(template('csat_survey', 'pt_BR')).ok, true);
    for (const code of ['EN', 'pt-BR', 'english', ''])
      expectIssueAt(template('csat_survey', code), 'message.template.language.code', 'language code');
  });

  it('when a body parameter is 1,024 characters, then it is accepted; 1,025, then refused at that parameter', () => {
    assert.equal(validateReplyContent(template('order_update', 'en', body('x'.repeat(1024)))).ok, true);
    expectIssueAt(template('order_update', 'en', body('ok', 'x'.repeat(1025))), 'message.template.components[0].parameters[1].text', '1–1024');
  });

  it('when a component has an unknown type or a field is misspelt, then the field is named', () => {
    expectIssueAt(template('order_update', 'en', [{ type: 'footer', parameters: [] }]), 'message.template.components[0].type', '"header"');
    expectIssueAt(
      { type: 'template', template: { name: 'order_update', language: { code: 'en' }, lang: 'en' } },
      'message.template.lang',
      'unknown field',
    );
  });

  it('when a quick-reply button carries a payload, then it is accepted; an index of "10", then refused', () => {
    const button = (index: string) => [{ type: 'button', sub_type: 'quick_reply', index, parameters: [{ type: 'payload', payload: 'csat:5' }] }];
    assert.equal(validateReplyContent(template('csat_survey', 'en', button('0'))).ok, true);
    expectIssueAt(template('csat_survey', 'en', button('10')), 'message.template.components[0].index', '"0"–"9"');
  });

  it('when a template is given where automation settings expect a message, then it is refused: templates are for replies', () => {
    const result = validateMessageContent(template('order_update'));
    assert.equal(result.ok, false);
  });

  it('when a template is previewed, then it shows its name', () => {
    const result = validateReplyContent(template('order_update', 'en', body('A-1042')));
    assert.ok(result.ok);
    assert.equal(describeMessageContent(result.value), '[template order_update]');
  });
});
