/**
 * The normalised events a WhatsApp webhook POST carries. The parser turns Meta's
 * nested envelope (entry[] × changes[] × messages[]/statuses[]/errors[]) into a flat
 * list of these, so the receiver never walks Meta's shapes itself.
 */

/** Who the customer is. `key` is what we identify them by (BSUID first, else phone). */
export interface ContactIdentity {
  /** Stable identity key: `user_id`/`from_user_id` (BSUID) when present, else `wa_id`/`from`. */
  key: string;
  userId: string | null;
  waId: string | null;
  profileName: string | null;
}

/** The inbound message types Meta documents; anything else is `unknown`. */
export type InboundMessageType =
  | 'text'
  | 'image'
  | 'video'
  | 'audio'
  | 'document'
  | 'sticker'
  | 'location'
  | 'contacts'
  | 'interactive'
  | 'button'
  | 'reaction'
  | 'order'
  | 'system'
  | 'unsupported'
  | 'request_welcome'
  | 'edit'
  | 'revoke'
  | 'unknown';

/** A normalised summary of the message content, for display and for the rules. */
export type InboundContent =
  | { kind: 'text'; body: string }
  | {
      kind: 'media';
      mediaType: 'image' | 'video' | 'audio' | 'document' | 'sticker';
      mediaId: string | null;
      mimeType: string | null;
      caption: string | null;
      filename: string | null;
      voice?: boolean;
      animated?: boolean;
    }
  | { kind: 'location'; latitude: number | null; longitude: number | null; name: string | null; address: string | null }
  | { kind: 'contacts'; names: string[] }
  | { kind: 'button_reply'; id: string; title: string }
  | { kind: 'list_reply'; id: string; title: string; description: string | null }
  | { kind: 'template_button'; payload: string; text: string }
  | { kind: 'reaction'; messageId: string; emoji: string | null }
  | { kind: 'system'; systemType: string | null; body: string | null }
  | { kind: 'unsupported'; unsupportedType: string | null }
  | { kind: 'request_welcome' }
  | { kind: 'other'; type: string };

export interface GraphErrorDetail {
  code: number | null;
  title: string | null;
  message: string | null;
  details: string | null;
}

export interface InboundMessageEvent {
  kind: 'message';
  /** Meta's business phone number id (routing key; not a phone number). */
  phoneNumberId: string;
  /** The wamid; the deduplication key. */
  wamid: string;
  /** When the customer sent it (Meta's timestamp). */
  sentAt: Date;
  type: InboundMessageType;
  /** The raw `type` string as Meta sent it (kept for unknown types). */
  rawType: string;
  contact: ContactIdentity;
  content: InboundContent;
  /** The wamid this replies to (context.id), if any. */
  contextMessageId: string | null;
  /** Click-to-WhatsApp ad referral, kept as sent. */
  referral: Record<string, unknown> | null;
  /** errors[] on unsupported messages (and value-level errors attached to an interactive without body). */
  errors: GraphErrorDetail[];
  /** Whether this message counts as customer activity for the 24 h window (R11). */
  opensServiceWindow: boolean;
  /** The message object exactly as received. */
  raw: Record<string, unknown>;
}

export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'played' | 'failed' | 'unknown';

export interface StatusEvent {
  kind: 'status';
  phoneNumberId: string;
  /** The wamid of our outbound message. */
  wamid: string;
  status: DeliveryStatus;
  rawStatus: string;
  at: Date;
  recipient: { userId: string | null; waId: string | null };
  errors: GraphErrorDetail[];
  raw: Record<string, unknown>;
}

/** value.errors[] or a change whose field we do not process; stored and logged, never a crash. */
export interface OtherEvent {
  kind: 'other';
  phoneNumberId: string | null;
  field: string;
  reason: string;
  raw: unknown;
}

export type WebhookEvent = InboundMessageEvent | StatusEvent | OtherEvent;
