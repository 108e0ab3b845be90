/** WhatsApp's text formatting, rendered as WhatsApp shows it: *bold* _italic_ ~strike~ ```mono```. */
import type { ReactNode } from 'react';

const PATTERN = /```([\s\S]+?)```|\*([^*\n]+)\*|_([^_\n]+)_|~([^~\n]+)~/;

export function formatWhatsApp(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let rest = text;
  let key = 0;
  while (rest.length > 0) {
    const m = PATTERN.exec(rest);
    if (!m) {
      out.push(rest);
      break;
    }
    if (m.index > 0) out.push(rest.slice(0, m.index));
    const [, mono, bold, italic, strike] = m;
    if (mono !== undefined) out.push(<code key={key++}>{mono}</code>);
    else if (bold !== undefined) out.push(<strong key={key++}>{formatWhatsApp(bold)}</strong>);
    else if (italic !== undefined) out.push(<em key={key++}>{formatWhatsApp(italic)}</em>);
    else if (strike !== undefined) out.push(<s key={key++}>{formatWhatsApp(strike)}</s>);
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

interface Content {
  type?: string;
  [k: string]: unknown;
}

/** The main text of a message content object, whatever its type. */
export function contentText(content: Content | null | undefined): string {
  if (!content) return '';
  const k = content as Record<string, unknown>;
  if (typeof k.kind === 'string') {
    // An inbound message as the webhook parser stores it.
    switch (k.kind) {
      case 'text':
        return String(k.body ?? '');
      case 'media':
        return `[${String(k.mediaType)}]${k.caption ? ` ${String(k.caption)}` : k.filename ? ` ${String(k.filename)}` : ''}`;
      case 'button_reply':
      case 'list_reply':
        return String(k.title ?? '');
      case 'template_button':
        return String(k.text ?? '');
      case 'location':
        return `[location] ${String(k.name ?? k.address ?? `${String(k.latitude)}, ${String(k.longitude)}`)}`;
      case 'contacts':
        return `[contacts] ${((k.names as string[] | undefined) ?? []).join(', ')}`;
      case 'reaction':
        return `[reaction ${String(k.emoji ?? '')}]`;
      case 'system':
        return String(k.body ?? '[system]');
      case 'request_welcome':
        return '[opened the chat]';
      default:
        return `[${String(k.unsupportedType ?? k.type ?? k.kind)}]`;
    }
  }
  const c = content as Record<string, Record<string, unknown> | undefined>;
  switch (content.type) {
    case 'text':
      return String(c.text?.body ?? '');
    case 'image':
    case 'video':
    case 'document':
    case 'audio':
    case 'sticker': {
      const media = c[content.type] ?? {};
      return String(media.caption ?? media.filename ?? `[${content.type}]`);
    }
    case 'interactive': {
      const i = c.interactive as { body?: { text?: string }; button_reply?: { title?: string }; list_reply?: { title?: string } } | undefined;
      return i?.body?.text ?? i?.button_reply?.title ?? i?.list_reply?.title ?? '[interactive]';
    }
    case 'button':
      return String((c.button as { text?: string } | undefined)?.text ?? '[button]');
    case 'template': {
      const t = c.template as
        { name?: string; language?: { code?: string }; components?: { type?: string; parameters?: { text?: string }[] }[] } | undefined;
      const parameters = (t?.components ?? []).filter((x) => x.type === 'body').flatMap((x) => (x.parameters ?? []).map((p) => p.text ?? ''));
      return `Template ${t?.name ?? ''}${t?.language?.code ? ` (${t.language.code})` : ''}${parameters.length ? `: ${parameters.join(' · ')}` : ''}`;
    }
    default:
      return content.type ? `[${content.type}]` : '';
  }
}

/** A message bubble as WhatsApp would show it: body, media line, buttons or list. */
export function WhatsAppBubble({ content, outgoing = true }: { content: Content | null | undefined; outgoing?: boolean }) {
  const text = contentText(content);
  const c = (content ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const media = content && ['image', 'video', 'document'].includes(String(content.type)) ? c[String(content.type)] : undefined;
  const interactive = content?.type === 'interactive' ? (c.interactive as Record<string, unknown>) : undefined;
  const buttons =
    (interactive?.action as { buttons?: { reply?: { title?: string } }[] } | undefined)?.buttons?.map((b) => b.reply?.title ?? '') ?? [];
  const listButton = (interactive?.action as { button?: string } | undefined)?.button;
  const linkButton =
    interactive?.type === 'cta_url'
      ? (interactive.action as { parameters?: { display_text?: string } } | undefined)?.parameters?.display_text
      : undefined;
  return (
    <div className={outgoing ? 'wa-bubble wa-out' : 'wa-bubble wa-in'}>
      {media ? <div className="wa-media">{`${String(content?.type)}: ${String(media.link ?? media.id ?? '')}`}</div> : null}
      <div className="wa-text">{formatWhatsApp(text)}</div>
      {buttons.length > 0 || listButton || linkButton ? (
        <div className="wa-buttons">
          {buttons.map((b, i) => (
            <span key={i} className="wa-button">
              {b}
            </span>
          ))}
          {listButton ? <span className="wa-button">☰ {listButton}</span> : null}
          {linkButton ? <span className="wa-button">↗ {linkButton}</span> : null}
        </div>
      ) : null}
    </div>
  );
}
